package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.Transport;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * The {@link TransportContract} is only worth running if it fails broken transports: each test here
 * runs one contract test against an in-memory transport broken in one way and expects it to fail.
 */
class TransportContractTest {

  private final Scheduler realTime = Schedulers.newParallel("contract-of-contract", 2);
  private final SimulatedNetwork network =
      new SimulatedNetwork(realTime, 0xBAD).latency(Duration.ofMillis(1), Duration.ofMillis(3));

  @AfterEach
  void closeNetwork() {
    network.close().block(Duration.ofSeconds(10));
    realTime.dispose();
  }

  @Test
  void catchesATransportWhosePendingRequestsTimeOutInsteadOfFailingOnClose() {
    Harness harness = new Harness(LetsPendingTimeOutOnClose::new);

    assertThatThrownBy(harness::closeFailsPendingRequestsAndLaterSends)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("KadTimeoutException");
  }

  @Test
  void catchesATransportThatTimesOutAtOnce() {
    Harness harness = new Harness(TimesOutAtOnce::new);

    assertThatThrownBy(harness::sendToPeerThatNeverAnswersErrorsWithTimeout)
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void catchesATransportThatSendsBeforeSubscription() {
    Harness harness = new Harness(SendsEagerly::new);

    assertThatThrownBy(harness::sendTransmitsNothingUntilSubscribed)
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void catchesATransportThatHasAnAddressBeforeStart() {
    Harness harness = new Harness(AddressBeforeStart::new);

    assertThatThrownBy(harness::localAddressBeforeStartIsAnIllegalState)
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void catchesATransportThatDropsTheClientMark() {
    Harness harness = new Harness(DropsTheClientMark::new);

    assertThatThrownBy(harness::everyRequestTypeCarriesItsClientMark)
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("message=full node");
  }

  @Test
  void passesTheInMemoryTransportAsItIs() {
    Harness harness = new Harness(UnaryOperator.identity());

    harness.closeFailsPendingRequestsAndLaterSends();
    harness.sendToPeerThatNeverAnswersErrorsWithTimeout();
    harness.sendTransmitsNothingUntilSubscribed();
    harness.localAddressBeforeStartIsAnIllegalState();
    harness.everyRequestTypeCarriesItsClientMark();
  }

  /** The contract over this test's network, each transport wrapped by {@code breaker}. */
  private final class Harness implements TransportContract {
    private final UnaryOperator<Transport> breaker;

    Harness(UnaryOperator<Transport> breaker) {
      this.breaker = breaker;
      network.requestTimeout(requestTimeout());
    }

    @Override
    public Transport newTransport() {
      return breaker.apply(network.newTransport());
    }

    @Override
    public Duration requestTimeout() {
      // Generous for the same reason as in InMemoryTransportTest: the contract also passes the
      // unbroken transport here, in real time, and its answers must come within this timeout.
      return Duration.ofSeconds(2);
    }
  }

  /** Delegates everything; subclasses break one thing. */
  private abstract static class Wrapper extends ForwardingTransport {
    final Transport inner;

    Wrapper(Transport inner) {
      super(inner);
      this.inner = inner;
    }
  }

  /**
   * Requests pending at close end with a timeout, as if close forgot them; later sends are fine.
   */
  private static final class LetsPendingTimeOutOnClose extends Wrapper {
    private final AtomicBoolean closed = new AtomicBoolean();

    LetsPendingTimeOutOnClose(Transport inner) {
      super(inner);
    }

    @Override
    public Mono<Response> send(Address to, Request request) {
      return Mono.defer(
          () -> {
            boolean sentOpen = !closed.get();
            return inner
                .send(to, request)
                .onErrorResume(
                    NodeClosedException.class,
                    e ->
                        sentOpen
                            ? Mono.delay(Duration.ofMillis(400))
                                .then(Mono.error(new KadTimeoutException("timed out")))
                            : Mono.error(e));
          });
    }

    @Override
    public Mono<Void> close() {
      return Mono.fromRunnable(() -> closed.set(true)).then(inner.close());
    }
  }

  /** Its request timer fires almost at once. */
  private static final class TimesOutAtOnce extends Wrapper {
    TimesOutAtOnce(Transport inner) {
      super(inner);
    }

    @Override
    public Mono<Response> send(Address to, Request request) {
      return inner
          .send(to, request)
          .timeout(Duration.ofMillis(5), Mono.error(new KadTimeoutException("timed out")));
    }
  }

  /** Transmits at assembly, not at subscription. */
  private static final class SendsEagerly extends Wrapper {
    SendsEagerly(Transport inner) {
      super(inner);
    }

    @Override
    public Mono<Response> send(Address to, Request request) {
      Mono<Response> sent = inner.send(to, request).cache();
      sent.subscribe(response -> {}, error -> {});
      return sent;
    }
  }

  /** Sends every request as a full node's, as a codec without the field would. */
  private static final class DropsTheClientMark extends Wrapper {
    DropsTheClientMark(Transport inner) {
      super(inner);
    }

    @Override
    public Mono<Response> send(Address to, Request request) {
      return inner.send(to, request.withFromClient(false));
    }
  }

  /** Answers {@code localAddress()} before start. */
  private static final class AddressBeforeStart extends Wrapper {
    AddressBeforeStart(Transport inner) {
      super(inner);
    }

    @Override
    public Address localAddress() {
      return ((InMemoryTransport) inner).address();
    }
  }
}
