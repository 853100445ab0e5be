package dev.kad.transport.tcp;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.KadException;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.util.AttributeKey;
import java.net.SocketAddress;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.Fuseable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.publisher.Sinks;

/**
 * One connection to a peer, whichever side dialed it, carrying requests in both directions.
 * Outbound requests get a request id ({@code rid}) that is unique on this connection and
 * increasing; the peer's response carries it back, so any number of requests are in flight at once
 * and answered in any order. Inbound requests go to the owner's handler and are answered with the
 * same rid.
 *
 * <p>When the connection closes, every pending request fails at once: with the cause given to
 * {@link #close(KadException)}; with {@link NotSent} when its frame had not gone out yet (the peer
 * never saw it, so it may be sent on another connection); otherwise with {@link ClosedByPeer} or
 * {@link UnreachableContactException}.
 *
 * <p>A dialed connection can be {@linkplain #retire() retired} to stay within {@code
 * maxOutboundConnections}: from then on it refuses new requests with {@link Retired}, so that their
 * senders dial again, and it closes as soon as the requests it already carries are answered.
 */
final class PeerConnection {

  static final AttributeKey<PeerConnection> KEY = AttributeKey.valueOf("kad.peer");

  /** On a dial-back's channel, set by the dial: the claim it checks. */
  static final AttributeKey<Claim> CHECKS = AttributeKey.valueOf("kad.checks");

  private static final Logger log = LoggerFactory.getLogger(PeerConnection.class);

  /** What a connection needs from the transport that owns it. */
  interface Owner {
    /**
     * Answers an inbound request; never errors (failures become {@code Failure}). An answer known
     * at once comes as {@code Mono.just}, which the connection writes without subscribing.
     */
    Mono<Response> answer(Request request);

    /**
     * The answer to an inbound request over {@code connection} that is not to reach the handler
     * (its source is over its rate), or empty to let it through. Called on the connection's event
     * loop, one request at a time, before {@link #learned}.
     */
    Optional<Response> refuse(PeerConnection connection, Request request);

    /**
     * The verdict on the sender address an inbound request over {@code connection} claims: a {@code
     * Mono} that emits the answer refusing the request, or completes empty when the claim passes;
     * {@code Mono.just} or {@code Mono.empty()} when known at once, which the connection reads
     * without subscribing. Called on the connection's event loop after {@link #refuse}.
     */
    Mono<Response> checkSender(PeerConnection connection, Request request);

    /** The peer's advertised contact, seen on an inbound request over {@code connection}. */
    void learned(PeerConnection connection, Contact sender);

    /**
     * Whether {@code echo} is the {@linkplain Preface#binding binding} of a connection this node
     * dialed and still has open.
     */
    boolean dialedWith(byte[] echo);

    /** The answer to the dial-back {@code dialBack}: whether its claimant's claim holds. */
    void claimChecked(PeerConnection dialBack, boolean confirmed);
  }

  /**
   * An accepted connection whose peer advertised {@code address}, as a dial-back to that address
   * checks it: {@code echo} binds the claimant's nonce to this node's advertised address.
   */
  record Claim(Address address, PeerConnection claimant, byte[] echo) {}

  private final Channel channel;
  private final boolean inbound;
  private final WireCodec codec;
  private final TransportMetrics metrics;
  private final Owner owner;
  private final int maxConcurrentRequests;
  private final Map<Long, Pending> pending = new ConcurrentHashMap<>();
  private final AtomicLong lastRid = new AtomicLong();
  private final AtomicInteger answering = new AtomicInteger();
  private final AtomicBoolean senderLearned = new AtomicBoolean();
  private final AtomicBoolean outOfService = new AtomicBoolean();

  /**
   * On an accepted connection, set while the transport is about to evict it for a newcomer, so that
   * newcomers arriving together each pick another one.
   */
  private final AtomicBoolean evicting = new AtomicBoolean();

  private final Set<Address> registeredAs = ConcurrentHashMap.newKeySet();
  private final Sinks.Empty<Void> closed = Sinks.empty();

  /** The violation this side closed the connection for, said in its pending requests' failure. */
  private volatile String violation;

  private final byte[] nonce;
  private volatile byte[] binding;
  private final Claim checking;
  private volatile boolean open = true;

  /**
   * Whether a well-formed message came from the peer: it took the connection and what was sent on
   * it, so a close after that is most likely an idle close or an eviction, not a refusal.
   */
  private volatile boolean exchanged;

  /** On an accepted connection, the nonce the dialing peer sent in its preface. */
  private volatile byte[] peerNonce;

  /**
   * Whether the peer's preface says it reads a {@code subscribed}'s {@code renewed} field ({@link
   * Preface#READS_RENEWED}); set before any of its requests is read, so before any answer.
   */
  private volatile boolean peerReadsRenewed;

  /**
   * Whether the peer's preface says it reads a live-stream subscription's {@code token} field
   * ({@link Preface#READS_TOKEN}); set before {@link #prefaceArrived} completes.
   */
  private volatile boolean peerReadsToken;

  /**
   * Completes when the peer's preface has been read. A request that carries a token waits for it on
   * a dialed connection, whose first requests may leave before the acceptor's preface arrives:
   * written with the token, an earlier version would close the connection at the unknown field;
   * without it, a watcher's subscription would be held without its token, and a storage node's push
   * refused by the watcher that holds one.
   */
  private final CompletableFuture<Void> prefaceArrived = new CompletableFuture<>();

  /** On an accepted connection, the address its peer advertised (same IP), unchecked. */
  private volatile Address claimed;

  /**
   * {@link System#nanoTime()} of the last request sent, frame read or answer written, for eviction;
   * at first when the connection opened, so one that never carried a whole frame is quiet from
   * then.
   */
  private volatile long lastUsed = System.nanoTime();

  private volatile boolean retired;

  /**
   * The bucket of {@code maxRequestsPerSecondPerIp} that inbound requests on this connection take
   * from, or null when they are not bounded; {@code rateKnown} once the owner looked it up. Used
   * only on the connection's event loop, by the owner's {@link Owner#refuse}.
   */
  private RequestRates.Bucket rate;

  private boolean rateKnown;

  /**
   * The sender host names requests on this connection claimed, which the owner's {@link
   * Owner#checkSender} bounds; used only on the event loop.
   */
  private final Set<String> claimedHosts = new HashSet<>();

  /** Set by the first request refused for its claimed sender: it is logged at WARN. */
  private final AtomicBoolean spoofWarned = new AtomicBoolean();

  /**
   * On a dialed connection, set until the dial that opened it has handed it to the senders waiting
   * for it, or one of them took a request: the connection is about to carry their requests, so it
   * is neither idle nor a candidate for eviction. Cleared by {@link #dialSettled()} in any case, so
   * that a connection whose senders all gave up while it was dialed is bounded and idle-closed as
   * any other.
   */
  private volatile boolean reserved;

  private volatile boolean closedByUs;
  private volatile KadException closeCause;

  /**
   * Why no request can go over this connection, as the message its requests fail with: its TLS
   * handshake or session failed, or (on a dialed connection) this side refused the peer's preface;
   * null while neither happened.
   */
  private volatile Unusable unusable;

  /**
   * Why no request can go over a connection, and whether because the peer's settings and this
   * node's do not fit ({@link IncompatiblePeerException}, which no retry mends).
   */
  private record Unusable(String message, boolean incompatible) {}

  PeerConnection(
      Channel channel,
      boolean inbound,
      WireCodec codec,
      TransportMetrics metrics,
      Owner owner,
      int maxConcurrentRequests,
      byte[] nonce,
      Claim checking) {
    this.channel = channel;
    this.nonce = nonce;
    this.checking = checking;
    this.inbound = inbound;
    this.codec = codec;
    this.metrics = metrics;
    this.owner = owner;
    this.maxConcurrentRequests = maxConcurrentRequests;
    this.reserved = !inbound;
  }

  boolean inbound() {
    return inbound;
  }

  /** This side's nonce, sent in its preface when it dialed. */
  byte[] nonce() {
    return nonce;
  }

  /**
   * On a dialed connection, its nonce bound to the socket it reached ({@link Preface#binding}),
   * which a dial-back from the node there echoes; null when accepted or not connected.
   */
  byte[] binding() {
    byte[] b = binding;
    if (b == null && !inbound) {
      b = Preface.binding(nonce, channel.remoteAddress());
      binding = b;
    }
    return b;
  }

  /** On a dial-back, the claim it checks; otherwise null. */
  Claim checking() {
    return checking;
  }

  /**
   * Takes in the peer's preface. On an accepted connection it keeps the dialer's nonce, for a
   * dial-back to bind later, and tells whether the binding the dialer echoed is one of this node's.
   * On a dial-back it reports the acceptor's answer to the owner.
   *
   * @return whether to set {@link Preface#CONFIRMED} in the answering preface (accepted side)
   */
  boolean prefaceReceived(Preface.Received preface) {
    peerReadsRenewed = preface.has(Preface.READS_RENEWED);
    peerReadsToken = preface.has(Preface.READS_TOKEN);
    prefaceArrived.complete(null);
    if (inbound) {
      peerNonce = preface.nonce();
      return preface.has(Preface.ECHO) && owner.dialedWith(preface.echo());
    }
    if (checking != null) {
      owner.claimChecked(this, preface.has(Preface.CONFIRMED));
    }
    return false;
  }

  /** On an accepted connection, the dialer's nonce, or null before its preface. */
  byte[] peerNonce() {
    return peerNonce;
  }

  void claimed(Address address) {
    claimed = address;
  }

  /** On an accepted connection, the address its peer claimed, or null. */
  Address claimed() {
    return claimed;
  }

  Channel channel() {
    return channel;
  }

  /**
   * Closes the channel from this side (a violation, idleness, shutdown), so that bytes left unread
   * are not mistaken for a frame the peer truncated.
   */
  void closeChannel() {
    closedByUs = true;
    channel.close();
  }

  boolean closedByUs() {
    return closedByUs;
  }

  /**
   * Marks the connection as closed from this side before the close itself, which waits for a last
   * write to the peer (the answer to a refused preface).
   */
  void closingByUs() {
    closedByUs = true;
  }

  /**
   * Records the protocol violation this side closes the connection for (no preface in time, a peer
   * that is not a kad node), so that the requests pending on it fail with it rather than with a
   * bare "closed": the one line a command prints then says what to fix.
   */
  void violated(Violation violation, String detail) {
    if (this.violation == null) {
      this.violation = violation.description() + ": " + detail;
    }
  }

  /**
   * Records why this side refuses the peer, a kad node whose settings do not fit this node's,
   * before it closes the connection: its pending requests fail with {@link
   * IncompatiblePeerException} and {@code reason} as their message, and are not sent again (another
   * connection to the peer would be refused the same way).
   *
   * @param reason names the peer's address and what is wrong, e.g. {@code "peer at 192.0.2.7:7000
   *     speaks kad protocol v2 with format CBOR but this node speaks v2 with JSON"}
   */
  void refusedPeer(String reason) {
    unusable(reason, true);
  }

  /**
   * Records why TLS failed on this connection, before it closes: its requests fail with {@code
   * message}, and are not sent again (another connection would fail the same way).
   *
   * @param message names the peer's address and what failed
   * @param incompatible whether the settings of the peer and of this node do not fit (TLS on one
   *     side only, a certificate one side does not trust): the requests fail with {@link
   *     IncompatiblePeerException}, else with a transient {@link UnreachableContactException}
   */
  void tlsFailed(String message, boolean incompatible) {
    unusable(message, incompatible);
  }

  /** The first reason wins: a close that follows a failure does not hide it. */
  private void unusable(String message, boolean incompatible) {
    if (unusable == null) {
      unusable = new Unusable(message, incompatible);
    }
  }

  /**
   * What a request fails with when no request can go over this connection ({@link #tlsFailed},
   * {@link #refusedPeer}), or null while it can.
   *
   * @param cause the underlying failure, or null
   */
  UnreachableContactException unusable(Throwable cause) {
    Unusable why = unusable;
    if (why == null) {
      return null;
    }
    return why.incompatible()
        ? new IncompatiblePeerException(why.message(), cause)
        : new UnreachableContactException(why.message(), cause);
  }

  /** Whether new requests may use this connection: open and not retired. */
  boolean takesRequests() {
    return open && !retired && channel.isActive();
  }

  /**
   * Takes this connection out of service for eviction. Only the first of this and {@link
   * #leaveService()} succeeds, so the caller that gets {@code true} owns the eviction and, for a
   * dialed connection, takes it off the outbound count, exactly once (an accepted one leaves the
   * inbound count when it closes). New requests are refused with {@link Retired} from now on; the
   * channel closes once no request sent on it is pending, at once when none is.
   *
   * <p>{@code retired} is written before {@code pending} is read here, and {@link #request} adds to
   * {@code pending} before reading {@code retired}, so at least one side sees the other: a request
   * is either refused, or seen pending here and answered before the close.
   */
  boolean retire() {
    if (!outOfService.compareAndSet(false, true)) {
      return false;
    }
    retired = true;
    closeIfRetiredAndIdle();
    return true;
  }

  /**
   * Claims this accepted connection for one newcomer's eviction; only one claim holds at a time.
   *
   * @return false when another newcomer's eviction holds it
   */
  boolean claimEviction() {
    return evicting.compareAndSet(false, true);
  }

  /** Gives up a {@linkplain #claimEviction claim}: the connection turned busy before its close. */
  void releaseEviction() {
    evicting.set(false);
  }

  /** Whether a newcomer's eviction holds this connection ({@link #claimEviction}). */
  boolean evicting() {
    return evicting.get();
  }

  /**
   * Takes a closed connection out of service, unless {@link #retire()} already did.
   *
   * @return true when this call did, and the caller takes it off the outbound count
   */
  boolean leaveService() {
    return outOfService.compareAndSet(false, true);
  }

  /** Closes a retired connection once nothing is in flight either way, an answer included. */
  private void closeIfRetiredAndIdle() {
    if (retired && open && pending.isEmpty() && answering.get() == 0) {
      closeChannel();
    }
  }

  /**
   * Why a new request cannot go out on this connection, or null when it can. Closed without a cause
   * (idle, by the peer, a violation), it was taken by a sender before the close: nothing was
   * written, so the request is {@link NotSent} and goes out on another connection.
   */
  private KadException refusal() {
    if (retired && closeCause == null) {
      return new Retired(this);
    }
    if (open) {
      return null;
    }
    KadException cause = closeCause;
    if (cause == null) {
      cause = unusable(null);
    }
    return cause != null ? cause : new NotSent(this, "it closed before the request was written");
  }

  /**
   * Requests in flight in either direction, or a dial still handing this connection to its senders:
   * an idle connection with any is kept open, and not evicted.
   */
  boolean busy() {
    return reserved || !pending.isEmpty() || answering.get() > 0;
  }

  /**
   * Called once the dial that opened this connection has handed it to every sender still waiting
   * for it: from now on it is idle when nothing is in flight.
   *
   * @return true when no request was ever taken, because every sender of the dial gave up (timed
   *     out or cancelled) before the connection was up: it is idle already
   */
  boolean dialSettled() {
    boolean unused = reserved;
    reserved = false;
    return unused;
  }

  /** Whether the dial that opened this connection has yet to hand it out ({@link #dialSettled}). */
  boolean reserved() {
    return reserved;
  }

  int pendingRequests() {
    return pending.size();
  }

  long lastUsed() {
    return lastUsed;
  }

  /** Whether the owner looked up {@link #rate()}; on the event loop only. */
  boolean rateKnown() {
    return rateKnown;
  }

  /** The bucket inbound requests take from, or null; on the event loop only. */
  RequestRates.Bucket rate() {
    return rate;
  }

  void rate(RequestRates.Bucket bucket) {
    rate = bucket;
    rateKnown = true;
  }

  /** The sender host names requests on this connection claimed; on the event loop only. */
  Set<String> claimedHosts() {
    return claimedHosts;
  }

  /** Whether this is the first request refused for its claimed sender on this connection. */
  boolean firstSpoof() {
    return spoofWarned.compareAndSet(false, true);
  }

  /** Claims the right to learn the peer's advertised address, once per connection. */
  boolean claimSender() {
    return senderLearned.compareAndSet(false, true);
  }

  void registeredAs(Address address) {
    registeredAs.add(address);
  }

  Set<Address> registrations() {
    return registeredAs;
  }

  /**
   * Sends a request and emits its response.
   *
   * <p>Subscribing writes the request; the {@code Mono} emits the peer's response, or errors with
   * {@link UnreachableContactException} when the connection closes or the write fails, with {@link
   * InvalidMessageException} when the request does not fit in a frame, with {@link Retired} when
   * the connection was retired, with {@link NotSent} when it closed before the request's frame went
   * out (in both cases the peer never saw it: send it on another connection), or with the close
   * cause. Cancelling forgets the request: its response, if it comes, is dropped as late.
   */
  Mono<Response> request(Request request) {
    return Mono.create(
        sink -> {
          KadException refused = refusal();
          if (refused != null) {
            sink.error(refused);
            return;
          }
          long rid = lastRid.incrementAndGet();
          lastUsed = System.nanoTime();
          Pending p = new Pending(sink);
          pending.put(rid, p);
          // After the put: the connection stays busy throughout. Read first: a volatile write
          // on every request costs more than the read, and only a dial's first request clears it.
          if (reserved) {
            reserved = false;
          }
          sink.onDispose(() -> forget(rid, p));
          refused = refusal();
          if (refused != null) {
            // close() may have drained the map, or retire() found it empty, before our put
            fail(rid, p, refused);
            return;
          }
          if (!prefaceArrived.isDone() && token(request) != 0) {
            // Only on a dialed connection: an accepted one answers after the dialer's preface.
            // A close meanwhile fails the request as not sent, and the write below is skipped.
            prefaceArrived.thenRun(() -> write(rid, p, request));
            return;
          }
          write(rid, p, request);
        });
  }

  /** Encodes and writes a request registered as {@code rid}, unless it already ended. */
  private void write(long rid, Pending p, Request request) {
    if (pending.get(rid) != p) {
      return;
    }
    ByteBuf frame;
    try {
      frame = codec.encode(channel.alloc(), rid, peerReadsToken ? request : untokened(request));
    } catch (KadException e) {
      fail(rid, p, e);
      return;
    }
    channel
        .writeAndFlush(frame)
        .addListener(
            f -> {
              if (f.isSuccess()) {
                p.written = true;
              } else {
                // A frame whose write failed did not reach the peer whole: never handled.
                fail(rid, p, new NotSent(this, "its write failed: " + f.cause()));
              }
            });
  }

  /** A live-stream request's subscription token, or 0 for none and for other requests. */
  private static long token(Request request) {
    if (request instanceof Request.Subscribe r) {
      return r.token();
    } else if (request instanceof Request.Unsubscribe r) {
      return r.token();
    } else if (request instanceof Request.Notify r) {
      return r.token();
    }
    return 0;
  }

  /**
   * {@code request} without its token, for a peer that predates the field (it would refuse it and
   * close the connection): it subscribes, unsubscribes and pushes as it always has.
   */
  private static Request untokened(Request request) {
    if (request instanceof Request.Subscribe r) {
      return r.withToken(0);
    } else if (request instanceof Request.Unsubscribe r) {
      return r.withToken(0);
    } else if (request instanceof Request.Notify r) {
      return r.withToken(0);
    }
    return request;
  }

  /**
   * A request waiting for its response. {@code written} is set once its whole frame went to the
   * socket; the write's listener runs on the event loop, as the channel's close does, so a close
   * sees it set exactly when the peer may have received the request.
   */
  private static final class Pending {
    final MonoSink<Response> sink;
    volatile boolean written;

    Pending(MonoSink<Response> sink) {
      this.sink = sink;
    }
  }

  private void fail(long rid, Pending p, KadException e) {
    if (pending.remove(rid, p)) {
      p.sink.error(e);
      closeIfRetiredAndIdle();
    }
  }

  private void forget(long rid, Pending p) {
    if (pending.remove(rid, p)) {
      closeIfRetiredAndIdle();
    }
  }

  /**
   * Reads the connection: decodes each frame body, completes pending requests with responses and
   * answers requests, at most {@code maxConcurrentRequests} at once (more stop the reading).
   * Completes when the connection's inbound side ends; a body that does not decode closes the
   * connection.
   */
  Mono<Void> serve(Flux<?> frames) {
    return frames
        .flatMap(this::onFrame, maxConcurrentRequests)
        .onErrorResume(
            e -> {
              log.debug("{}: inbound ended with {}", this, e.toString());
              return Mono.empty();
            })
        .then();
  }

  private Mono<Void> onFrame(Object frame) {
    if (!(frame instanceof ByteBuf body) || !open) {
      return Mono.empty();
    }
    lastUsed = System.nanoTime();
    WireCodec.Decoded decoded;
    try {
      decoded = codec.decode(body); // synchronous: the body is released after onNext
    } catch (InvalidMessageException e) {
      metrics.violation(Violation.MALFORMED_MESSAGE, remote(), e.getMessage());
      closeChannel();
      return Mono.empty();
    }
    exchanged = true;
    if (decoded.message() instanceof Response response) {
      onResponse(decoded.rid(), response);
      return Mono.empty();
    }
    Request request = (Request) decoded.message();
    Optional<Response> refused = owner.refuse(this, request);
    if (refused.isPresent()) {
      // Answered at once, and nothing else: not the handler, not the sender's claimed address.
      writeResponse(decoded.rid(), refused.get());
      return Mono.empty();
    }
    return checkedAnswer(decoded.rid(), request, owner.checkSender(this, request));
  }

  /**
   * Answers {@code request} once the check of its claimed sender passes (completes empty), or with
   * the refusal it emits. In flight meanwhile, so the connection is neither idle nor closed under
   * it.
   */
  private Mono<Void> checkedAnswer(long rid, Request request, Mono<Response> senderRefused) {
    if (senderRefused instanceof Fuseable.ScalarCallable<?> now) {
      Response refusal;
      try {
        refusal = (Response) now.call();
      } catch (Exception e) {
        throw Exceptions.propagate(e); // not from Mono.just or Mono.empty
      }
      if (refusal != null) {
        writeResponse(rid, refusal);
        return Mono.empty();
      }
      owner.learned(this, request.sender());
      return answer(rid, request);
    }
    answering.incrementAndGet();
    return senderRefused
        .doOnNext(refusal -> writeResponse(rid, refusal))
        .hasElement()
        .flatMap(
            refused -> {
              if (refused || !open) {
                return Mono.<Void>empty();
              }
              owner.learned(this, request.sender());
              return answer(rid, request);
            })
        .takeUntilOther(closed.asMono())
        .doFinally(
            s -> {
              answering.decrementAndGet();
              closeIfRetiredAndIdle();
            });
  }

  private void onResponse(long rid, Response response) {
    Pending p = pending.remove(rid);
    if (p != null) {
      p.sink.success(response);
      closeIfRetiredAndIdle();
    } else if (rid > 0 && rid <= lastRid.get()) {
      metrics.lateResponses.increment();
      log.debug("{}: dropping late response rid={}", this, rid);
    } else {
      metrics.violation(
          Violation.UNKNOWN_RESPONSE,
          remote(),
          "rid=" + rid + " was never sent on this connection");
      closeChannel();
    }
  }

  private Mono<Void> answer(long rid, Request request) {
    answering.incrementAndGet();
    Mono<Response> answer = owner.answer(request);
    if (answer instanceof Fuseable.ScalarCallable<?> now) {
      // Answered already (Owner.answer): written at once, and flatMap takes the empty Mono
      // without subscribing to anything.
      try {
        writeResponse(rid, (Response) now.call());
      } catch (Exception e) {
        throw Exceptions.propagate(e); // not from Mono.just, whose call() throws nothing
      } finally {
        answering.decrementAndGet();
        closeIfRetiredAndIdle();
      }
      return Mono.empty();
    }
    return answer
        .doOnNext(response -> writeResponse(rid, response))
        .then()
        .takeUntilOther(closed.asMono())
        .doFinally(
            s -> {
              answering.decrementAndGet();
              closeIfRetiredAndIdle();
            });
  }

  private void writeResponse(long rid, Response response) {
    if (response instanceof Response.Subscribed s
        && ((s.renewed() && !peerReadsRenewed) || (s.token() != 0 && !peerReadsToken))) {
      // A peer that predates a field would refuse it and close the connection; without it, it
      // reads the answer as it always has.
      response =
          new Response.Subscribed(
              s.sender(), s.ttl(), s.renewed() && peerReadsRenewed, peerReadsToken ? s.token() : 0);
    }
    ByteBuf frame;
    try {
      frame = codec.encode(channel.alloc(), rid, response);
    } catch (KadException e) {
      metrics.warn(
          TransportMetrics.Warning.OVERSIZED_RESPONSE,
          "{}: cannot send response rid={}: {}",
          this,
          rid,
          e.getMessage());
      frame =
          codec.encode(
              channel.alloc(),
              rid,
              new Response.Failure(
                  response.sender(), Response.Code.LIMIT, "response over maxFrameBytes"));
    }
    lastUsed = System.nanoTime();
    channel.writeAndFlush(frame);
  }

  /**
   * Closes the connection, failing pending requests with {@code cause} first.
   *
   * @return completes when the channel is closed
   */
  Mono<Void> close(KadException cause) {
    closeCause = cause;
    open = false;
    failPending(cause);
    closeChannel();
    return closed.asMono();
  }

  /** Called once the channel is closed, whoever closed it. */
  void onChannelClosed() {
    open = false;
    KadException cause = closeCause;
    if (cause == null) {
      cause = unusable(null);
    }
    if (cause != null) {
      failPending(cause);
    } else {
      // Closed before anything came from the peer, the connection or a message on it was refused
      // (another format, too many connections, a message it takes for malformed): sending again
      // would be refused again. A request whose frame had not gone out, though, the peer never saw
      // (this side closed the connection, idle, just as a sender took it): it goes out elsewhere.
      String why = violation;
      KadException ifWritten =
          closedByUs || !exchanged
              ? new UnreachableContactException(
                  "connection " + this + " closed" + (why != null ? ": " + why : ""))
              : new ClosedByPeer(this);
      for (Map.Entry<Long, Pending> e : pending.entrySet()) {
        Pending p = e.getValue();
        fail(
            e.getKey(),
            p,
            p.written ? ifWritten : new NotSent(this, "it closed before the request was written"));
      }
    }
    closed.tryEmitEmpty();
  }

  private void failPending(KadException cause) {
    for (Map.Entry<Long, Pending> e : pending.entrySet()) {
      fail(e.getKey(), e.getValue(), cause);
    }
  }

  SocketAddress remote() {
    return channel.remoteAddress();
  }

  @Override
  public String toString() {
    return (inbound ? "from " : "to ") + HostPort.of(channel.remoteAddress());
  }

  /**
   * A request pending on a connection the peer closed after messages went both ways. The peer may
   * be gone, or may have closed an idle-looking connection just as the request went out (TCP has no
   * way to tell it one was on the wire): the transport dials again and retries it, which a peer
   * that is gone refuses at once. A connection closed before anything came back is not retried.
   */
  static final class ClosedByPeer extends UnreachableContactException {

    private static final long serialVersionUID = 1L;

    ClosedByPeer(PeerConnection connection) {
      super("connection " + connection + " closed by the peer before the answer");
    }
  }

  /**
   * A request that never reached the peer: the connection refused it or closed before its frame was
   * written. Sending it on another connection cannot repeat it, so the transport dials again and
   * retries it.
   */
  static class NotSent extends UnreachableContactException {

    private static final long serialVersionUID = 1L;

    NotSent(PeerConnection connection, String why) {
      super("request not sent on connection " + connection + ": " + why);
    }
  }

  /** A request refused by a retired connection; the transport dials again and retries it. */
  static final class Retired extends NotSent {

    private static final long serialVersionUID = 1L;

    Retired(PeerConnection connection) {
      super(
          connection,
          "it was closed to stay within "
              + (connection.inbound() ? "maxInboundConnections" : "maxOutboundConnections"));
    }
  }

  /**
   * Whether a request that failed with {@code e} is to be sent again on another connection: the
   * peer never saw it ({@link NotSent}, {@link Retired}), or may have closed an idle-looking
   * connection as it went out ({@link ClosedByPeer}).
   */
  static boolean sendAgain(Throwable e) {
    return e instanceof NotSent || e instanceof ClosedByPeer;
  }
}
