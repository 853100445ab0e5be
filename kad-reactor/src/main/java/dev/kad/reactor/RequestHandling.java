package dev.kad.reactor;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadId;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.message.Response.Code;
import dev.kad.api.spi.RequestHandler;
import dev.kad.reactor.routing.RoutingTable;
import dev.kad.reactor.routing.Subnets;
import dev.kad.reactor.store.RecordStore;
import dev.kad.reactor.store.StoreOutcome;
import dev.kad.reactor.watch.SubscriberRegistry;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Mono;

/**
 * Answers inbound requests (DESIGN, Messages). Every request is validated before it touches any
 * state: a wrong id width, an oversized value or one expiring too late, too many values or a bad
 * TTL is answered with {@link Response.Failure} and changes nothing, not even the routing table. A
 * value whose signature does not verify, or that expired, is refused by the store, with its index
 * and reason in {@link Response.Stored}. A valid request's sender is reported to {@code onSender}
 * first.
 */
final class RequestHandling implements RequestHandler {

  private static final Logger log = LoggerFactory.getLogger(RequestHandling.class);

  /** Callbacks into the node for what follows an accepted request. */
  interface Hooks {
    /** A valid request arrived from {@code sender}. */
    void heardFrom(Contact sender, Request request);

    /** Values of {@code key} were stored that changed what the key holds. */
    void stored(Key key, List<Value> changed);

    /**
     * A node pushed values.
     *
     * @return whether a watch on this node is subscribed (or subscribing) at the sender for the
     *     key: false refuses the push, and the storage node then ends that subscription
     */
    boolean notified(Request.Notify notify);

    /**
     * A Subscribe of {@code key} was refused while its address holds {@code stale}, subscriptions
     * of the key with other tokens that are due a probe ({@link SubscriberRegistry#probes}): push
     * each an empty Notify with its token, and end the ones whose push is refused.
     */
    void probe(Key key, List<SubscriberRegistry.Subscription> stale);
  }

  private final KadConfig config;
  private final Supplier<Contact> self;
  private final RoutingTable table;
  private final RecordStore store;
  private final SubscriberRegistry subscribers;
  private final Clock clock;
  private final Hooks hooks;

  /**
   * Whether the store was found full at a refused Store and said so: a full store refuses every new
   * value (an attacker's flood fills it without a line otherwise), said once per time it fills.
   */
  private final AtomicBoolean full = new AtomicBoolean();

  RequestHandling(
      KadConfig config,
      Supplier<Contact> self,
      RoutingTable table,
      RecordStore store,
      SubscriberRegistry subscribers,
      Clock clock,
      Hooks hooks) {
    this.config = config;
    this.self = self;
    this.table = table;
    this.store = store;
    this.subscribers = subscribers;
    this.clock = clock;
    this.hooks = hooks;
  }

  @Override
  public Mono<Response> handle(Request request) {
    return Mono.fromSupplier(() -> answer(request));
  }

  Response answer(Request request) {
    Optional<Response> refusal = validate(request);
    if (refusal.isPresent()) {
      return refusal.get();
    }
    hooks.heardFrom(request.sender(), request);
    Contact me = self.get();
    if (config.clientMode() && !(request instanceof Request.Notify)) {
      // A client serves nothing but its own watches' pushes. Answering as a node would let one
      // that dialed an address a departed node left to it (a port reused on the same host) take
      // it for that node's successor, learn it and hand it values.
      return new Response.Failure(
          me, Code.INVALID, "this node is a client (client mode): it does not serve the network");
    }
    if (request instanceof Request.Ping) {
      return new Response.Pong(me);
    } else if (request instanceof Request.FindNode r) {
      return new Response.NodesFound(
          me, config.contactsThatFit(closestFor(r.target(), r.sender()), List.of()));
    } else if (request instanceof Request.FindValue r) {
      List<Value> values = store.get(r.key(), clock.instant());
      return new Response.ValuesFound(
          me, values, config.contactsThatFit(closestFor(r.key(), r.sender()), values));
    } else if (request instanceof Request.Store r) {
      return store(me, r);
    } else if (request instanceof Request.Subscribe r) {
      SubscriberRegistry.Answer answer =
          subscribers.answer(r.key(), r.sender(), r.ttl(), clock.instant(), r.token());
      if (answer instanceof SubscriberRegistry.Grant grant) {
        // The token echoed: this node holds the subscription with it and pushes it in every
        // Notify, so the watcher may refuse a push claimed in this node's name without it.
        return new Response.Subscribed(me, grant.ttl(), grant.renewed(), r.token());
      }
      // The address's subscriptions of the key with other tokens may be stale (an Unsubscribe
      // lost, the watcher restarted there) and hold the place this one needs: probed, the watcher
      // refuses the ones it no longer holds, which ends them, and its retry finds room. One the
      // watcher holds (the Subscribe claimed its address without its token) it takes.
      List<SubscriberRegistry.Subscription> stale =
          subscribers.probes(r.key(), r.sender().address(), r.token(), clock.instant());
      if (!stale.isEmpty()) {
        hooks.probe(r.key(), stale);
      }
      return new Response.Failure(me, Code.LIMIT, refused((SubscriberRegistry.Refusal) answer, r));
    } else if (request instanceof Request.Unsubscribe r) {
      // Ends only the subscription made from the sender's address with the request's token: an id
      // claimed from elsewhere cannot cancel another address's pushes, nor an address claimed
      // without the watcher's token its subscription.
      subscribers.unsubscribe(r.key(), r.sender(), r.token());
      return new Response.Pong(me);
    } else if (request instanceof Request.Notify r) {
      if (!hooks.notified(r)) {
        // A storage node that still holds a subscription this node no longer wants (its
        // Unsubscribe was lost, a Subscribe arrived after the watch gave up, or this node
        // restarted with the same id): the refusal tells it to stop pushing now, not at the TTL.
        return new Response.Failure(
            me,
            Code.INVALID,
            "not watching key "
                + r.key().toShortHex()
                + " through "
                + r.sender().id().toShortHex()
                + ": drop the subscription");
      }
      return new Response.Pong(me);
    }
    return new Response.Failure(me, Code.INVALID, "unknown request " + request.getClass());
  }

  /** Why a Subscribe was refused, naming the bound and the setting it comes from. */
  private static String refused(SubscriberRegistry.Refusal refusal, Request.Subscribe r) {
    String key = r.key().toShortHex();
    Address at = r.sender().address();
    return switch (refusal.bound()) {
      case TOTAL ->
          "subscriber limit reached: this node holds its most subscriptions of all keys ("
              + refusal.limit()
              + ")";
      case PER_KEY ->
          "subscriber limit reached: key "
              + key
              + " has maxSubscribersPerKey ("
              + refusal.limit()
              + ") subscribers";
      case PER_IP_PER_KEY ->
          "subscriber limit reached: key "
              + key
              + " has "
              + refusal.limit()
              + " subscribers at the IP of "
              + at.host()
              + " (its IPv4 address or IPv6 /64, whatever the port), the most one IP may hold of"
              + " a key's places (a quarter of maxSubscribersPerKey, at least 1)";
      case PER_ADDRESS_PER_KEY ->
          "subscriber limit reached: key "
              + key
              + " has "
              + refusal.limit()
              + " subscriptions from "
              + at
              + " with other tokens, the most one address may hold of a key";
      case PER_SUBSCRIBER ->
          "subscriber limit reached: "
              + (Subnets.limitedIp(at) != null
                  ? "the IP of " + at.host() + " (every port of its IPv4 address or IPv6 /64)"
                  : "this subscriber's address " + at)
              + " holds maxSubscriptionsPerPeer ("
              + refusal.limit()
              + ") subscriptions here, whatever its ids";
    };
  }

  /**
   * The k closest known to {@code target} but the requester itself. Its id held at another address
   * stays in: a second node running with that id (a copied id file or data directory), which the
   * requester can learn of only so ({@code DefaultKadNode.noticeOwnId} checks the address), or the
   * requester's own address from before a restart on another port, or the address this node reached
   * it at behind a port mapping, which the requester finds to be itself.
   */
  private List<Contact> closestFor(KadId target, Contact requester) {
    return table.holdsElsewhere(requester)
        ? table.closest(target, config.k())
        : table.closest(target, config.k(), requester.id());
  }

  private Response store(Contact me, Request.Store r) {
    Instant now = clock.instant();
    Instant cachedUntil = r.cached() ? cachedKeepUntil(r.key(), now) : Instant.MAX;
    int accepted = 0;
    List<Response.Rejected> rejected = new ArrayList<>();
    List<Value> changed = new ArrayList<>();
    List<Value> values = r.values();
    for (int i = 0; i < values.size(); i++) {
      Value v = values.get(i);
      StoreOutcome outcome = store.store(r.key(), v, cachedUntil, r.cached(), now);
      if (outcome.accepted()) {
        accepted++;
        if (outcome.changed()) {
          changed.add(v);
        }
      } else {
        rejected.add(new Response.Rejected(i, outcome.reason()));
      }
    }
    if (!changed.isEmpty()) {
      hooks.stored(r.key(), changed);
    }
    if (!rejected.isEmpty() || full.get()) {
      noteFull();
    }
    return new Response.Stored(me, accepted, rejected);
  }

  /**
   * Says once that the store is full (no room for one more value of the largest size), and again
   * only after it had room.
   */
  private void noteFull() {
    long bytes = store.storedBytes();
    boolean noRoom =
        bytes > config.maxStoredBytes() - config.maxValueBytes() - KadConfig.STORED_VALUE_OVERHEAD;
    if (!noRoom) {
      full.set(false);
    } else if (full.compareAndSet(false, true)) {
      log.warn(
          "node={} store is full ({} of maxStoredBytes {}): it refuses values of up to"
              + " maxValueBytes until some expire; said again only after it had room",
          table.self().toShortHex(),
          bytes,
          config.maxStoredBytes());
    }
  }

  /**
   * A cached copy lives {@code expireAfter / 2^n}, where n is the number of known nodes closer to
   * the key than this one (Kademlia §2.5): copies far from the key fade first.
   */
  Instant cachedKeepUntil(Key key, Instant now) {
    int closer = 0;
    for (Contact c : table.closest(key, config.k())) {
      if (key.compareDistance(c.id(), table.self()) < 0) {
        closer++;
      }
    }
    long nanos = config.expireAfter().toNanos() >> Math.min(closer, 62);
    return now.plus(Duration.ofNanos(Math.max(nanos, 1)));
  }

  /** Why a request is refused. */
  private record Problem(Code code, String message) {
    static Optional<Problem> invalid(String message) {
      return Optional.of(new Problem(Code.INVALID, message));
    }

    static Optional<Problem> limit(String message) {
      return Optional.of(new Problem(Code.LIMIT, message));
    }
  }

  private Optional<Response> validate(Request request) {
    return problem(request).map(p -> new Response.Failure(self.get(), p.code(), p.message()));
  }

  private Optional<Problem> problem(Request request) {
    Contact sender = request.sender();
    Optional<Problem> bad = width("sender id", sender.id());
    if (bad.isPresent()) {
      return bad;
    }
    // A client may share this node's id (kad put --id publishes as a node): it enters no table.
    if (sender.id().equals(table.self()) && !request.fromClient()) {
      return Problem.invalid("sender claims this node's own id " + sender.id().toShortHex());
    }
    if (request instanceof Request.FindNode r) {
      return width("target", r.target());
    } else if (request instanceof Request.FindValue r) {
      return width("key", r.key());
    } else if (request instanceof Request.Store r) {
      return width("key", r.key()).or(() -> values(r.values(), true));
    } else if (request instanceof Request.Notify r) {
      return width("key", r.key()).or(() -> values(r.values(), false));
    } else if (request instanceof Request.Subscribe r) {
      if (r.ttl().isNegative() || r.ttl().isZero()) {
        return Problem.invalid("ttl must be positive but was " + r.ttl());
      }
      return width("key", r.key());
    } else if (request instanceof Request.Unsubscribe r) {
      return width("key", r.key());
    }
    return Optional.empty();
  }

  /**
   * Checks what can be judged without the store. Signatures are left to the store, which verifies
   * them for every caller; checking them here too would verify each twice. A value that expired is
   * no sign of a hostile peer (it may have expired on the way, or by this node's clock running a
   * little ahead), so it does not refuse the request: the store rejects it by index, keeping the
   * other values of a replication, hand-over or cache Store, and a watch drops it from a push.
   */
  private Optional<Problem> values(List<Value> values, boolean forStore) {
    if (forStore && values.isEmpty()) {
      return Problem.invalid("a store must carry at least one value");
    }
    if (values.size() > config.maxValuesPerKey()) {
      return Problem.limit(
          values.size() + " values exceed maxValuesPerKey " + config.maxValuesPerKey());
    }
    Instant now = clock.instant();
    for (int i = 0; i < values.size(); i++) {
      Value v = values.get(i);
      Optional<Problem> bad = width("value " + i + " publisher", v.publisher());
      if (bad.isPresent()) {
        return bad;
      }
      if (v.size() > config.maxValueBytes()) {
        return Problem.limit(
            "value "
                + i
                + " of "
                + v.size()
                + " bytes exceeds maxValueBytes "
                + config.maxValueBytes());
      }
      if (v.expiresAt().isAfter(config.latestExpiry(now))) {
        return Problem.invalid(
            "value "
                + i
                + " expires at "
                + v.expiresAt()
                + ", later than expireAfter "
                + config.expireAfter()
                + " from now");
      }
    }
    return Optional.empty();
  }

  private Optional<Problem> width(String what, KadId id) {
    if (id.bits() != config.idBits()) {
      return Problem.invalid(what + " must have " + config.idBits() + " bits but had " + id.bits());
    }
    return Optional.empty();
  }
}
