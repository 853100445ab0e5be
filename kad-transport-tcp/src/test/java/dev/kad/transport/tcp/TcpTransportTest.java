package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.KadException;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.Key;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.NoBlocking;
import dev.kad.testkit.TransportContract;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.epoll.Epoll;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.ref.WeakReference;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.netty.resources.LoopResources;
import reactor.test.StepVerifier;

/**
 * The transport contract of the testkit, plus what is particular to TCP: formats, connection reuse,
 * idleness, limits, and releasing everything on close.
 */
class TcpTransportTest implements TransportContract {

  private static final Duration BOUND = Duration.ofSeconds(10);

  private final List<TcpTransport> transports = new CopyOnWriteArrayList<>();

  @Override
  public Transport newTransport() {
    TcpTransport t =
        TcpTransport.create(TcpTransportOptions.builder().requestTimeout(requestTimeout()).build());
    transports.add(t);
    return t;
  }

  @Override
  public Duration requestTimeout() {
    // Generous: 200 concurrent requests, dials included, under paranoid leak detection on a
    // shared two-core machine once took longer than half a second.
    return Duration.ofSeconds(2);
  }

  @Override
  public void cleanup() {
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
    assertThat(NoBlocking.calls()).as("blocking calls on event loops").isEmpty();
  }

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }

  private TcpTransport started(RequestHandler handler, Consumer<TcpTransportOptions.Builder> opts) {
    TcpTransportOptions.Builder b = TcpTransportOptions.builder();
    opts.accept(b);
    TcpTransport t = TcpTransport.create(b.build());
    transports.add(t);
    t.start(handler).block(BOUND);
    return t;
  }

  private TcpTransport started(RequestHandler handler) {
    return started(handler, b -> {});
  }

  private static Contact me(TcpTransport t, int seed) {
    return Messages.contact(seed, t.localAddress());
  }

  private static List<Request> everyRequest(Contact sender) {
    Key key = Key.of("k");
    return List.of(
        new Request.Ping(sender),
        new Request.FindNode(sender, Messages.id(9)),
        new Request.FindValue(sender, key),
        new Request.Store(sender, key, List.of(Messages.value(100), Messages.value(3)), false),
        new Request.Subscribe(sender, key, Duration.ofMinutes(10)),
        new Request.Unsubscribe(sender, key),
        new Request.Notify(sender, key, List.of(Messages.value(5))));
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void everyRequestTypeIsAnsweredOverLoopback(WireFormat format) {
    EchoHandler echo = new EchoHandler(1);
    TcpTransport server = started(echo, b -> b.format(format));
    TcpTransport client = started(new EchoHandler(2), b -> b.format(format));
    for (Request request : everyRequest(me(client, 2))) {
      StepVerifier.create(client.send(server.localAddress(), request))
          .expectNext(echo.answer(request))
          .expectComplete()
          .verify(BOUND);
    }
    assertThat(client.stats().dialedConnections()).isEqualTo(1);
    assertThat(server.stats().acceptedConnections()).isEqualTo(1);
    assertThat(server.stats().violations()).isZero();
  }

  @Test
  void hundredsOfConcurrentRequestsAreMatchedToTheirResponses() {
    // answers come back in a shuffled order: each waits a different time
    RequestHandler slowEcho =
        request -> {
          Response r = new EchoHandler(1).answer(request);
          int delay = request instanceof Request.FindNode f ? (f.target().byteAt(19) & 0x0f) : 0;
          return Mono.delay(Duration.ofMillis(delay)).thenReturn(r);
        };
    TcpTransport server = started(slowEcho);
    TcpTransport client = started(new EchoHandler(2));
    Contact sender = me(client, 2);
    int n = 500;
    Map<Integer, Boolean> matched =
        Flux.range(0, n)
            .flatMap(
                i ->
                    client
                        .send(server.localAddress(), new Request.FindNode(sender, Messages.id(i)))
                        .map(
                            r ->
                                Map.entry(
                                    i,
                                    ((Response.NodesFound) r)
                                        .contacts()
                                        .get(0)
                                        .id()
                                        .equals(Messages.id(i)))),
                n)
            .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue))
            .block(BOUND);
    assertThat(matched).hasSize(n).doesNotContainValue(false);
    assertThat(client.stats().dialedConnections()).isEqualTo(1);
    assertThat(client.stats().pendingRequests()).isZero();
  }

  @Test
  void aConnectionCarriesRequestsBothWaysOnceADialBackConfirmsIt() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(2));
    Request.Ping fromA = new Request.Ping(me(a, 1));
    StepVerifier.create(b.send(a.localAddress(), new Request.Ping(me(b, 2))))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
    // a's first request to b dials back, which confirms that b opened the connection
    StepVerifier.create(a.send(b.localAddress(), fromA))
        .expectNextMatches(r -> r.sender().equals(new EchoHandler(2).self))
        .expectComplete()
        .verify(BOUND);
    assertThat(a.stats().dialedConnections()).isEqualTo(1);
    assertThat(a.stats().claimsConfirmed()).isEqualTo(1);
    // the dial-back closes once answered; from then on a answers b over the connection b opened
    Await.until("the dial-back to close", () -> a.stats().openConnections() == 1);
    for (int i = 0; i < 3; i++) {
      StepVerifier.create(a.send(b.localAddress(), fromA))
          .expectNextMatches(Response.Pong.class::isInstance)
          .expectComplete()
          .verify(BOUND);
    }
    assertThat(a.stats().dialedConnections()).isEqualTo(1);
    assertThat(b.stats().acceptedConnections()).isEqualTo(1);
    Await.until("one connection at b", () -> b.stats().openConnections() == 1);
    assertThat(a.stats().claimsRefuted()).isZero();
  }

  @Test
  void aPeerThatDialedThisNodeByAHostNameIsConfirmedToo() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(2));
    // b knows a as "localhost", a advertises 127.0.0.1: the same socket either way
    Address aByName = new Address("localhost", a.localAddress().port());
    b.send(aByName, new Request.Ping(me(b, 2))).block(BOUND);
    a.send(b.localAddress(), new Request.Ping(me(a, 1))).block(BOUND);
    assertThat(a.stats().claimsConfirmed()).isEqualTo(1);
    assertThat(a.stats().claimsRefuted()).isZero();
  }

  @Test
  void aPeerOnTheSameIpCannotTakeOverAnotherNodesAddress() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(2));
    TcpTransport mallory = started(new EchoHandler(3));
    // mallory, on b's IP, tells a that it is b, listening at b's address
    Contact impostor = new Contact(new EchoHandler(2).self.id(), b.localAddress());
    mallory.send(a.localAddress(), new Request.Ping(impostor)).block(BOUND);
    // a's requests for b reach b, not mallory, now and later
    for (int i = 0; i < 3; i++) {
      StepVerifier.create(a.send(b.localAddress(), new Request.FindNode(me(a, 1), Messages.id(9))))
          .expectNextMatches(
              r ->
                  r instanceof Response.NodesFound n
                      && n.contacts().get(0).address().equals(new EchoHandler(2).self.address())
                      && r.sender().equals(new EchoHandler(2).self))
          .expectComplete()
          .verify(BOUND);
    }
    assertThat(mallory.stats().acceptedConnections()).isZero();
    assertThat(a.stats().claimsRefuted()).isEqualTo(1);
    assertThat(a.stats().claimsConfirmed()).isZero();
    assertThat(a.stats().dialedConnections()).isEqualTo(1);
    // the impostor's own connection still gets answers
    StepVerifier.create(mallory.send(a.localAddress(), new Request.Ping(impostor)))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void aConnectionFromAnAddressOtherThanTheAdvertisedOneIsNotReused() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(2));
    Contact liar = Messages.contact(2, new Address("10.9.9.9", b.localAddress().port()));
    b.send(a.localAddress(), new Request.Ping(liar)).block(BOUND);
    a.send(b.localAddress(), new Request.Ping(me(a, 1))).block(BOUND);
    assertThat(a.stats().dialedConnections()).isEqualTo(1);
    assertThat(a.stats().claimsConfirmed() + a.stats().claimsRefuted()).isZero();
  }

  @Test
  void aSilentPeerTimesOut() {
    TcpTransport server = started(request -> Mono.never());
    TcpTransport client =
        started(new EchoHandler(2), b -> b.requestTimeout(Duration.ofMillis(200)));
    StepVerifier.create(client.send(server.localAddress(), new Request.Ping(me(client, 2))))
        .expectErrorSatisfies(
            e ->
                // Worded as the engine words its own timeout, so one output never says both.
                assertThat(e)
                    .isInstanceOf(KadTimeoutException.class)
                    .hasMessage(
                        "no answer from "
                            + server.localAddress()
                            + " to Ping within 200 ms (requestTimeout)"))
        .verify(BOUND);
    assertThat(client.stats().pendingRequests()).isZero();
  }

  @Test
  void aLateResponseIsDroppedAndCounted() {
    AtomicInteger served = new AtomicInteger();
    Sinks.Empty<Void> answerLate = Sinks.empty();
    // The first request is answered at once (it opens the connection), the second only once the
    // client has given up on it, however slow the machine: a timed answer raced the client's
    // timer. The timeout counts the dial of the first request too, so it is not short.
    TcpTransport server =
        started(
            request ->
                (served.getAndIncrement() == 0 ? Mono.<Void>empty() : answerLate.asMono())
                    .thenReturn(new EchoHandler(1).answer(request)));
    TcpTransport client = started(new EchoHandler(2), b -> b.requestTimeout(Duration.ofSeconds(2)));
    client.send(server.localAddress(), new Request.Ping(me(client, 2))).block(BOUND);
    StepVerifier.create(client.send(server.localAddress(), new Request.Ping(me(client, 2))))
        .expectError(KadTimeoutException.class)
        .verify(BOUND);
    answerLate.tryEmitEmpty();
    Await.until("the late response", () -> client.stats().lateResponses() == 1);
    assertThat(client.stats().violations()).isZero();
    assertThat(client.stats().openConnections()).isEqualTo(1);
  }

  @Test
  void aRefusedConnectionIsUnreachable() throws IOException {
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    TcpTransport client = started(new EchoHandler(2));
    StepVerifier.create(
            client.send(new Address("127.0.0.1", port), new Request.Ping(me(client, 2))))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(UnreachableContactException.class)
                    .hasMessageContaining("127.0.0.1:" + port))
        .verify(BOUND);
  }

  @Test
  void aClosedConnectionFailsItsPendingRequestsAtOnce() {
    TcpTransport server = started(request -> Mono.never());
    TcpTransport client = started(new EchoHandler(2), b -> b.requestTimeout(Duration.ofMinutes(5)));
    StepVerifier.create(client.send(server.localAddress(), new Request.Ping(me(client, 2))))
        .then(
            () -> Await.until("the request in flight", () -> client.stats().pendingRequests() == 1))
        .then(() -> server.close().block(BOUND))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(UnreachableContactException.class)
                    .hasMessage("connection to " + server.localAddress() + " closed"))
        .verify(BOUND);
    assertThat(client.stats().pendingRequests()).isZero();
  }

  /**
   * A peer that goes silent (a process stopped, a host that stopped answering) and whose connection
   * then closes as its requests time out: the dialer's preface timeout and the request timeout are
   * both 5 s by default, so with a stopped peer they fire together. Each request fails once, with
   * the timeout or the close, and nothing is left to Reactor's onErrorDropped hook, whose default
   * logs an ERROR with a stack trace (seen on {@code kad get}'s stderr and in a node's log).
   */
  @Test
  void requestsThatTimeOutAsTheirConnectionClosesFailOnceAndDropNothing() {
    List<Throwable> dropped = new CopyOnWriteArrayList<>();
    Hooks.onErrorDropped(dropped::add);
    try {
      int requests = 1_000;
      Duration timeout = Duration.ofMillis(500);
      for (int round = 0; round < 10 && dropped.isEmpty(); round++) {
        TcpTransport server = started(request -> Mono.never());
        TcpTransport client = started(new EchoHandler(2), b -> b.requestTimeout(timeout));
        AtomicInteger failed = new AtomicInteger();
        Request ping = new Request.Ping(me(client, 2));
        long start = System.nanoTime();
        for (int i = 0; i < requests; i++) {
          client
              .send(server.localAddress(), ping)
              .subscribe(r -> {}, e -> failed.incrementAndGet());
        }
        // The close fails the pending requests on an event loop as their timeouts fire.
        Duration sent = Duration.ofNanos(System.nanoTime() - start);
        Mono.delay(timeout.minus(sent).minusMillis(round % 3)).then(server.close()).block(BOUND);
        Await.until("every request failed", () -> failed.get() == requests);
        assertThat(client.stats().pendingRequests()).isZero();
      }
      assertThat(dropped).as("errors dropped to Reactor's hook").isEmpty();
    } finally {
      Hooks.resetOnErrorDropped();
    }
  }

  @Test
  void aRequestOnAConnectionThePeerClosesIsSentAgainOnANewOne() throws Exception {
    TcpTransport client = started(new EchoHandler(2));
    Request ping = new Request.Ping(me(client, 2));
    try (ServerSocket listener = new ServerSocket()) {
      listener.bind(new InetSocketAddress("127.0.0.1", 0));
      listener.setSoTimeout((int) BOUND.toMillis());
      Address peer = new Address("127.0.0.1", listener.getLocalPort());
      var first = client.send(peer, ping).toFuture();
      java.net.Socket connection = listener.accept();
      try {
        RawPeer raw = new RawPeer(connection, peer);
        raw.greet();
        raw.answer(raw.readRequest());
        assertThat(first.get(BOUND.toMillis(), TimeUnit.MILLISECONDS))
            .isInstanceOf(Response.Pong.class);
        // The peer reads the next request, then closes the connection, as an idle close racing
        // with a request on the wire does.
        var second = client.send(peer, ping).toFuture();
        raw.readRequest();
        connection.close();
        // The request comes again on a new connection, and its answer is taken.
        try (java.net.Socket again = listener.accept()) {
          RawPeer retried = new RawPeer(again, peer);
          retried.greet();
          retried.answer(retried.readRequest());
          assertThat(second.get(BOUND.toMillis(), TimeUnit.MILLISECONDS))
              .isInstanceOf(Response.Pong.class);
        }
      } finally {
        connection.close();
      }
    }
    assertThat(client.stats().dialedConnections()).isEqualTo(2);
  }

  /** A kad peer played by a blocking socket: JSON, no nonces. */
  private record RawPeer(java.net.Socket socket, Address self) {
    RawPeer {
      try {
        socket.setSoTimeout((int) BOUND.toMillis());
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Reads the dialer's preface and answers with an acceptor's. */
    void greet() throws IOException {
      new DataInputStream(socket.getInputStream()).readNBytes(Preface.LENGTH);
      OutputStream out = socket.getOutputStream();
      out.write(new byte[] {'K', 'A', 'D', Preface.VERSION, 0});
      out.write(new byte[Preface.LENGTH - 5]);
      out.flush();
    }

    String readRequest() throws IOException {
      DataInputStream in = new DataInputStream(socket.getInputStream());
      return new String(in.readNBytes(in.readInt()), StandardCharsets.UTF_8);
    }

    void answer(String request) throws IOException {
      Matcher rid = Pattern.compile("\"rid\":(\\d+)").matcher(request);
      assertThat(rid.find()).as(request).isTrue();
      String pong =
          "{\"rid\":"
              + rid.group(1)
              + ",\"msg\":{\"type\":\"pong\",\"sender\":{\"id\":\""
              + Base64.getEncoder().encodeToString(new byte[20])
              + "\",\"host\":\"127.0.0.1\",\"port\":"
              + self.port()
              + "}}}";
      byte[] body = pong.getBytes(StandardCharsets.UTF_8);
      DataOutputStream out = new DataOutputStream(socket.getOutputStream());
      out.writeInt(body.length);
      out.write(body);
      out.flush();
    }
  }

  @Test
  void closeFailsPendingRequestsAndLaterOnesWithNodeClosed() {
    TcpTransport server = started(request -> Mono.never());
    TcpTransport client = started(new EchoHandler(2), b -> b.requestTimeout(Duration.ofMinutes(5)));
    Request ping = new Request.Ping(me(client, 2));
    StepVerifier.create(client.send(server.localAddress(), ping))
        .then(
            () -> Await.until("the request in flight", () -> client.stats().pendingRequests() == 1))
        .then(() -> client.close().block(BOUND))
        .expectError(NodeClosedException.class)
        .verify(BOUND);
    StepVerifier.create(client.send(server.localAddress(), ping))
        .expectError(NodeClosedException.class)
        .verify(BOUND);
    StepVerifier.create(client.close()).expectComplete().verify(BOUND);
    StepVerifier.create(client.start(new EchoHandler(3)))
        .expectError(NodeClosedException.class)
        .verify(BOUND);
  }

  @Test
  void closeReleasesConnectionsThreadsAndThePort() throws IOException {
    String name = "close-check-" + System.identityHashCode(this);
    TcpTransport a = started(new EchoHandler(1), b -> b.name(name));
    TcpTransport b = started(new EchoHandler(2));
    b.send(a.localAddress(), new Request.Ping(me(b, 2))).block(BOUND);
    a.send(b.localAddress(), new Request.Ping(me(a, 1))).block(BOUND);
    a.send(b.localAddress(), new Request.FindNode(me(a, 1), Messages.id(3))).block(BOUND);
    assertThat(threadsNamed(name)).isNotEmpty();

    StepVerifier.create(a.close()).expectComplete().verify(BOUND);

    assertThat(a.stats().openConnections()).isZero();
    assertThat(a.stats().pendingRequests()).isZero();
    Await.until("b to see the connection closed", () -> b.stats().openConnections() == 0);
    Await.until("a's event loops to end", () -> threadsNamed(name).isEmpty());
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", a.localAddress().port()));
    }
  }

  @Test
  void transportsOnSharedEventLoopsTalkAndLeaveTheLoopsRunningWhenClosed() {
    String name = "shared-loops-" + System.identityHashCode(this);
    LoopResources loops = LoopResources.create(name, 1, 1, true, false);
    try {
      TcpTransport a = started(new EchoHandler(1), b -> b.eventLoops(loops));
      TcpTransport b = started(new EchoHandler(2), o -> o.eventLoops(loops));
      TcpTransport c = started(new EchoHandler(3), o -> o.eventLoops(loops));
      assertThat(a.send(b.localAddress(), new Request.Ping(me(a, 1))).block(BOUND))
          .isInstanceOf(Response.Pong.class);
      assertThat(threadsNamed(name)).isNotEmpty();

      StepVerifier.create(a.close()).expectComplete().verify(BOUND);

      assertThat(threadsNamed(name)).isNotEmpty();
      assertThat(c.send(b.localAddress(), new Request.Ping(me(c, 3))).block(BOUND))
          .isInstanceOf(Response.Pong.class);
    } finally {
      cleanup();
      loops.disposeLater().block(BOUND);
    }
    Await.until(
        "the shared loops to end when their owner disposes them",
        () -> threadsNamed(name).isEmpty());
  }

  @Test
  void closedTransportsLeaveNothingHoldingTheirEventLoops() {
    // An application that makes and closes transports (tests, a restarted Spring context) must get
    // their memory back. reactor-netty keeps, in a static cache, a DNS resolver with the loops of
    // every client put on loops before it has a resolver: about 140 KB per closed transport, for
    // the life of the JVM. These loops are the caller's, so they can be watched; a transport's own
    // go the same way.
    LoopResources loops =
        LoopResources.create("collectable-" + System.identityHashCode(this), 1, 1, true, false);
    WeakReference<LoopResources> held = new WeakReference<>(loops);
    TcpTransport a = TcpTransport.create(TcpTransportOptions.builder().eventLoops(loops).build());
    TcpTransport b = TcpTransport.create(TcpTransportOptions.builder().eventLoops(loops).build());
    try {
      a.start(new EchoHandler(1)).block(BOUND);
      b.start(new EchoHandler(2)).block(BOUND);
      assertThat(a.send(b.localAddress(), new Request.Ping(me(a, 1))).block(BOUND))
          .isInstanceOf(Response.Pong.class);
    } finally {
      Flux.just(a, b).flatMap(TcpTransport::close).then().block(BOUND);
      loops.disposeLater().block(BOUND);
    }
    a = null;
    b = null;
    loops = null;
    Await.until(
        "the event loops of closed transports to be collected",
        () -> {
          System.gc();
          return held.get() == null;
        });
  }

  private static List<String> threadsNamed(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith(prefix))
        .collect(Collectors.toList());
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void runsOnEpollWhereNettyHasItUnlessToldNot(boolean nativeTransport) {
    String name = "native-" + nativeTransport + "-" + System.identityHashCode(this);
    List<String> servedOn = new CopyOnWriteArrayList<>();
    EchoHandler echo = new EchoHandler(1);
    TcpTransport server =
        started(
            request -> {
              servedOn.add(Thread.currentThread().getName());
              return echo.handle(request);
            },
            b -> b.name(name + "-server").nativeTransport(nativeTransport));
    TcpTransport client =
        started(new EchoHandler(2), b -> b.name(name + "-client").nativeTransport(nativeTransport));

    assertThat(client.send(server.localAddress(), new Request.Ping(me(client, 2))).block(BOUND))
        .isInstanceOf(Response.Pong.class);

    // reactor-netty names each loop's threads after its kind
    String kind = nativeTransport && Epoll.isAvailable() ? "-epoll-" : "-nio-";
    assertThat(servedOn).singleElement().asString().startsWith(name + "-server" + kind);
    assertThat(threadsNamed(name + "-client")).isNotEmpty().allMatch(n -> n.contains(kind));
  }

  @Test
  void startingAStartedTransportAgainSaysATransportServesOneNode() {
    // The newcomer's mistake: one transport handed to two KadNodes.builder()s.
    TcpTransport t = started(request -> Mono.empty());

    StepVerifier.create(t.start(request -> Mono.empty()))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage(
                        "kad-tcp at "
                            + t.localAddress()
                            + " was already started: a transport serves one node, so give each"
                            + " node a transport of its own"))
        .verify(BOUND);
  }

  @Test
  void closeBeforeStartReleasesTheLoops() {
    TcpTransport t = TcpTransport.create();
    StepVerifier.create(t.close()).expectComplete().verify(BOUND);
    assertThatThrownBy(t::localAddress).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aFailingHandlerIsAnsweredWithAnInternalFailure() {
    TcpTransport server =
        started(
            // Answers known at once (error, empty, thrown, null) and later (delayed error, empty).
            request -> {
              if (request instanceof Request.Ping) {
                return Mono.error(new IllegalStateException("boom"));
              } else if (request instanceof Request.FindValue) {
                return Mono.empty();
              } else if (request instanceof Request.Subscribe) {
                throw new IllegalStateException("boom");
              } else if (request instanceof Request.Unsubscribe) {
                return null;
              } else if (request instanceof Request.FindNode) {
                return Mono.delay(Duration.ofMillis(5))
                    .then(Mono.error(new IllegalStateException("boom")));
              }
              return Mono.delay(Duration.ofMillis(5)).then(Mono.empty());
            },
            b -> b.nodeId(Messages.id(1)));
    TcpTransport client = started(new EchoHandler(2));
    Contact me = me(client, 2);
    List<Request> requests =
        List.of(
            new Request.Ping(me),
            new Request.FindValue(me, Key.of("x")),
            new Request.Subscribe(me, Key.of("x"), Duration.ofSeconds(1)),
            new Request.Unsubscribe(me, Key.of("x")),
            new Request.FindNode(me, Messages.id(3)),
            new Request.Notify(me, Key.of("x"), List.of()));
    for (Request r : requests) {
      StepVerifier.create(client.send(server.localAddress(), r))
          .expectNextMatches(
              resp ->
                  resp instanceof Response.Failure f
                      && f.code() == Response.Code.INTERNAL
                      && f.sender().id().equals(Messages.id(1))
                      && f.sender().address().equals(server.localAddress())
                      && !f.message().contains("boom"))
          .expectComplete()
          .verify(BOUND);
    }
    assertThat(server.stats().handlerFailures()).isEqualTo(requests.size());
  }

  @Test
  void idleConnectionsAreClosedAndRedialed() {
    TcpTransport server = started(new EchoHandler(1), b -> b.idleTimeout(Duration.ofMillis(200)));
    TcpTransport client = started(new EchoHandler(2), b -> b.idleTimeout(Duration.ofMillis(200)));
    Request ping = new Request.Ping(me(client, 2));
    client.send(server.localAddress(), ping).block(BOUND);
    Await.until("the idle connection to close", () -> client.stats().openConnections() == 0);
    Await.until("the server side to close", () -> server.stats().openConnections() == 0);
    assertThat(client.stats().idleClosed() + server.stats().idleClosed()).isPositive();
    // Counted from here: on a stalled machine a fresh connection may close for idleness before
    // its request goes out, and the request is then sent again on another dial.
    long dialedBefore = client.stats().dialedConnections();
    StepVerifier.create(client.send(server.localAddress(), ping))
        .expectNextCount(1)
        .expectComplete()
        .verify(BOUND);
    assertThat(client.stats().dialedConnections()).isGreaterThan(dialedBefore);
  }

  @Test
  void aConnectTimeoutUnderAMillisecondIsNotCutToNettysNoTimeout() {
    // CONNECT_TIMEOUT_MILLIS and the handshake timeout take whole milliseconds, 0 meaning none:
    // a positive timeout (the CLI's --connect-timeout PT0.0005S) rounds up instead.
    assertThat(TcpTransport.ceilMillis(Duration.ofNanos(500_000))).isEqualTo(1);
    assertThat(TcpTransport.ceilMillis(Duration.ofNanos(1))).isEqualTo(1);
    assertThat(TcpTransport.ceilMillis(Duration.ofMillis(5))).isEqualTo(5);
    assertThat(TcpTransport.ceilMillis(Duration.ofNanos(5_000_001))).isEqualTo(6);
  }

  @Test
  void anIdleTimeoutUnderAMillisecondStillClosesIdleConnections() {
    // Accepted as positive; cut to whole milliseconds it was 0, which Netty reads as "never".
    TcpTransport server = started(new EchoHandler(1));
    TcpTransport client =
        started(new EchoHandler(2), b -> b.idleTimeout(Duration.ofNanos(500_000)));
    // A connection this short-lived may close before the request goes out: the outcome of the
    // send does not matter here, only that the connection does not stay open.
    client
        .send(server.localAddress(), new Request.Ping(me(client, 2)))
        .onErrorResume(e -> Mono.empty())
        .block(BOUND);
    Await.until("the idle connection to close", () -> client.stats().idleClosed() > 0);
    Await.until("the connection to be gone", () -> client.stats().openConnections() == 0);
  }

  @Test
  void aBusyConnectionIsNotClosedForIdleness() {
    AtomicInteger handled = new AtomicInteger();
    TcpTransport server =
        started(
            request -> {
              handled.incrementAndGet();
              return Mono.delay(Duration.ofMillis(1_000))
                  .thenReturn(new EchoHandler(1).answer(request));
            },
            b -> b.idleTimeout(Duration.ofMillis(200)));
    TcpTransport client = started(new EchoHandler(2), b -> b.idleTimeout(Duration.ofMillis(200)));
    StepVerifier.create(client.send(server.localAddress(), new Request.Ping(me(client, 2))))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
    // Closed by the client while waiting, the request would have failed; by the server while
    // answering, it would have been sent again and handled twice. (A stalled machine may still
    // close the new connection before the request is written: that one is sent again unseen, so
    // the number of dials is not the measure.)
    assertThat(handled).hasValue(1);
  }

  @Test
  void dialingPastMaxOutboundConnectionsClosesTheLeastRecentlyUsedIdleOne() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(3));
    TcpTransport c = started(new EchoHandler(4));
    TcpTransport client = started(new EchoHandler(2), o -> o.maxOutboundConnections(2));
    Request ping = new Request.Ping(me(client, 2));
    client.send(a.localAddress(), ping).block(BOUND);
    client.send(b.localAddress(), ping).block(BOUND);
    client.send(a.localAddress(), ping).block(BOUND); // b is now the least recently used

    client.send(c.localAddress(), ping).block(BOUND);

    assertThat(client.stats().evictedConnections()).isEqualTo(1);
    Await.until(
        "b's side of the evicted connection to close", () -> b.stats().openConnections() == 0);
    assertThat(a.stats().openConnections()).isEqualTo(1);
    assertThat(client.stats().openConnections()).isEqualTo(2);
    // b is dialed again when needed, evicting a, now the least recently used.
    StepVerifier.create(client.send(b.localAddress(), ping))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
    Await.until("a's connection to be evicted", () -> a.stats().openConnections() == 0);
    assertThat(client.stats().dialedConnections()).isEqualTo(4);
    assertThat(client.stats().evictedConnections()).isEqualTo(2);
  }

  @Test
  void aConnectionWithARequestInFlightIsNotEvicted() {
    // Answered only when the test says: a timed delay, outlived by a stalled machine, left the
    // connection idle before the other dial, and so evicted.
    Sinks.Empty<Void> answerSlow = Sinks.empty();
    TcpTransport slow =
        started(request -> answerSlow.asMono().thenReturn(new EchoHandler(1).answer(request)));
    TcpTransport other = started(new EchoHandler(3));
    TcpTransport client = started(new EchoHandler(2), o -> o.maxOutboundConnections(1));
    Request ping = new Request.Ping(me(client, 2));
    Mono<Response> inFlight = client.send(slow.localAddress(), ping).cache();
    inFlight.subscribe(r -> {}, e -> {}); // its outcome is checked below
    Await.until("the slow request to be sent", () -> client.stats().pendingRequests() == 1);

    client.send(other.localAddress(), ping).block(BOUND);
    assertThat(client.stats().dialedConnections()).isEqualTo(2);

    // Over the bound, the connection to other is retired once its answer is in, not the busy one.
    Await.until("other's connection to be retired", () -> other.stats().openConnections() == 0);
    answerSlow.tryEmitEmpty();
    StepVerifier.create(inFlight)
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
    assertThat(client.stats().evictedConnections()).isEqualTo(1);
    assertThat(slow.stats().openConnections()).isEqualTo(1);
    assertThat(client.stats().openConnections()).isEqualTo(1);
  }

  @Test
  void concurrentDialsPastTheBoundEvictEachConnectionOnceAndEndAtTheBound() {
    LoopResources loops =
        LoopResources.create("evict-" + System.identityHashCode(this), 1, 2, true, false);
    try {
      List<TcpTransport> servers = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        servers.add(started(new EchoHandler(10 + i), b -> b.eventLoops(loops)));
      }
      TcpTransport client =
          started(
              new EchoHandler(2),
              b -> b.maxOutboundConnections(2).requestTimeout(Duration.ofSeconds(5)));
      Request ping = new Request.Ping(me(client, 2));

      List<Response> answers =
          Flux.fromIterable(servers)
              .flatMap(server -> client.send(server.localAddress(), ping), servers.size())
              .collectList()
              .block(BOUND);

      assertThat(answers).hasSize(20).allMatch(Response.Pong.class::isInstance);
      Await.until(
          "the client's connections to come back to the bound",
          () -> client.stats().openConnections() == 2);
      Await.until(
          "the servers to see the evicted connections close",
          () -> servers.stream().mapToLong(s -> s.stats().openConnections()).sum() == 2);
      TcpTransportStats stats = client.stats();
      assertThat(stats.evictedConnections())
          .isEqualTo(stats.dialedConnections() - stats.openConnections());
      assertThat(stats.violations()).isZero();
    } finally {
      cleanup();
      loops.disposeLater().block(BOUND);
    }
  }

  @Test
  void aRequestAfterItsConnectionWasEvictedDialsAgain() {
    TcpTransport a = started(new EchoHandler(1));
    TcpTransport b = started(new EchoHandler(3));
    TcpTransport client = started(new EchoHandler(2), o -> o.maxOutboundConnections(1));
    Request ping = new Request.Ping(me(client, 2));
    // Alternating between two peers with room for one connection evicts at every step; every
    // request still goes through.
    for (int i = 0; i < 10; i++) {
      TcpTransport to = i % 2 == 0 ? a : b;
      StepVerifier.create(client.send(to.localAddress(), ping))
          .expectNextMatches(Response.Pong.class::isInstance)
          .expectComplete()
          .verify(BOUND);
    }
    Await.until("the last eviction to close", () -> client.stats().openConnections() == 1);
    assertThat(client.stats().dialedConnections()).isEqualTo(10);
    assertThat(client.stats().evictedConnections()).isEqualTo(9);
  }

  /**
   * A {@code ValuesFound} whose CBOR body is at most {@code maxFrameBytes}, and within 64 bytes.
   */
  private static Response valuesFoundJustUnder(int maxFrameBytes) {
    Contact self = Messages.contact(1, new Address("127.0.0.1", 1));
    WireCodec codec = new WireCodec(WireFormat.CBOR, 160, maxFrameBytes, Integer.MAX_VALUE);
    int dataBytes = maxFrameBytes - 256;
    Response answer = null;
    int bodyBytes = 0;
    for (int i = 0; i < 3; i++) {
      answer = new Response.ValuesFound(self, List.of(Messages.value(dataBytes)), List.of());
      ByteBuf frame = codec.encode(UnpooledByteBufAllocator.DEFAULT, 1, answer);
      bodyBytes = frame.readableBytes() - WireCodec.LENGTH_BYTES;
      frame.release();
      dataBytes += maxFrameBytes - bodyBytes;
    }
    assertThat(bodyBytes).isBetween(maxFrameBytes - 64, maxFrameBytes);
    return answer;
  }

  /** A CBOR server with 64 KiB frames and the least {@code maxPendingWriteBytes} allowed. */
  private TcpTransport serverOfFullFrames(Response answer) {
    int maxFrameBytes = 64 * 1024;
    return started(
        request -> Mono.just(answer),
        b ->
            b.format(WireFormat.CBOR)
                .maxFrameBytes(maxFrameBytes)
                .maxValueBytes(maxFrameBytes)
                .maxPendingWriteBytes(TcpTransportOptions.minPendingWriteBytes(maxFrameBytes)));
  }

  private TcpTransport clientOfFullFrames() {
    return started(
        new EchoHandler(2),
        b -> b.format(WireFormat.CBOR).maxFrameBytes(64 * 1024).maxValueBytes(64 * 1024));
  }

  @Test
  void aFrameJustUnderMaxFrameBytesGoesThroughWithTheLeastPendingWriteBytesAllowed() {
    Response big = valuesFoundJustUnder(64 * 1024);
    TcpTransport server = serverOfFullFrames(big);
    TcpTransport client = clientOfFullFrames();
    for (int i = 0; i < 3; i++) {
      StepVerifier.create(
              client.send(server.localAddress(), new Request.FindValue(me(client, 2), Key.of("k"))))
          .expectNext(big)
          .expectComplete()
          .verify(BOUND);
    }
    assertThat(server.stats().violations()).isZero();
    assertThat(client.stats().dialedConnections()).isEqualTo(1);
  }

  @Test
  void aBurstOfFullFramesToAPeerThatReadsIsNotTakenForASlowReader() {
    Response big = valuesFoundJustUnder(64 * 1024);
    TcpTransport server = serverOfFullFrames(big);
    TcpTransport client = clientOfFullFrames();
    Request findValue = new Request.FindValue(me(client, 2), Key.of("k"));
    client.send(server.localAddress(), findValue).block(BOUND);
    // Eight requests read at once are answered together: 512 KiB written before the read's flush.
    List<Response> answers =
        Flux.range(0, 8)
            .flatMap(i -> client.send(server.localAddress(), findValue))
            .collectList()
            .block(BOUND);
    assertThat(answers).hasSize(8).containsOnly(big);
    assertThat(server.stats().violations()).isZero();
    assertThat(client.stats().dialedConnections()).isEqualTo(1);
  }

  @Test
  void aRequestOverTheFrameLimitFailsWithoutClosingTheConnection() {
    TcpTransport server = started(new EchoHandler(1));
    TcpTransport client =
        started(new EchoHandler(2), b -> b.maxFrameBytes(1024).maxValueBytes(1000));
    Request big =
        new Request.Store(
            me(client, 2), Key.of("k"), List.of(Messages.value(1000), Messages.value(1000)), false);
    StepVerifier.create(client.send(server.localAddress(), big))
        .expectError(InvalidMessageException.class)
        .verify(BOUND);
    StepVerifier.create(client.send(server.localAddress(), new Request.Ping(me(client, 2))))
        .expectNextCount(1)
        .expectComplete()
        .verify(BOUND);
    assertThat(client.stats().dialedConnections()).isEqualTo(1);
  }

  @Test
  void peersOfDifferentFormatsDoNotTalkAndTheDialerIsToldWhy() {
    TcpTransport server = started(new EchoHandler(1));
    TcpTransport cborClient = started(new EchoHandler(2), b -> b.format(WireFormat.CBOR));
    StepVerifier.create(cborClient.send(server.localAddress(), new Request.Ping(me(cborClient, 2))))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IncompatiblePeerException.class)
                    .matches(u -> !((KadException) u).isTransient(), "is not transient")
                    .hasMessage(
                        "peer at "
                            + server.localAddress()
                            + " speaks kad protocol v2 with format JSON but this node speaks v2"
                            + " with CBOR"))
        .verify(BOUND);
    // Both sides count it, once each.
    Await.until("the bad preface to be counted", () -> server.stats().badPrefaces() == 1);
    Await.until("the dialer to count it too", () -> cborClient.stats().badPrefaces() == 1);
    assertThat(server.stats().violations()).isEqualTo(1);
    assertThat(cborClient.stats().violations()).isEqualTo(1);
    TcpTransport jsonClient = started(new EchoHandler(3));
    StepVerifier.create(jsonClient.send(server.localAddress(), new Request.Ping(me(jsonClient, 3))))
        .expectNextCount(1)
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void peersOfDifferentIdWidthsDoNotTalkAndBothAreToldWhy() {
    TcpTransport narrow = started(new EchoHandler(1));
    Contact wideSelf = new Contact(NodeId.of(new byte[32]), new Address("127.0.0.1", 1));
    TcpTransport wide =
        started(request -> Mono.just(new Response.Pong(wideSelf)), b -> b.idBits(256));
    Contact wideSender = new Contact(NodeId.of(new byte[32]), wide.localAddress());
    StepVerifier.create(narrow.send(wide.localAddress(), new Request.Ping(me(narrow, 1))))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IncompatiblePeerException.class)
                    .matches(u -> !((KadException) u).isTransient(), "is not transient")
                    .hasMessage(
                        "peer at "
                            + wide.localAddress()
                            + " uses 256-bit ids but this node 160-bit"))
        .verify(BOUND);
    StepVerifier.create(wide.send(narrow.localAddress(), new Request.Ping(wideSender)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IncompatiblePeerException.class)
                    .matches(u -> !((KadException) u).isTransient(), "is not transient")
                    .hasMessage(
                        "peer at "
                            + narrow.localAddress()
                            + " uses 160-bit ids but this node 256-bit"))
        .verify(BOUND);
    // Each refused the other's dial at its preface and the other's answer to its own: one bad
    // preface each way, no message taken for malformed.
    Await.until("both bad prefaces counted", () -> narrow.stats().badPrefaces() == 2);
    Await.until("both bad prefaces counted", () -> wide.stats().badPrefaces() == 2);
    assertThat(narrow.stats().malformedMessages()).isZero();
    assertThat(wide.stats().malformedMessages()).isZero();
    // Peers of the same width still talk.
    TcpTransport wide2 = started(new EchoHandler(3), b -> b.idBits(256));
    StepVerifier.create(wide2.send(wide.localAddress(), new Request.Ping(wideSender)))
        .expectNext(new Response.Pong(wideSelf))
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void aFailedStartCanBeRetried() throws IOException {
    TcpTransport t;
    try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      t = TcpTransport.create(TcpTransportOptions.builder().bindPort(port).build());
      transports.add(t);
      StepVerifier.create(t.start(new EchoHandler(1)))
          .expectErrorSatisfies(
              e ->
                  assertThat(e)
                      .isInstanceOf(dev.kad.api.KadException.class)
                      .hasMessageContaining("cannot listen on 127.0.0.1:" + port))
          .verify(BOUND);
    }
    StepVerifier.create(t.start(new EchoHandler(1))).expectComplete().verify(BOUND);
    TcpTransport client = started(new EchoHandler(2));
    StepVerifier.create(client.send(t.localAddress(), new Request.Ping(me(client, 2))))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void aStartWhoseSubscriberCancelledWhileBindingCanBeStartedAgain() {
    TcpTransport t = TcpTransport.create();
    transports.add(t);
    // Cancelled before the bind can finish: nothing was started, so nothing may stay claimed.
    t.start(new EchoHandler(1))
        .subscribe(
            new BaseSubscriber<Void>() {
              @Override
              protected void hookOnSubscribe(Subscription subscription) {
                cancel();
              }
            });

    StepVerifier.create(t.start(new EchoHandler(1))).expectComplete().verify(BOUND);
    TcpTransport client = started(new EchoHandler(2));
    StepVerifier.create(client.send(t.localAddress(), new Request.Ping(me(client, 2))))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void closeRightAfterStartLeavesNothingListening() throws IOException {
    LoopResources loops =
        LoopResources.create("close-start-" + System.identityHashCode(this), 1, 2, true, false);
    try {
      for (int i = 0; i < 50; i++) {
        int port = freePort();
        TcpTransport t = onPort(port, loops);
        // start() is subscribed first, so close() lands anywhere from before the bind to after it
        Mono.when(
                t.start(new EchoHandler(1))
                    .onErrorResume(NodeClosedException.class, e -> Mono.empty()),
                t.close())
            .block(BOUND);
        // Closing completes before NIO releases the socket, at the loop's next select: poll.
        int closedPort = port;
        Await.until("port " + port + " to be free", () -> isFree(closedPort));
      }
    } finally {
      cleanup();
      loops.disposeLater().block(BOUND);
    }
  }

  @Test
  void aStartCancelledAtAnyMomentServesOnlyWhenItKnowsItsAddress() throws IOException {
    // A node whose start is cancelled asks localAddress() whether its transport serves, and closes
    // it only then: a transport that serves without an address would be left listening for no one.
    LoopResources loops =
        LoopResources.create("cancel-start-" + System.identityHashCode(this), 1, 2, true, false);
    java.util.Random random = new java.util.Random(5);
    int served = 0;
    try {
      for (int i = 0; i < 100; i++) {
        int port = freePort();
        TcpTransport t = onPort(port, loops);
        startAndCancelAtRandom(t, random);
        if (knowsItsAddress(t)) {
          served++;
          t.close().block(BOUND);
        }
        int cancelledPort = port;
        Await.until("port " + port + " to be free", () -> isFree(cancelledPort));
      }
    } finally {
      cleanup();
      loops.disposeLater().block(BOUND);
    }
    // Both outcomes were met, or the cancels missed the bind altogether.
    assertThat(served).isBetween(1, 99);
  }

  @Test
  void aStartCancelledAsItBindsThatLeftNoAddressCanBeStartedAgainAtOnce() {
    // "A start cancelled as it binds leaves the transport either serving or unstarted, and
    // localAddress() tells which once the cancel returned": unstarted means startable, as a node's
    // start retried after a timeout's cancel does. A cancel that crosses the bind returned while
    // the event loop still held the handler slot for the start it was undoing.
    LoopResources loops =
        LoopResources.create("restart-" + System.identityHashCode(this), 1, 2, true, false);
    java.util.Random random = new java.util.Random(7);
    List<String> refused = new ArrayList<>();
    int crossed = 0;
    try {
      for (int i = 0; i < 600 && refused.isEmpty(); i++) {
        TcpTransport t = onPort(0, loops);
        startAndCancelAtRandom(t, random);
        if (knowsItsAddress(t)) {
          t.close().block(BOUND);
          continue;
        }
        crossed++;
        try {
          t.start(new EchoHandler(1)).block(BOUND);
        } catch (IllegalStateException e) {
          refused.add("attempt " + i + ": " + e.getMessage());
        }
        t.close().block(BOUND);
      }
    } finally {
      cleanup();
      loops.disposeLater().block(BOUND);
    }
    assertThat(crossed).isPositive();
    assertThat(refused).isEmpty();
  }

  /** Starts {@code t} and cancels anywhere from before the bind to after it (a few hundred µs). */
  private static void startAndCancelAtRandom(TcpTransport t, java.util.Random random) {
    reactor.core.Disposable start = t.start(new EchoHandler(1)).subscribe();
    long cancelAt = System.nanoTime() + random.nextInt(1_500_000);
    while (System.nanoTime() < cancelAt) {
      Thread.onSpinWait();
    }
    start.dispose();
  }

  private static boolean knowsItsAddress(TcpTransport t) {
    try {
      t.localAddress();
      return true;
    } catch (IllegalStateException notStarted) {
      return false;
    }
  }

  /** A loopback port nothing listens on now. */
  private static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    }
  }

  /** A transport to bind {@code port} on {@code loops}, closed after the test. */
  private TcpTransport onPort(int port, LoopResources loops) {
    TcpTransport t =
        TcpTransport.create(TcpTransportOptions.builder().bindPort(port).eventLoops(loops).build());
    transports.add(t);
    return t;
  }

  /** Whether nothing listens on {@code port}: binding it succeeds. */
  private static boolean isFree(int port) {
    try (ServerSocket s = new ServerSocket()) {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress("127.0.0.1", port));
      return true;
    } catch (java.net.BindException inUse) {
      return false;
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void startsOnceAndAdvertisesTheConfiguredAddress() {
    TcpTransport t =
        started(new EchoHandler(1), b -> b.advertisedAddress(new Address("node.example.org", 0)));
    assertThat(t.localAddress().host()).isEqualTo("node.example.org");
    assertThat(t.localAddress().port()).isPositive();
    StepVerifier.create(t.start(new EchoHandler(2)))
        .expectError(IllegalStateException.class)
        .verify(BOUND);
  }

  @Test
  void optionsAreValidated() {
    assertThatThrownBy(() -> TcpTransportOptions.builder().maxFrameBytes(10))
        .hasMessageContaining("maxFrameBytes must be in [1024");
    assertThatThrownBy(
            () -> TcpTransportOptions.builder().maxFrameBytes(2048).maxValueBytes(4096).build())
        .hasMessageContaining("maxValueBytes");
    for (String wildcard : List.of("0.0.0.0", "::", "::0", "0::", "000.0.0.0", "::ffff:0.0.0.0")) {
      assertThatThrownBy(() -> TcpTransportOptions.builder().bindHost(wildcard).build())
          .as(wildcard)
          .hasMessage(
              "advertisedAddress must be set when bindHost is the wildcard '" + wildcard + "'");
    }
    assertThatThrownBy(() -> TcpTransportOptions.builder().idleTimeout(Duration.ZERO))
        .hasMessageContaining("idleTimeout must be positive");
    assertThatThrownBy(() -> TcpTransportOptions.builder().maxOutboundConnections(0))
        .hasMessageContaining("maxOutboundConnections must be in [1, 1000000] but was 0");
    assertThat(
            TcpTransportOptions.builder()
                .fromConfig(dev.kad.api.KadConfig.builder().idBits(256).build())
                .build()
                .idBits())
        .isEqualTo(256);
  }

  @Test
  void timeoutsLongerThanTimersCanCountAreRefusedWithTheirName() {
    Duration forever = ChronoUnit.FOREVER.getDuration();
    assertThatThrownBy(() -> TcpTransportOptions.builder().requestTimeout(forever))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("requestTimeout must be at most PT876000H but was " + forever);
    assertThatThrownBy(() -> TcpTransportOptions.builder().connectTimeout(forever))
        .hasMessageStartingWith("connectTimeout must be at most PT876000H");
    assertThatThrownBy(() -> TcpTransportOptions.builder().idleTimeout(Duration.ofDays(36_501)))
        .hasMessageStartingWith("idleTimeout must be at most PT876000H");
    TcpTransportOptions d = TcpTransportOptions.defaults();
    assertThatThrownBy(
            () ->
                new TcpTransportOptions(
                    d.name(),
                    d.bindHost(),
                    d.bindPort(),
                    d.advertisedAddress(),
                    d.nodeId(),
                    d.format(),
                    d.idBits(),
                    d.maxFrameBytes(),
                    d.maxValueBytes(),
                    forever,
                    d.connectTimeout(),
                    d.idleTimeout(),
                    d.maxInboundConnections(),
                    d.maxInboundConnectionsPerIp(),
                    d.perIpLimitForLocalPeers(),
                    d.maxRequestsPerSecondPerIp(),
                    d.checkSenderAddress(),
                    d.maxOutboundConnections(),
                    d.maxPendingWriteBytes(),
                    d.maxTotalPendingWriteBytes(),
                    d.maxConcurrentRequestsPerConnection(),
                    d.eventLoopThreads(),
                    d.eventLoops(),
                    d.nativeTransport(),
                    d.tls(),
                    d.scheduler()))
        .hasMessageStartingWith("requestTimeout must be at most");
  }

  @Test
  void aValueLargerThanAFrameIsRefusedNamingMaxFrameBytes() {
    assertThatThrownBy(
            () -> TcpTransportOptions.builder().maxFrameBytes(2048).maxValueBytes(4096).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "maxValueBytes must be at most maxFrameBytes 2048 (a value travels in one frame)"
                + " but was 4096");
  }

  @Test
  void aBlankBindHostIsRefusedUnderTheSettingsName() {
    assertThatThrownBy(() -> TcpTransportOptions.builder().bindHost(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bindHost must not be blank but was ' '");
    // Refused when set, naming the setting: refused by Address later, it failed after binding.
    assertThatThrownBy(() -> TcpTransportOptions.builder().bindHost("[::1]"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "bindHost must be ASCII letters, digits and . - _ : % only but had U+005B at index 0"
                + " (an IPv6 literal goes without brackets)");
  }

  @Test
  void theLongestTimeoutsAllowedWork() {
    Duration longest = dev.kad.api.KadConfig.MAX_DURATION;
    TcpTransport server = started(new EchoHandler(1));
    TcpTransport client =
        started(
            new EchoHandler(2),
            b -> b.requestTimeout(longest).connectTimeout(longest).idleTimeout(longest));
    StepVerifier.create(client.send(server.localAddress(), new Request.Ping(me(client, 2))))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void anAdvertisedAddressNoPeerCanDialIsRefused() {
    for (String host : List.of("0.0.0.0", "::", "224.0.0.1", "ff02::1")) {
      assertThatThrownBy(
              () -> TcpTransportOptions.builder().advertisedAddress(new Address(host, 7000)))
          .as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("advertisedAddress must be an address peers can dial")
          .hasMessageContaining("'" + host + "'");
    }
    assertThatThrownBy(
            () ->
                TcpTransportOptions.builder()
                    .bindHost("0.0.0.0")
                    .advertisedAddress(new Address("0.0.0.0", 0))
                    .build())
        .hasMessageContaining("wildcard '0.0.0.0'");
    // host names are not looked up; private and loopback addresses are fine
    for (String host :
        List.of("node1.example.org", "10.0.0.5", "::1", "127.0.0.1", "h".repeat(253))) {
      assertThat(
              TcpTransportOptions.builder()
                  .bindHost("0.0.0.0")
                  .advertisedAddress(new Address(host, 7000))
                  .build()
                  .advertisedAddress())
          .contains(new Address(host, 7000));
    }
  }

  @Test
  void maxPendingWriteBytesLeavesRoomForTwoFullFrames() {
    assertThatThrownBy(
            () ->
                TcpTransportOptions.builder()
                    .maxFrameBytes(65536)
                    .maxPendingWriteBytes(65536)
                    .build())
        .hasMessage(
            "maxPendingWriteBytes must be at least 2 * (maxFrameBytes + 1024) = 133120"
                + " for maxFrameBytes 65536 but was 65536");
    assertThat(
            TcpTransportOptions.builder()
                .fromConfig(dev.kad.api.KadConfig.builder().maxFrameBytes(1024 * 1024).build())
                .build()
                .maxPendingWriteBytes())
        .isEqualTo(2 * (1024 * 1024 + 1024));
    assertThat(
            TcpTransportOptions.builder()
                .maxPendingWriteBytes(100_000)
                .fromConfig(dev.kad.api.KadConfig.defaults())
                .build()
                .maxPendingWriteBytes())
        .isEqualTo(133120);
    assertThat(TcpTransportOptions.builder().maxFrameBytes(4 * 1024 * 1024).build())
        .extracting(TcpTransportOptions::maxPendingWriteBytes)
        .isEqualTo(2 * (4 * 1024 * 1024 + 1024));
    assertThat(TcpTransportOptions.defaults().maxPendingWriteBytes()).isEqualTo(1024 * 1024);
  }

  @Test
  void connectionLimitsPerIpAndOnAllBacklogsAreCheckedNamingTheValue() {
    TcpTransportOptions d = TcpTransportOptions.defaults();
    assertThat(d.maxInboundConnectionsPerIp()).isEqualTo(32);
    assertThat(d.perIpLimitForLocalPeers()).isFalse();
    assertThat(d.maxTotalPendingWriteBytes()).isEqualTo(64L * 1024 * 1024);
    assertThatThrownBy(() -> TcpTransportOptions.builder().maxInboundConnectionsPerIp(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxInboundConnectionsPerIp must be in [1, 1000000] but was 0");
    assertThatThrownBy(() -> TcpTransportOptions.builder().maxTotalPendingWriteBytes(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxTotalPendingWriteBytes must be at least 1024 but was -1");
    assertThatThrownBy(() -> TcpTransportOptions.builder().maxTotalPendingWriteBytes(65536).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "maxTotalPendingWriteBytes must be at least 2 * (maxFrameBytes + 1024) = 133120"
                + " for maxFrameBytes 65536 but was 65536");
    // unless set, the total grows with the bound per connection
    assertThat(
            TcpTransportOptions.builder()
                .maxFrameBytes(64 * 1024 * 1024)
                .maxValueBytes(1024)
                .build()
                .maxTotalPendingWriteBytes())
        .isEqualTo(2L * (64 * 1024 * 1024 + 1024));
    assertThat(
            TcpTransportOptions.builder()
                .maxPendingWriteBytes(8 * 1024 * 1024)
                .maxTotalPendingWriteBytes(4 * 1024 * 1024)
                .build()
                .maxTotalPendingWriteBytes())
        .isEqualTo(4L * 1024 * 1024);
  }

  @Test
  void inboundConnectionsCountPerIpv4AddressAndPerIpv6Slash64() throws Exception {
    InetSocketAddress local = socket("192.0.2.1", 7000);
    assertThat(TcpTransport.inboundSource(socket("198.51.100.7", 40000), local, false))
        .isEqualTo("198.51.100.7");
    String slash64 = "2001:db8:0:1::/64";
    assertThat(TcpTransport.inboundSource(socket("2001:db8:0:1::5", 40000), local, false))
        .isEqualTo(slash64);
    assertThat(
            TcpTransport.inboundSource(
                socket("2001:db8:0:1:ffff:ffff:ffff:ffff", 40001), local, false))
        .isEqualTo(slash64);
    assertThat(TcpTransport.inboundSource(socket("2001:db8:0:2::5", 40000), local, false))
        .isEqualTo("2001:db8:0:2::/64");
    // every host on a link has fe80::/64: a link-local address counts on its own
    assertThat(TcpTransport.inboundSource(socket("fe80::1", 40000), local, false))
        .isEqualTo("fe80::1");
    // peers on this host are exempt unless local peers are limited too
    for (String host : List.of("127.0.0.1", "127.0.0.2", "::1", "192.0.2.1")) {
      assertThat(TcpTransport.inboundSource(socket(host, 40000), local, false)).as(host).isNull();
    }
    assertThat(TcpTransport.inboundSource(socket("127.0.0.1", 40000), local, true))
        .isEqualTo("127.0.0.1");
    assertThat(TcpTransport.inboundSource(socket("192.0.2.1", 40000), local, true))
        .isEqualTo("192.0.2.1");
    assertThat(TcpTransport.inboundSource(socket("::1", 40000), local, true))
        .isEqualTo("0:0:0:0::/64");
  }

  @Test
  void anIpv4MappedIpv6PeerCountsAsItsIpv4Address() throws Exception {
    byte[] mapped = new byte[16];
    mapped[10] = (byte) 0xff;
    mapped[11] = (byte) 0xff;
    System.arraycopy(new byte[] {(byte) 198, 51, 100, 7}, 0, mapped, 12, 4);
    InetSocketAddress remote =
        new InetSocketAddress(Inet6Address.getByAddress(null, mapped, -1), 40000);

    assertThat(TcpTransport.inboundSource(remote, socket("192.0.2.1", 7000), false))
        .isEqualTo("198.51.100.7");
  }

  private static InetSocketAddress socket(String ip, int port) throws Exception {
    return new InetSocketAddress(InetAddress.getByName(ip), port);
  }
}
