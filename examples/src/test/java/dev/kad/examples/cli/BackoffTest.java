package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * {@link Backoff}: 1 s doubling up to 30 s, jittered within those bounds, told before each wait.
 */
class BackoffTest {

  @Test
  void delaysDoubleFromOneSecondUpToThirtyJitteredByAtMostHalf() {
    RandomGenerator random = new SplittableRandom(1);
    for (int i = 0; i < 1000; i++) {
      assertThat(Backoff.delay(0, random)).isBetween(seconds(1), millis(1500));
      assertThat(Backoff.delay(1, random)).isBetween(seconds(1), seconds(3));
      assertThat(Backoff.delay(3, random)).isBetween(seconds(4), seconds(12));
      assertThat(Backoff.delay(5, random)).isBetween(seconds(15), seconds(30));
      assertThat(Backoff.delay(Long.MAX_VALUE, random)).isBetween(seconds(15), seconds(30));
    }
    // the extremes of the jitter stay within the bounds
    assertThat(Backoff.delay(0, lowest())).isEqualTo(seconds(1));
    assertThat(Backoff.delay(40, highest())).isEqualTo(seconds(30));
    assertThat(Backoff.delay(4, highest())).isEqualTo(seconds(24));
  }

  @Test
  void retriesWhatItIsToldToAfterTheDelayItReportsAndPassesOtherFailuresOn() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    try {
      List<Duration> reported = new CopyOnWriteArrayList<>();
      int[] attempts = {0};
      Mono<String> flaky =
          Mono.defer(
              () ->
                  ++attempts[0] < 4
                      ? Mono.error(new IllegalStateException("not yet"))
                      : Mono.just("ok"));

      StepVerifier.withVirtualTime(
              () ->
                  flaky.retryWhen(
                      Backoff.retry(
                          IllegalStateException.class::isInstance,
                          (e, d) -> reported.add(d),
                          time)),
              () -> time,
              Long.MAX_VALUE)
          .expectSubscription()
          .thenAwait(Duration.ofMinutes(1))
          .expectNext("ok")
          .verifyComplete();
      assertThat(reported).hasSize(3);
      assertThat(reported.get(0)).isBetween(seconds(1), millis(1500));
      assertThat(reported.get(2)).isBetween(seconds(2), seconds(6));

      StepVerifier.create(
              Mono.error(new IllegalArgumentException("bad seed"))
                  .retryWhen(
                      Backoff.retry(
                          IllegalStateException.class::isInstance,
                          (e, d) -> reported.add(d),
                          time)))
          .verifyErrorMessage("bad seed");
      assertThat(reported).hasSize(3);
    } finally {
      time.dispose();
    }
  }

  private static Duration seconds(long s) {
    return Duration.ofSeconds(s);
  }

  private static Duration millis(long ms) {
    return Duration.ofMillis(ms);
  }

  private static RandomGenerator lowest() {
    return always(false);
  }

  private static RandomGenerator highest() {
    return always(true);
  }

  /** Draws every bounded long at the low or the high end of its range. */
  private static RandomGenerator always(boolean high) {
    return new RandomGenerator() {
      @Override
      public long nextLong() {
        return 0;
      }

      @Override
      public long nextLong(long origin, long bound) {
        return high ? bound - 1 : origin;
      }
    };
  }
}
