package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.testkit.NoBlocking;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Dials whose senders are gone before the connection is up: such a connection is still held to
 * {@code maxOutboundConnections} and idle close, and closing the transport does not wait for a dial
 * still looking its host up.
 */
class TcpDialLifecycleTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  private final List<TcpTransport> transports = new CopyOnWriteArrayList<>();

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }

  @AfterEach
  void closeAll() {
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
    assertThat(NoBlocking.calls()).as("blocking calls on event loops").isEmpty();
  }

  private TcpTransport started(
      RequestHandler handler,
      Consumer<TcpTransportOptions.Builder> opts,
      Function<Address, Mono<InetSocketAddress>> resolver) {
    TcpTransportOptions.Builder b = TcpTransportOptions.builder();
    opts.accept(b);
    TcpTransport t = TcpTransport.create(b.build(), resolver);
    transports.add(t);
    t.start(handler).block(BOUND);
    return t;
  }

  private TcpTransport started(RequestHandler handler) {
    return started(handler, b -> {}, TcpDialLifecycleTest::literal);
  }

  /** Resolves the IP literals these tests dial, at once. */
  private static Mono<InetSocketAddress> literal(Address to) {
    return Mono.fromCallable(
        () -> new InetSocketAddress(InetAddress.getByName(to.host()), to.port()));
  }

  /**
   * A resolver that answers for {@code held} only once {@code gate} completes (a dial held before
   * it connects), for any other address at once.
   */
  private static Function<Address, Mono<InetSocketAddress>> heldBy(
      Sinks.Empty<Void> gate, Address held) {
    return to -> to.equals(held) ? gate.asMono().then(literal(to)) : literal(to);
  }

  private static Request ping(TcpTransport from) {
    return new Request.Ping(Messages.contact(2, from.localAddress()));
  }

  @Test
  void aDialWhoseSenderCancelledCountsAgainstMaxOutboundConnections() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(3));
    Sinks.Empty<Void> gate = Sinks.empty();
    TcpTransport client =
        started(
            new EchoHandler(2), o -> o.maxOutboundConnections(1), heldBy(gate, a.localAddress()));

    Disposable abandoned = client.send(a.localAddress(), ping(client)).subscribe(r -> {}, e -> {});
    abandoned.dispose();
    gate.tryEmitEmpty();
    Await.until("the abandoned dial to connect", () -> a.stats().openConnections() == 1);
    Await.until("the abandoned dial to settle", () -> client.reservedConnections() == 0);

    StepVerifier.create(client.send(b.localAddress(), ping(client)))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);

    // Past the bound, the connection nobody took is the one to go, not the one just used.
    Await.until("the connection nobody took to be retired", () -> a.stats().openConnections() == 0);
    assertThat(b.stats().openConnections()).isEqualTo(1);
    assertThat(client.stats().openConnections()).isEqualTo(1);
    assertThat(client.stats().evictedConnections()).isEqualTo(1);
  }

  @Test
  void aDialThatOutlivesItsRequestTimeoutCountsAgainstMaxOutboundConnections() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(3));
    Sinks.Empty<Void> gate = Sinks.empty();
    TcpTransport client =
        started(
            new EchoHandler(2),
            // Generous for the request to b under load; the one to a waits for the gate.
            o -> o.maxOutboundConnections(1).requestTimeout(Duration.ofSeconds(2)),
            heldBy(gate, a.localAddress()));
    StepVerifier.create(client.send(a.localAddress(), ping(client)))
        .expectError(KadTimeoutException.class)
        .verify(BOUND);
    gate.tryEmitEmpty();
    Await.until("the late dial to connect", () -> a.stats().openConnections() == 1);
    Await.until("the late dial to settle", () -> client.reservedConnections() == 0);

    StepVerifier.create(client.send(b.localAddress(), ping(client)))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);

    Await.until("the late dial to be retired", () -> a.stats().openConnections() == 0);
    assertThat(b.stats().openConnections()).isEqualTo(1);
    assertThat(client.stats().openConnections()).isEqualTo(1);
  }

  @Test
  void anAbandonedDialIsStillClosedWhenIdle() {
    TcpTransport a = started(new EchoHandler(1));
    Sinks.Empty<Void> gate = Sinks.empty();
    TcpTransport client =
        started(
            new EchoHandler(2),
            o -> o.idleTimeout(Duration.ofMillis(100)),
            heldBy(gate, a.localAddress()));

    client.send(a.localAddress(), ping(client)).subscribe(r -> {}, e -> {}).dispose();
    gate.tryEmitEmpty();

    Await.until("the abandoned dial to connect", () -> client.stats().dialedConnections() == 1);
    Await.until("the idle connection to close", () -> client.stats().openConnections() == 0);
    assertThat(client.stats().idleClosed()).isEqualTo(1);
  }

  @Test
  void closeDoesNotWaitForAHostLookupAndFailsItsRequestAsClosed() {
    TcpTransport client =
        started(
            new EchoHandler(2),
            o -> o.requestTimeout(Duration.ofMinutes(5)),
            to -> Mono.never()); // a name server that never answers
    Address byName = new Address("seed.invalid", 7000);

    StepVerifier.create(client.send(byName, ping(client)))
        .expectSubscription()
        .then(() -> client.close().block(BOUND))
        .expectError(NodeClosedException.class)
        .verify(Duration.ofSeconds(5));
  }
}
