package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadException;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.Key;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The behaviour every {@link Transport} keeps, as JUnit 5 default test methods. A transport's test
 * class implements this interface and the hooks; the tests run in real time, waiting with generous
 * bounds ({@link #verifyTimeout()}), never sleeping.
 *
 * <pre>{@code
 * class TcpTransportTest implements TransportContract {
 *   private final List<Transport> created = new CopyOnWriteArrayList<>();
 *
 *   public Transport newTransport() {
 *     Transport t = ...; // bound to 127.0.0.1:0, request timeout = requestTimeout()
 *     created.add(t);
 *     return t;
 *   }
 *
 *   public Duration requestTimeout() {
 *     return Duration.ofMillis(500);
 *   }
 *
 *   public void cleanup() {
 *     StepVerifier.create(Flux.fromIterable(created).flatMap(Transport::close))
 *         .verifyComplete();
 *   }
 * }
 * }</pre>
 *
 * <p>What the contract needs from a transport: {@link Transport#localAddress()} is dialable by
 * other transports of the same test after {@code start}; the transport has its own request timeout
 * ({@link #requestTimeout()}) that errors with {@link KadTimeoutException}; the handler's {@code
 * Mono} may answer on any thread and late.
 */
public interface TransportContract {

  /**
   * A new, unstarted transport that can reach every other transport this method returns during the
   * same test. The contract starts it with its own handler.
   *
   * @return a fresh transport
   */
  Transport newTransport();

  /**
   * The request timeout of the transports {@link #newTransport()} returns; keep it short (well
   * under {@link #verifyTimeout()}) so the timeout tests finish quickly.
   *
   * @return the transports' own request timeout
   */
  Duration requestTimeout();

  /**
   * Closes every transport {@link #newTransport()} returned and releases what they share. Runs
   * after every test.
   */
  default void cleanup() {}

  /**
   * An address no live transport answers at. The default starts a transport, closes it and returns
   * its address, so a send to it errors with {@link UnreachableContactException} (connection
   * refused) or {@link KadTimeoutException} (silently dropped).
   *
   * @return an address of a dead peer
   */
  default Address deadAddress() {
    Transport dead = newTransport();
    StepVerifier.create(dead.start(request -> Mono.never()))
        .expectComplete()
        .verify(verifyTimeout());
    Address address = dead.localAddress();
    StepVerifier.create(dead.close()).expectComplete().verify(verifyTimeout());
    return address;
  }

  /**
   * The real-time bound of every wait of the contract, on top of {@link #requestTimeout()} where a
   * test waits for a timeout.
   *
   * @return how long a single step may take before the test fails
   */
  default Duration verifyTimeout() {
    return Duration.ofSeconds(10);
  }

  /** Runs {@link #cleanup()} after every contract test. */
  @AfterEach
  default void cleanupTransports() {
    cleanup();
  }

  // ---- the contract ----

  /** A Ping reaches the peer's handler intact and the peer's Pong comes back as the value. */
  @Test
  default void pingIsAnsweredWithPong() {
    SplittableRandom random = new SplittableRandom(1);
    List<Request> received = new ArrayList<>();
    Transport server = newTransport();
    Contact serverContact =
        startAnswering(
            server,
            random,
            request -> {
              synchronized (received) {
                received.add(request);
              }
            });
    Transport client = started(newTransport());
    Request.Ping ping = new Request.Ping(contact(client, random));

    StepVerifier.create(client.send(server.localAddress(), ping))
        .expectNext(new Response.Pong(serverContact))
        .expectComplete()
        .verify(verifyTimeout());

    synchronized (received) {
      assertThat(received).containsExactly(ping);
    }
  }

  /** Every request and response type survives the trip with all fields intact. */
  @Test
  default void everyMessageTypeRoundTripsIntact() {
    SplittableRandom random = new SplittableRandom(2);
    Transport server = newTransport();
    Transport client = started(newTransport());
    Contact serverContact = contact(random, new Address("127.0.0.1", 1));
    Contact clientContact = contact(client, random);
    Key key = Key.of("contract");
    List<Contact> contacts =
        List.of(
            contact(random, new Address("10.1.2.3", 4000)),
            contact(random, new Address("2001:db8::1", 65535)),
            contact(random, new Address("node.example", 0)));
    Instant expiry = Instant.parse("2030-01-02T03:04:05.123456789Z");
    List<Value> values =
        List.of(
            Value.of(new byte[] {1, 2, 3}, NodeId.random(random), 7, 9, expiry),
            Value.of(new byte[0], NodeId.random(random), Long.MAX_VALUE, 0, expiry)
                .signedWith(Key.of("signed"), ed25519()));
    List<Map.Entry<Request, Response>> exchanges =
        List.of(
            Map.entry(new Request.Ping(clientContact), new Response.Pong(serverContact)),
            Map.entry(
                new Request.FindNode(clientContact, NodeId.random(random)),
                new Response.NodesFound(serverContact, contacts)),
            Map.entry(
                new Request.FindValue(clientContact, key),
                new Response.ValuesFound(serverContact, values, contacts)),
            Map.entry(
                new Request.FindValue(clientContact, Key.of("nothing here")),
                new Response.ValuesFound(serverContact, List.of(), List.of())),
            Map.entry(
                new Request.Store(clientContact, key, values, true),
                new Response.Stored(
                    serverContact, 1, List.of(new Response.Rejected(1, "over quota: 64 KiB")))),
            Map.entry(
                new Request.Store(clientContact, key, List.of(), false),
                new Response.Stored(serverContact, 0, List.of())),
            Map.entry(
                new Request.Subscribe(clientContact, key, Duration.ofMinutes(10)),
                new Response.Subscribed(serverContact, Duration.ofSeconds(599))),
            Map.entry(
                new Request.Unsubscribe(clientContact, key), new Response.Pong(serverContact)),
            Map.entry(
                new Request.Notify(clientContact, key, values),
                new Response.Failure(
                    serverContact, Response.Code.LIMIT, "too many subscribers: 100")),
            // A live-stream subscription's token, whatever its value, both ways.
            Map.entry(
                new Request.Subscribe(clientContact, key, Duration.ofMinutes(10), false, -5),
                new Response.Subscribed(serverContact, Duration.ofSeconds(599), true, -5)),
            Map.entry(
                new Request.Unsubscribe(clientContact, key, false, Long.MIN_VALUE),
                new Response.Pong(serverContact)),
            Map.entry(
                new Request.Notify(clientContact, key, values, false, Long.MAX_VALUE),
                new Response.Pong(serverContact)));
    Map<Request, Response> answers = new HashMap<>();
    exchanges.forEach(exchange -> answers.put(exchange.getKey(), exchange.getValue()));
    started(server, request -> Mono.justOrEmpty(answers.get(request)));

    for (Map.Entry<Request, Response> exchange : exchanges) {
      StepVerifier.create(client.send(server.localAddress(), exchange.getKey()))
          .as(exchange.getKey().getClass().getSimpleName())
          .expectNext(exchange.getValue())
          .expectComplete()
          .verify(verifyTimeout());
    }
  }

  /**
   * Every request type carries whether its sender is a client, set or not, to the peer's handler (a
   * transport that dropped the mark would put every client in its peers' routing tables).
   */
  @Test
  default void everyRequestTypeCarriesItsClientMark() {
    SplittableRandom random = new SplittableRandom(3);
    Transport server = newTransport();
    Transport client = started(newTransport());
    Contact serverContact = contact(random, new Address("127.0.0.1", 1));
    Contact clientContact = contact(client, random);
    Key key = Key.of("contract");
    List<Value> values =
        List.of(
            Value.of(
                new byte[] {1},
                NodeId.random(random),
                1,
                1,
                Instant.parse("2030-01-01T00:00:00Z")));
    List<Request> requests =
        List.of(
            new Request.Ping(clientContact),
            new Request.FindNode(clientContact, NodeId.random(random)),
            new Request.FindValue(clientContact, key),
            new Request.Store(clientContact, key, values, false),
            new Request.Subscribe(clientContact, key, Duration.ofMinutes(10)),
            new Request.Unsubscribe(clientContact, key),
            new Request.Notify(clientContact, key, values));
    // The answer tells what arrived: Pong for a request from a client, Failure for a full node's.
    started(
        server,
        request ->
            Mono.just(
                request.fromClient()
                    ? new Response.Pong(serverContact)
                    : new Response.Failure(serverContact, Response.Code.INVALID, "full node")));

    for (Request request : requests) {
      for (boolean fromClient : new boolean[] {true, false}) {
        StepVerifier.create(client.send(server.localAddress(), request.withFromClient(fromClient)))
            .as(request.getClass().getSimpleName() + " fromClient=" + fromClient)
            .expectNextMatches(r -> r instanceof Response.Pong == fromClient)
            .expectComplete()
            .verify(verifyTimeout());
      }
    }
  }

  /** A send to a dead peer errors with a transient {@link KadException}, not a hang. */
  @Test
  default void sendToDeadPeerErrorsWithTransientKadException() {
    SplittableRandom random = new SplittableRandom(3);
    Address dead = deadAddress();
    Transport client = started(newTransport());

    StepVerifier.create(client.send(dead, new Request.Ping(contact(client, random))))
        .expectErrorSatisfies(
            error ->
                assertThat(error)
                    .isInstanceOfAny(KadTimeoutException.class, UnreachableContactException.class)
                    .isInstanceOfSatisfying(
                        KadException.class, e -> assertThat(e.isTransient()).isTrue()))
        .verify(requestTimeout().plus(verifyTimeout()));
  }

  /**
   * A peer that accepts a request but never answers makes the send time out, and not before half
   * the request timeout has passed (a timer in the wrong unit or never armed fails this), with a
   * message naming the peer and the request.
   */
  @Test
  default void sendToPeerThatNeverAnswersErrorsWithTimeout() {
    SplittableRandom random = new SplittableRandom(4);
    Transport server = started(newTransport(), request -> Mono.never());
    Transport client = started(newTransport());

    Request.Ping ping = new Request.Ping(contact(client, random));

    StepVerifier.create(client.send(server.localAddress(), ping))
        .expectSubscription()
        .expectNoEvent(requestTimeout().dividedBy(2))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(KadTimeoutException.class)
                    .hasMessageContaining(server.localAddress().toString())
                    .hasMessageContaining("Ping"))
        .verify(requestTimeout().plus(verifyTimeout()));
  }

  /**
   * {@link Transport#send} is lazy: nothing reaches the peer until the {@code Mono} is subscribed.
   */
  @Test
  default void sendTransmitsNothingUntilSubscribed() {
    SplittableRandom random = new SplittableRandom(11);
    List<Request> received = new CopyOnWriteArrayList<>();
    Transport server = newTransport();
    Contact serverContact = startAnswering(server, random, received::add);
    Transport client = started(newTransport());
    Contact clientContact = contact(client, random);
    Address to = server.localAddress();
    Request.FindNode unsubscribed = new Request.FindNode(clientContact, NodeId.random(random));
    Request.Ping ping = new Request.Ping(clientContact);

    Mono<Response> notYet = client.send(to, unsubscribed);
    // A Ping sent after it and answered: an eager transport would have sent the FindNode first.
    StepVerifier.create(client.send(to, ping))
        .expectNext(new Response.Pong(serverContact))
        .expectComplete()
        .verify(verifyTimeout());
    assertThat(received).containsExactly(ping);

    StepVerifier.create(notYet)
        .assertNext(
            response ->
                assertThat(isEchoOf(response, unsubscribed.target(), serverContact)).isTrue())
        .expectComplete()
        .verify(verifyTimeout());
    assertThat(received).containsExactly(ping, unsubscribed);
  }

  /** {@link Transport#localAddress()} is an {@link IllegalStateException} before start. */
  @Test
  default void localAddressBeforeStartIsAnIllegalState() {
    Transport transport = newTransport();

    Throwable thrown = null;
    try {
      transport.localAddress();
    } catch (RuntimeException e) {
      thrown = e;
    }
    assertThat(thrown).isInstanceOf(IllegalStateException.class);
    assertThat(started(transport).localAddress()).isNotNull();
  }

  /**
   * Many requests in flight at once, sent from several threads and answered out of order, each get
   * their own response.
   */
  @Test
  default void concurrentRequestsAreEachMatchedToTheirOwnResponse() {
    int requests = 200;
    SplittableRandom random = new SplittableRandom(5);
    Transport server = newTransport();
    Contact serverContact = startAnswering(server, random, request -> {});
    Transport client = started(newTransport());
    Contact clientContact = contact(client, random);
    List<NodeId> targets = new ArrayList<>();
    for (int i = 0; i < requests; i++) {
      targets.add(NodeId.random(random));
    }
    Address to = server.localAddress();

    Flux<Boolean> matched =
        Flux.fromIterable(targets)
            .flatMap(
                target ->
                    client
                        .send(to, new Request.FindNode(clientContact, target))
                        .map(response -> isEchoOf(response, target, serverContact))
                        .subscribeOn(Schedulers.parallel()),
                requests);

    StepVerifier.create(matched.filter(ok -> ok).count())
        .expectNext((long) requests)
        .expectComplete()
        .verify(verifyTimeout());
  }

  /**
   * Closing a transport fails its pending requests with {@link NodeClosedException} (not by letting
   * them time out), and later sends fail the same way.
   */
  @Test
  default void closeFailsPendingRequestsAndLaterSends() {
    SplittableRandom random = new SplittableRandom(6);
    Sinks.One<Request> arrived = Sinks.one();
    Transport server =
        started(
            newTransport(),
            request -> Mono.fromRunnable(() -> arrived.tryEmitValue(request)).then(Mono.never()));
    Transport client = started(newTransport());
    Request.Ping ping = new Request.Ping(contact(client, random));
    Address to = server.localAddress();

    Sinks.One<Object> outcome = Sinks.one();
    client.send(to, ping).subscribe(outcome::tryEmitValue, outcome::tryEmitValue);
    StepVerifier.create(arrived.asMono()).expectNext(ping).expectComplete().verify(verifyTimeout());
    StepVerifier.create(client.close()).expectComplete().verify(verifyTimeout());

    StepVerifier.create(outcome.asMono())
        .assertNext(pending -> assertThat(pending).isInstanceOf(NodeClosedException.class))
        .expectComplete()
        .verify(verifyTimeout());

    StepVerifier.create(client.send(to, ping))
        .expectError(NodeClosedException.class)
        .verify(verifyTimeout());
  }

  /** A closed transport no longer hands requests to its handler. */
  @Test
  default void closedTransportNoLongerReceives() {
    SplittableRandom random = new SplittableRandom(7);
    AtomicInteger handled = new AtomicInteger();
    Transport server = newTransport();
    Contact serverContact = contact(random, new Address("127.0.0.1", 1));
    started(
        server,
        request -> {
          handled.incrementAndGet();
          return Mono.just(new Response.Pong(serverContact));
        });
    Transport client = started(newTransport());
    Address to = server.localAddress();
    StepVerifier.create(server.close()).expectComplete().verify(verifyTimeout());

    StepVerifier.create(client.send(to, new Request.Ping(contact(client, random))))
        .expectError(KadException.class)
        .verify(requestTimeout().plus(verifyTimeout()));
    assertThat(handled).hasValue(0);
  }

  /** Closing twice is harmless and starting twice is an error. */
  @Test
  default void closeIsIdempotentAndStartIsOnce() {
    Transport transport = started(newTransport());

    StepVerifier.create(transport.start(request -> Mono.never()))
        .expectError()
        .verify(verifyTimeout());
    StepVerifier.create(transport.close().then(transport.close()))
        .expectComplete()
        .verify(verifyTimeout());
  }

  /** A refusal ({@link Response.Failure}) from the handler reaches the caller as a value. */
  @Test
  default void handlerFailureResponseArrivesAsValue() {
    SplittableRandom random = new SplittableRandom(8);
    Contact serverContact = contact(random, new Address("127.0.0.1", 1));
    Response.Failure refusal =
        new Response.Failure(serverContact, Response.Code.RATE_LIMITED, "over 10 requests/s");
    Transport server = started(newTransport(), request -> Mono.just(refusal));
    Transport client = started(newTransport());

    Request.Ping ping = new Request.Ping(contact(client, random));

    StepVerifier.create(client.send(server.localAddress(), ping))
        .expectNext(refusal)
        .expectComplete()
        .verify(verifyTimeout());
  }

  /**
   * A handler that signals an error is answered with {@code Failure(INTERNAL)} (or, where the
   * transport cannot name the serving node, a {@link KadException}), and the peer keeps serving.
   */
  @Test
  default void handlerErrorIsAnsweredAndThePeerKeepsServing() {
    SplittableRandom random = new SplittableRandom(9);
    Contact serverContact = contact(random, new Address("127.0.0.1", 1));
    Transport server =
        started(
            newTransport(),
            request ->
                request instanceof Request.FindNode
                    ? Mono.error(new IllegalStateException("handler bug"))
                    : Mono.just(new Response.Pong(serverContact)));
    Transport client = started(newTransport());
    Contact clientContact = contact(client, random);
    Address to = server.localAddress();

    StepVerifier.create(client.send(to, new Request.Ping(clientContact)))
        .expectNext(new Response.Pong(serverContact))
        .expectComplete()
        .verify(verifyTimeout());
    StepVerifier.create(
            client
                .send(to, new Request.FindNode(clientContact, NodeId.random(random)))
                .map(response -> (Object) response)
                .onErrorResume(KadException.class, Mono::just))
        .assertNext(
            outcome -> {
              if (outcome instanceof Response response) {
                assertThat(response)
                    .isInstanceOfSatisfying(
                        Response.Failure.class,
                        failure -> assertThat(failure.code()).isEqualTo(Response.Code.INTERNAL));
              } else {
                assertThat(outcome).isInstanceOf(KadException.class);
              }
            })
        .expectComplete()
        .verify(verifyTimeout());
    StepVerifier.create(client.send(to, new Request.Ping(clientContact)))
        .expectNext(new Response.Pong(serverContact))
        .expectComplete()
        .verify(verifyTimeout());
  }

  /**
   * A cancelled request's late response is dropped: it never reaches the caller of a later request.
   */
  @Test
  default void cancelledRequestsLateResponseDoesNotReachAnotherCaller() {
    SplittableRandom random = new SplittableRandom(10);
    Sinks.One<Request> firstArrived = Sinks.one();
    Sinks.One<Response> firstAnswer = Sinks.one();
    List<Response> cancelledCallerReceived = new CopyOnWriteArrayList<>();
    Transport server = newTransport();
    Contact serverContact = contact(random, new Address("127.0.0.1", 1));
    NodeId first = NodeId.random(random);
    NodeId second = NodeId.random(random);
    started(
        server,
        request ->
            request instanceof Request.FindNode find && find.target().equals(first)
                ? Mono.fromRunnable(() -> firstArrived.tryEmitValue(request))
                    .then(firstAnswer.asMono())
                : Mono.just(echo(serverContact, (Request.FindNode) request)));
    Transport client = started(newTransport());
    Contact clientContact = contact(client, random);
    Address to = server.localAddress();

    Disposable firstCall =
        client
            .send(to, new Request.FindNode(clientContact, first))
            .subscribe(cancelledCallerReceived::add);
    StepVerifier.create(firstArrived.asMono())
        .expectNextCount(1)
        .expectComplete()
        .verify(verifyTimeout());
    firstCall.dispose();
    firstAnswer.tryEmitValue(echo(serverContact, new Request.FindNode(clientContact, first)));

    StepVerifier.create(client.send(to, new Request.FindNode(clientContact, second)))
        .assertNext(response -> assertThat(isEchoOf(response, second, serverContact)).isTrue())
        .expectComplete()
        .verify(verifyTimeout());
    assertThat(cancelledCallerReceived).isEmpty();
  }

  // ---- helpers ----

  private Transport started(Transport transport) {
    return started(transport, request -> Mono.never());
  }

  private Transport started(Transport transport, RequestHandler handler) {
    StepVerifier.create(transport.start(handler)).expectComplete().verify(verifyTimeout());
    return transport;
  }

  /**
   * Starts {@code server} with a handler answering Ping with Pong and FindNode with an echo of the
   * target; {@code observer} sees each request first.
   */
  private Contact startAnswering(
      Transport server, SplittableRandom random, Consumer<Request> observer) {
    AtomicReference<Contact> self = new AtomicReference<>();
    started(
        server,
        request -> {
          observer.accept(request);
          if (request instanceof Request.FindNode find) {
            // a delay that differs per target, so answers leave in another order than requests
            Duration delay = Duration.ofMillis(Byte.toUnsignedInt(find.target().byteAt(0)) % 16);
            return Mono.delay(delay, Schedulers.parallel()).thenReturn(echo(self.get(), find));
          }
          return Mono.just(new Response.Pong(self.get()));
        });
    self.set(contact(server, random));
    return self.get();
  }

  private static Response echo(Contact server, Request.FindNode request) {
    return new Response.NodesFound(
        server, List.of(new Contact(request.target(), server.address())));
  }

  private static boolean isEchoOf(Response response, NodeId target, Contact server) {
    return response instanceof Response.NodesFound found
        && found.sender().equals(server)
        && found.contacts().size() == 1
        && found.contacts().get(0).id().equals(target);
  }

  private static Contact contact(Transport transport, SplittableRandom random) {
    return contact(random, transport.localAddress());
  }

  private static Contact contact(SplittableRandom random, Address address) {
    return new Contact(NodeId.random(random), address);
  }

  private static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK has no Ed25519", e);
    }
  }
}
