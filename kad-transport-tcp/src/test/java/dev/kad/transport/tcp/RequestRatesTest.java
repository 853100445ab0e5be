package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The token buckets of {@code maxRequestsPerSecondPerIp}, on a clock the test moves. */
class RequestRatesTest {

  private final AtomicLong now = new AtomicLong(-5_000_000_000L); // nanoTime may be negative
  private final RequestRates rates = new RequestRates(10, now::get);

  private static int taken(RequestRates.Bucket bucket, int tries) {
    int n = 0;
    for (int i = 0; i < tries; i++) {
      if (bucket.tryAcquire()) {
        n++;
      }
    }
    return n;
  }

  @Test
  void aFullBucketLetsOneSecondsWorthThroughAtOnceAndNoMore() {
    RequestRates.Bucket bucket = rates.opened("192.0.2.1");
    assertThat(taken(bucket, 25)).isEqualTo(10);
  }

  @Test
  void aBucketRefillsAtTheRateAndNeverHoldsMoreThanOneSecondsWorth() {
    RequestRates.Bucket bucket = rates.opened("192.0.2.1");
    assertThat(taken(bucket, 10)).isEqualTo(10);
    now.addAndGet(99_000_000L);
    assertThat(bucket.tryAcquire()).as("99 ms after, under one token's 100 ms").isFalse();
    now.addAndGet(1_000_000L);
    assertThat(taken(bucket, 5)).as("one token after 100 ms").isEqualTo(1);
    now.addAndGet(60_000_000_000L);
    assertThat(taken(bucket, 25)).as("a minute idle still holds one second's worth").isEqualTo(10);
  }

  @Test
  void sourcesHaveBucketsOfTheirOwnAndConnectionsOfOneSourceShareOne() {
    RequestRates.Bucket a = rates.opened("192.0.2.1");
    RequestRates.Bucket sameSource = rates.opened("192.0.2.1");
    RequestRates.Bucket b = rates.opened("2001:db8:0:1::/64");
    assertThat(sameSource).isSameAs(a);
    assertThat(taken(a, 10)).isEqualTo(10);
    assertThat(sameSource.tryAcquire()).isFalse();
    assertThat(taken(b, 10)).isEqualTo(10);
    assertThat(rates.size()).isEqualTo(2);
  }

  @Test
  void aSourcesBucketIsDroppedOnceItHasNoConnectionAndHasRefilled() throws Exception {
    ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
    try {
      RequestRates.Bucket idle = rates.opened("192.0.2.1");
      rates.closed(idle, later);
      assertThat(rates.size()).as("full: dropped at once").isZero();

      RequestRates.Bucket drained = rates.opened("192.0.2.2");
      RequestRates.Bucket second = rates.opened("192.0.2.2");
      taken(drained, 10);
      rates.closed(drained, later);
      assertThat(rates.size()).as("one connection left").isEqualTo(1);
      rates.closed(second, later);
      assertThat(rates.size()).as("empty: kept until refilled").isEqualTo(1);
      RequestRates.Bucket reconnected = rates.opened("192.0.2.2");
      assertThat(reconnected.tryAcquire()).as("reconnecting does not refill it").isFalse();
      // moved before the close: the check it schedules reads the test's clock when it runs
      now.addAndGet(1_000_000_000L);
      rates.closed(reconnected, later);
      assertThat(rates.size()).as("refilled when its last connection closed").isZero();
    } finally {
      later.shutdownNow();
    }
  }

  @Test
  void aBucketFoundNotYetFullByItsCheckIsCheckedAgainUntilItIsDropped() {
    ScheduledThreadPoolExecutor later = new ScheduledThreadPoolExecutor(1);
    try {
      RequestRates.Bucket drained = rates.opened("192.0.2.2");
      taken(drained, 10);
      now.addAndGet(500_000_000L);
      rates.closed(drained, later); // half refilled: checked again in 0.5 s
      Await.until("the first check", () -> later.getCompletedTaskCount() == 1);
      assertThat(rates.size()).as("the test's clock stood still: not yet full").isEqualTo(1);

      now.addAndGet(500_000_000L);

      Await.until("the bucket to be dropped", () -> rates.size() == 0);
    } finally {
      later.shutdownNow();
    }
  }

  @Test
  void aRateThatIsNotPositiveIsRefused() {
    assertThatThrownBy(() -> new RequestRates(0, now::get))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("perSecond must be positive but was 0");
  }
}
