package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadException;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Runs the {@link TransportContract} on a real-time network (small random latencies, so answers
 * overtake each other), plus the in-memory specifics on virtual time.
 */
class InMemoryTransportTest implements TransportContract {

  private static final Duration REAL_TIME_GUARD = Duration.ofSeconds(10);

  private final Scheduler realTime = Schedulers.newParallel("in-memory-contract", 4);
  private final SimulatedNetwork network =
      new SimulatedNetwork(realTime, 0xC0FFEE)
          .latency(Duration.ofMillis(1), Duration.ofMillis(3))
          .requestTimeout(requestTimeout());

  private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  private final SimulatedNetwork virtual = new SimulatedNetwork(vts, 0xC0FFEE);
  private final SplittableRandom random = new SplittableRandom(0xC0FFEE);

  @Override
  public Transport newTransport() {
    return network.newTransport();
  }

  @Override
  public Duration requestTimeout() {
    // Generous, as in TcpTransportTest: every leg hops through a real-time scheduler, and the
    // first request of the JVM loads the classes on its path. On a loaded two-core machine a
    // Ping took longer than 300 ms. The contract waits out this timeout in three tests only.
    return Duration.ofSeconds(2);
  }

  @Override
  public void cleanup() {
    network.close().block(REAL_TIME_GUARD);
    virtual.close().block(REAL_TIME_GUARD);
    realTime.dispose();
    vts.dispose();
  }

  @Test
  void sendToAnAddressNeverHandedOutFailsAtOnceWithUnreachable() {
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());

    StepVerifier.create(client.send(new Address("10.99.99.99", 4000), ping(client)))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOf(UnreachableContactException.class)
                    .hasMessageContaining("10.99.99.99:4000"))
        .verify(REAL_TIME_GUARD);
    assertThat(client.pendingRequests()).isZero();
  }

  @Test
  void startingAStartedTransportAgainSaysATransportServesOneNode() {
    // The newcomer's mistake: one transport handed to two KadNodes.builder()s.
    InMemoryTransport t = started(virtual.newTransport(), request -> Mono.never());

    StepVerifier.create(t.start(request -> Mono.never()))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(t.address() + " was already started")
                    .hasMessageContaining("a transport serves one node"))
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void sendToAClosedPeerTimesOut() {
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());
    InMemoryTransport peer = virtual.newTransport();
    peer.close().block(REAL_TIME_GUARD);
    List<Object> outcomes = new ArrayList<>();

    client.send(peer.address(), ping(client)).subscribe(outcomes::add, outcomes::add);
    vts.advanceTimeBy(virtual.requestTimeout());

    assertThat(outcomes).singleElement().isInstanceOf(KadTimeoutException.class);
  }

  @Test
  void sendBeforeStartErrorsWithIllegalState() {
    InMemoryTransport client = virtual.newTransport();
    InMemoryTransport server = pongServer();

    StepVerifier.create(client.send(server.address(), ping(server)))
        .expectError(IllegalStateException.class)
        .verify(REAL_TIME_GUARD);
    assertThatThrownBy(client::localAddress).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void handlerIsSubscribedOncePerRequest() {
    AtomicInteger subscriptions = new AtomicInteger();
    Contact self = new Contact(NodeId.random(random), new Address("10.0.0.1", 4000));
    InMemoryTransport server =
        started(
            virtual.newTransport(),
            request ->
                Mono.<Response>fromCallable(() -> new Response.Pong(self))
                    .doOnSubscribe(s -> subscriptions.incrementAndGet()));
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());

    for (int i = 0; i < 3; i++) {
      StepVerifier.create(client.send(server.address(), ping(client)))
          .expectNextCount(1)
          .expectComplete()
          .verify(REAL_TIME_GUARD);
    }

    assertThat(subscriptions).hasValue(3);
  }

  @Test
  void cancellingASendReleasesItsPendingRequestAndDropsTheLateResponse() {
    virtual.latency(Duration.ofMillis(10));
    InMemoryTransport server = pongServer();
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());
    List<Object> outcomes = new ArrayList<>();

    Disposable call = client.send(server.address(), ping(client)).subscribe(outcomes::add);
    assertThat(client.pendingRequests()).isOne();
    call.dispose();
    vts.advanceTimeBy(virtual.requestTimeout());

    assertThat(client.pendingRequests()).isZero();
    assertThat(outcomes).isEmpty();
    assertThat(virtual.traffic(server.address()).delivered()).as("late response").isOne();
  }

  @Test
  void closeFailsPendingRequestsWithNodeClosed() {
    InMemoryTransport server = started(virtual.newTransport(), request -> Mono.never());
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());
    List<Object> outcomes = new ArrayList<>();
    client.send(server.address(), ping(client)).subscribe(outcomes::add, outcomes::add);

    client.close().block(REAL_TIME_GUARD);

    assertThat(outcomes).singleElement().isInstanceOf(NodeClosedException.class);
    assertThat(client.pendingRequests()).isZero();
  }

  @Test
  void closingAServerCancelsItsHandlersInProgress() {
    AtomicInteger cancelled = new AtomicInteger();
    InMemoryTransport server =
        started(
            virtual.newTransport(),
            request -> Mono.<Response>never().doOnCancel(cancelled::incrementAndGet));
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());
    client.send(server.address(), ping(client)).subscribe(response -> {}, error -> {});

    server.close().block(REAL_TIME_GUARD);

    assertThat(cancelled).hasValue(1);
  }

  @Test
  void handlerErrorBeforeAnyAnswerErrorsTheCallerWithKadException() {
    InMemoryTransport server =
        started(virtual.newTransport(), request -> Mono.error(new IllegalStateException("bug")));
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());

    StepVerifier.create(client.send(server.address(), ping(client)))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isExactlyInstanceOf(KadException.class)
                    .hasMessageContaining(server.address().toString())
                    .hasMessageContaining("bug"))
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void handlerErrorAfterAnAnswerIsAFailureFromTheServingContact() {
    Contact self = new Contact(NodeId.random(random), new Address("10.0.0.1", 4000));
    InMemoryTransport server =
        started(
            virtual.newTransport(),
            request ->
                request instanceof Request.Ping
                    ? Mono.just(new Response.Pong(self))
                    : Mono.empty());
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());
    client.send(server.address(), ping(client)).block(REAL_TIME_GUARD);

    StepVerifier.create(
            client.send(
                server.address(), new Request.FindNode(contact(client), NodeId.random(random))))
        .assertNext(
            response ->
                assertThat(response)
                    .isInstanceOfSatisfying(
                        Response.Failure.class,
                        failure -> {
                          assertThat(failure.sender()).isEqualTo(self);
                          assertThat(failure.code()).isEqualTo(Response.Code.INTERNAL);
                          assertThat(failure.message()).contains("FindNode");
                        }))
        .expectComplete()
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void restartedNodeAtTheSameAddressAnswersAgain() {
    InMemoryTransport client = started(virtual.newTransport(), request -> Mono.never());
    InMemoryTransport first = pongServer();
    Address address = first.address();
    first.close().block(REAL_TIME_GUARD);

    InMemoryTransport second = virtual.newTransport(address);
    Contact self = new Contact(NodeId.random(random), address);
    started(second, request -> Mono.just(new Response.Pong(self)));

    StepVerifier.create(client.send(address, ping(client)))
        .expectNext(new Response.Pong(self))
        .expectComplete()
        .verify(REAL_TIME_GUARD);
  }

  // ---- helpers ----

  private static InMemoryTransport started(InMemoryTransport transport, RequestHandler handler) {
    transport.start(handler).block(REAL_TIME_GUARD);
    return transport;
  }

  private InMemoryTransport pongServer() {
    InMemoryTransport transport = virtual.newTransport();
    Contact self = new Contact(NodeId.random(random), transport.address());
    return started(transport, request -> Mono.just(new Response.Pong(self)));
  }

  private Contact contact(InMemoryTransport transport) {
    return new Contact(NodeId.random(random), transport.address());
  }

  private Request.Ping ping(InMemoryTransport from) {
    return new Request.Ping(contact(from));
  }
}
