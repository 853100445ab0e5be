package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.util.RaceTestUtils;

/** The bound on open streams, per client and in all, without a server. */
class StreamLimitTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  private final StreamLimit limit =
      new StreamLimit("watch", "kad.web.max-watches", 3, 2, Duration.ofSeconds(15));

  @Test
  void aClientPastItsBoundIsRefusedNamingTheBoundAndWhenToRetry() {
    limit.bound("a", Flux.never()).subscribe();
    limit.bound("a", Flux.never()).subscribe();
    StepVerifier.create(limit.bound("a", Flux.never()))
        .expectErrorSatisfies(
            e -> {
              assertThat(e)
                  .isInstanceOf(TooManyStreamsException.class)
                  .hasMessage(
                      "this client has 2 watch streams open, the most one client may have"
                          + " (kad.web.max-watches-per-client): close one before opening another");
              assertThat(((TooManyStreamsException) e).retryAfter())
                  .isEqualTo(Duration.ofSeconds(15));
            })
        .verify(BOUND);
    assertThat(limit.open("a")).isEqualTo(2);
    assertThat(limit.open()).isEqualTo(2);
  }

  @Test
  void theBoundInAllCountsEveryClient() {
    limit.bound("a", Flux.never()).subscribe();
    limit.bound("a", Flux.never()).subscribe();
    limit.bound("b", Flux.never()).subscribe();
    StepVerifier.create(limit.bound("c", Flux.never()))
        .expectErrorMessage(
            "the server has 3 watch streams open, the most it keeps (kad.web.max-watches):"
                + " retry later")
        .verify(BOUND);
    assertThat(limit.open("c")).isZero();
    assertThat(limit.open()).isEqualTo(3);
  }

  @Test
  void aCancelledStreamFreesItsSlotOnce() {
    Disposable first = limit.bound("a", Flux.never()).subscribe();
    limit.bound("a", Flux.never()).subscribe();
    first.dispose();
    first.dispose();
    assertThat(limit.open("a")).isEqualTo(1);
    limit.bound("a", Flux.never()).subscribe();
    assertThat(limit.open("a")).isEqualTo(2);
    StepVerifier.create(limit.bound("a", Flux.never()))
        .expectError(TooManyStreamsException.class)
        .verify(BOUND);
  }

  @Test
  void aStreamThatCompletesOrFailsFreesItsSlotBeforeTheClientHearsOfIt() {
    AtomicInteger openAtEnd = new AtomicInteger(-1);
    StepVerifier.create(
            limit.bound("a", Flux.just(1, 2)).doOnComplete(() -> openAtEnd.set(limit.open())))
        .expectNext(1, 2)
        .expectComplete()
        .verify(BOUND);
    assertThat(openAtEnd).hasValue(0);
    StepVerifier.create(
            limit
                .bound("a", Flux.concat(Flux.just(1), Flux.error(new IllegalStateException("x"))))
                .doOnError(e -> openAtEnd.set(limit.open())))
        .expectNext(1)
        .expectError(IllegalStateException.class)
        .verify(BOUND);
    assertThat(openAtEnd).hasValue(0);
    assertThat(limit.open("a")).isZero();
  }

  @Test
  void aStreamThatCannotBeMadeFreesItsSlot() {
    StepVerifier.create(
            limit.bound(
                "a",
                Flux.defer(
                    () -> {
                      throw new IllegalArgumentException("bad");
                    })))
        .expectErrorMessage("bad")
        .verify(BOUND);
    assertThat(limit.open()).isZero();
  }

  @Test
  void clientsLeavingLeaveNothingBehind() {
    for (int i = 0; i < 1000; i++) {
      limit.bound("client-" + i, Flux.just(i)).blockLast(BOUND);
    }
    assertThat(limit.clients()).isZero();
    assertThat(limit.open()).isZero();
  }

  @Test
  void concurrentOpeningsNeverPassTheBoundNorLeak() {
    StreamLimit one = new StreamLimit("watch", "kad.web.max-watches", 1, 1, Duration.ofSeconds(1));
    for (int i = 0; i < 200; i++) {
      AtomicInteger refused = new AtomicInteger();
      Disposable[] streams = new Disposable[2];
      RaceTestUtils.race(
          () ->
              streams[0] =
                  one.bound("a", Flux.never()).subscribe(x -> {}, e -> refused.incrementAndGet()),
          () ->
              streams[1] =
                  one.bound("b", Flux.never()).subscribe(x -> {}, e -> refused.incrementAndGet()));
      assertThat(one.open()).isEqualTo(1);
      assertThat(refused).hasValue(1);
      RaceTestUtils.race(streams[0]::dispose, streams[1]::dispose);
      assertThat(one.open()).isZero();
      assertThat(one.clients()).isZero();
    }
  }

  @Test
  void invalidBoundsFailNamingTheProperty() {
    assertThatThrownBy(
            () -> new StreamLimit("watch", "kad.web.max-watches", 0, 1, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kad.web.max-watches must be positive but was 0");
    assertThatThrownBy(
            () -> new StreamLimit("watch", "kad.web.max-watches", 1, -3, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("kad.web.max-watches-per-client must be positive but was -3");
  }

  @Test
  void aClientIsItsAddressAnIpv6ClientItsSlash64AndOneWithoutAnAddressTheSharedBucket()
      throws UnknownHostException {
    assertThat(StreamLimit.clientOf(null)).isEqualTo(StreamLimit.NO_ADDRESS);
    assertThat(StreamLimit.clientOf(new InetSocketAddress(InetAddress.getByName("10.0.0.5"), 1)))
        .isEqualTo("10.0.0.5");
    // One host gets a whole /64 and picks its addresses in it (privacy addresses).
    assertThat(
            StreamLimit.clientOf(
                new InetSocketAddress(InetAddress.getByName("2001:db8:1:2:aaaa::1"), 1)))
        .isEqualTo("2001:db8:1:2::/64")
        .isEqualTo(
            StreamLimit.clientOf(
                new InetSocketAddress(InetAddress.getByName("2001:db8:1:2:bbbb::7"), 2)));
    assertThat(
            StreamLimit.clientOf(
                new InetSocketAddress(InetAddress.getByName("::ffff:10.0.0.5"), 1)))
        .isEqualTo("10.0.0.5");
    assertThat(StreamLimit.clientOf(InetSocketAddress.createUnresolved("somewhere", 1)))
        .isEqualTo("somewhere");
  }
}
