package dev.kad.testkit;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadException;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * A {@link Transport} whose messages travel through a {@link SimulatedNetwork}, subject to its
 * latency, loss, partitions and kills. Obtain one from {@link SimulatedNetwork#newTransport()}.
 *
 * <pre>{@code
 * InMemoryTransport transport = network.newTransport();
 * Mono<Response> pong =
 *     transport.start(request -> Mono.just(new Response.Pong(me)))
 *         .then(transport.send(peer, new Request.Ping(me)));
 * }</pre>
 *
 * <p>Failure semantics, all on the network's scheduler:
 *
 * <ul>
 *   <li>No answer (lost message, partition, dead, closed or unstarted peer): the request errors
 *       with {@link KadTimeoutException} after {@link SimulatedNetwork#requestTimeout()}.
 *   <li>A peer address the network never handed out, or a sender the network killed: the request
 *       errors at once with {@link UnreachableContactException}.
 *   <li>The handler of the serving node signals an error (or completes empty): the caller receives
 *       {@code Failure(sender, INTERNAL, ...)} as a value, where {@code sender} is the contact the
 *       serving handler put in its latest response. A transport does not know its node's id, so if
 *       the handler fails before it ever answered, the caller's request errors with a non-transient
 *       {@link KadException} naming the peer instead.
 *   <li>After {@link #close()}: pending requests and new sends error with {@link
 *       NodeClosedException}, and inbound requests are dropped.
 * </ul>
 *
 * <p>Thread-safe: sends may come from many threads at once, and the handler may be called
 * concurrently.
 */
public final class InMemoryTransport implements Transport {

  private static final Logger log = LoggerFactory.getLogger(InMemoryTransport.class);

  private final SimulatedNetwork network;
  private final SimulatedNetwork.Endpoint endpoint;
  private final Address address;
  private final AtomicReference<RequestHandler> handler = new AtomicReference<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final ConcurrentMap<Long, MonoSink<Response>> pending = new ConcurrentHashMap<>();
  private final Disposable.Composite serving = Disposables.composite();
  private final AtomicReference<Contact> servingContact = new AtomicReference<>();
  private final Sinks.Empty<Void> onClose = Sinks.empty();

  InMemoryTransport(SimulatedNetwork network, SimulatedNetwork.Endpoint endpoint) {
    this.network = network;
    this.endpoint = endpoint;
    this.address = endpoint.address;
  }

  /**
   * The address this transport serves at, known from creation on (unlike {@link #localAddress()},
   * which the SPI only allows after start).
   *
   * @return the synthetic address
   */
  public Address address() {
    return address;
  }

  /**
   * The network's scheduler: a node built on this transport runs its timers on the clock the
   * network delivers on (taken when the builder sets none; another fails the build).
   *
   * @return the network's scheduler
   */
  @Override
  public Optional<Scheduler> scheduler() {
    return Optional.of(network.scheduler());
  }

  /**
   * The network this transport belongs to.
   *
   * @return the network that created it
   */
  public SimulatedNetwork network() {
    return network;
  }

  /**
   * Registers {@code handler} for the requests arriving at {@link #address()}.
   *
   * <p>Subscribing registers it; the {@code Mono} completes at once. Errors with {@link
   * IllegalStateException} when already started and with {@link NodeClosedException} when closed.
   *
   * @param handler answers every inbound request; its {@code Mono} is subscribed once per request
   * @return completes once the transport is serving
   */
  @Override
  public Mono<Void> start(RequestHandler handler) {
    Objects.requireNonNull(handler, "handler");
    return Mono.defer(
        () -> {
          if (closed.get()) {
            return Mono.error(closedException());
          }
          if (!this.handler.compareAndSet(null, handler)) {
            return Mono.error(
                new IllegalStateException(
                    "transport "
                        + address
                        + " was already started: a transport serves one node, so give each"
                        + " node a transport of its own"));
          }
          log.debug("in-memory transport started at {}", address);
          return Mono.empty();
        });
  }

  /**
   * {@inheritDoc}
   *
   * @throws IllegalStateException before {@link #start(RequestHandler)} completed
   */
  @Override
  public Address localAddress() {
    if (handler.get() == null) {
      throw new IllegalStateException("transport " + address + " is not started");
    }
    return address;
  }

  /**
   * Sends {@code request} to {@code to} through the network.
   *
   * <p>Subscribing transmits the request (after the network's latency). The {@code Mono} emits the
   * peer's response, possibly a {@link Response.Failure}, and errors with {@link
   * KadTimeoutException} when no response arrives within the network's request timeout, {@link
   * UnreachableContactException} at once when {@code to} was never handed out or this node is
   * killed, {@link NodeClosedException} when this transport is or becomes closed, and {@link
   * IllegalStateException} before start or once the network's scheduler is disposed (as {@code
   * StepVerifier.withVirtualTime} leaves the one it is given). Cancelling forgets the request: a
   * late response is dropped. Timers run on the network's scheduler.
   *
   * @param to the peer's address
   * @param request the request
   * @return the response
   */
  @Override
  public Mono<Response> send(Address to, Request request) {
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(request, "request");
    return Mono.create(sink -> transmit(to, request, sink));
  }

  private void transmit(Address to, Request request, MonoSink<Response> sink) {
    if (handler.get() == null && !closed.get()) {
      sink.error(new IllegalStateException("transport " + address + " must be started to send"));
      return;
    }
    long id = network.nextRequestId();
    Disposable.Swap timer = Disposables.swap();
    pending.put(id, sink);
    sink.onDispose(
        () -> {
          pending.remove(id, sink);
          timer.dispose();
        });
    if (closed.get()) {
      fail(id, closedException());
      return;
    }
    if (network.scheduler().isDisposed()) {
      // Nothing would arrive, and lookups would quietly find nothing.
      fail(id, new IllegalStateException(VirtualTime.disposed(network.scheduler())));
      return;
    }
    Duration timeout = network.requestTimeout();
    timer.update(
        network
            .scheduler()
            .schedule(
                () ->
                    fail(
                        id,
                        new KadTimeoutException(
                            "no answer from "
                                + to
                                + " to "
                                + kind(request)
                                + " within "
                                + timeout.toMillis()
                                + " ms")),
                timeout.toNanos(),
                TimeUnit.NANOSECONDS));
    try {
      network.transmitRequest(endpoint, to, request, target -> target.serve(request, endpoint, id));
    } catch (UnreachableContactException e) {
      fail(id, e);
    }
  }

  /**
   * Stops the transport.
   *
   * <p>Subscribing closes it: inbound requests are dropped from then on, handler executions in
   * progress are cancelled, pending requests error with {@link NodeClosedException}, and the
   * address may be reused by {@link SimulatedNetwork#newTransport(Address)}. Completes when done;
   * closing twice is harmless.
   *
   * @return completes when closed
   */
  @Override
  public Mono<Void> close() {
    return Mono.defer(
        () -> {
          if (closed.compareAndSet(false, true)) {
            serving.dispose();
            for (Long id : List.copyOf(pending.keySet())) {
              fail(id, closedException());
            }
            onClose.tryEmitEmpty();
            log.debug("in-memory transport closed at {}", address);
          }
          return onClose.asMono();
        });
  }

  /**
   * Completes when this transport is closed; cancelling the subscription has no effect on the
   * transport.
   *
   * @return completes after {@link #close()}
   */
  public Mono<Void> onClose() {
    return onClose.asMono();
  }

  /**
   * Whether {@link #close()} ran.
   *
   * @return true once closed
   */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * How many sent requests await their response, for asserting that cancellation and timeouts
   * release them.
   *
   * @return the number of pending requests
   */
  public int pendingRequests() {
    return pending.size();
  }

  // ---- called by SimulatedNetwork on arrival ----

  boolean isServing() {
    return handler.get() != null && !closed.get();
  }

  /** A request arrived: answer it with the handler, subscribing its Mono once. */
  private void serve(Request request, SimulatedNetwork.Endpoint from, long id) {
    RequestHandler current = handler.get();
    if (current == null || closed.get()) {
      return;
    }
    Disposable.Swap slot = Disposables.swap();
    if (!serving.add(slot)) {
      return;
    }
    slot.update(
        Mono.defer(() -> current.handle(request))
            .switchIfEmpty(
                Mono.error(() -> new IllegalStateException("handler completed without a response")))
            .doFinally(signal -> serving.remove(slot))
            .subscribe(
                response -> answer(from, id, response),
                error -> answerHandlerError(from, id, request, error)));
  }

  private void answer(SimulatedNetwork.Endpoint to, long id, Response response) {
    servingContact.set(response.sender());
    network.transmitResponse(endpoint, to, caller -> caller.complete(id, response));
  }

  private void answerHandlerError(
      SimulatedNetwork.Endpoint to, long id, Request request, Throwable error) {
    log.warn(
        "handler at {} failed on {} from {}: {}",
        address,
        kind(request),
        request.sender(),
        error.toString());
    String message = "internal error handling " + kind(request) + ": " + error.getMessage();
    Contact self = servingContact.get();
    if (self != null) {
      Response failure = new Response.Failure(self, Response.Code.INTERNAL, message);
      network.transmitResponse(endpoint, to, caller -> caller.complete(id, failure));
    } else {
      KadException exception = new KadException("peer " + address + " failed: " + message);
      network.transmitResponse(endpoint, to, caller -> caller.fail(id, exception));
    }
  }

  private void complete(long id, Response response) {
    MonoSink<Response> sink = pending.remove(id);
    if (sink != null) {
      sink.success(response);
    }
  }

  private void fail(long id, Throwable error) {
    MonoSink<Response> sink = pending.remove(id);
    if (sink != null) {
      sink.error(error);
    }
  }

  private NodeClosedException closedException() {
    return new NodeClosedException("transport " + address + " is closed");
  }

  private static String kind(Request request) {
    return request.getClass().getSimpleName();
  }
}
