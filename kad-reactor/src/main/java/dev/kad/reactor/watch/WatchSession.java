package dev.kad.reactor.watch;

import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Sinks;

/**
 * The watcher side of one {@code watch(key)} subscription: de-duplicates the values that arrive
 * (from the initial get and from pushed notifications), buffers them for a slow subscriber and
 * remembers which nodes it is subscribed at.
 *
 * <p>Overflow policy: the buffer holds at most one value per (publisher, value id), the one with
 * the highest seq, so a slow subscriber sees the latest value of each publisher and memory stays
 * bounded by the number of identities, itself capped at {@code maxPending} (beyond it the oldest
 * identity is dropped). Each (publisher, value id, seq) is delivered at most once, and never a
 * lower seq after a higher one of the same signing key.
 *
 * <p>Ids cost nothing, so anyone may be among a key's storage nodes and push made-up identities.
 * One storage node holds at most {@code maxValuesPerKey} values of the key, so one sender's
 * identities take at most a quarter of the buffer (past it, its own oldest goes), and cannot push
 * out values other nodes sent. The identities delivered are remembered ({@code 16 × maxPending} of
 * them); when the memory is full the oldest one that a single storage node alone pushed goes first:
 * an honest value reaches the watch from every storage node, or from a read, so one node's flood of
 * made-up identities cannot make the watch forget it and take an older seq of it again.
 */
public final class WatchSession {

  /** The wait after the first round in which no node granted a subscription. */
  public static final Duration FIRST_RETRY = Duration.ofSeconds(1);

  /** The longest wait between rounds that no node granted, unless renewals come sooner. */
  public static final Duration MAX_RETRY = Duration.ofMinutes(1);

  /**
   * What a seq orders: a publisher's value id, and for a signed value the key that signs it (empty
   * when unsigned). A value signed with another key under a publisher's id verifies, and would
   * otherwise, with a higher seq, hide every later update of that publisher from the watch. (A
   * store keeps one value per publisher and value id, and replaces a signed one only under the same
   * key: a node holds the forgery or the genuine value, whichever reached it first.)
   */
  private record Identity(NodeId publisher, long valueId, ByteBuffer publicKey) {
    static Identity of(Value v) {
      return new Identity(v.publisher(), v.valueId(), ByteBuffer.wrap(v.publicKey()));
    }
  }

  /** A value waiting for the subscriber, and the one storage node that pushed it (null: a read). */
  private record Waiting(Value value, Contact from) {}

  /**
   * A delivered identity's seq, and the one storage node that alone pushed it (null once a read or
   * a second node brought it too).
   */
  private record Delivered(long seq, Contact from, long stamp) {}

  private final Key key;
  private final int maxPending;
  private final int maxPendingPerSender;
  private final Map<Identity, Waiting> pending = new LinkedHashMap<>();
  private final Map<Contact, Integer> pendingBySender = new HashMap<>();
  private final Map<Identity, Delivered> delivered = new LinkedHashMap<>();

  /** The delivered identities that one storage node alone pushed, in delivery order. */
  private final Set<Identity> deliveredSingle = new LinkedHashSet<>();

  /** Deliveries so far: the stamp of the next one. */
  private long deliveries;

  private final AtomicInteger wip = new AtomicInteger();

  /**
   * The subscriber's demand not yet met, counted here: the sink's own count lags a request that
   * arrives on another thread while it emits, and a value passed to the sink past the demand waited
   * in its queue, where a newer seq no longer replaced it.
   */
  private final AtomicLong requested = new AtomicLong();

  private final Set<Contact> subscribedAt = ConcurrentHashMap.newKeySet();
  private final Set<Contact> asking = ConcurrentHashMap.newKeySet();
  private final Sinks.Many<Boolean> kicks = Sinks.many().multicast().directBestEffort();
  private volatile FluxSink<Value> sink;
  private volatile boolean ended;
  private volatile Duration renewal;
  private volatile int roundsWithout;
  private final AtomicBoolean kicked = new AtomicBoolean();
  private final AtomicBoolean missedPushes = new AtomicBoolean();
  private final AtomicBoolean polling = new AtomicBoolean();

  /**
   * Starts a session.
   *
   * @param key the watched key
   * @param maxPending the most identities buffered for a slow subscriber
   * @param ttl the subscription TTL asked for; renewals come at half of it until nodes grant less
   *     (a TTL under {@link SubscriberRegistry#MIN_TTL} counts as that, as storage nodes grant no
   *     less)
   */
  public WatchSession(Key key, int maxPending, Duration ttl) {
    this.key = key;
    this.maxPending = maxPending;
    this.maxPendingPerSender = Math.max(1, maxPending / 4);
    this.renewal = halfOf(ttl);
  }

  /**
   * Half {@code ttl}, taken as at least {@link SubscriberRegistry#MIN_TTL}: renewals at least 500
   * ms apart. Half a configured TTL of 100 ms made a watch cut off from its nodes retry every 50
   * ms.
   */
  private static Duration halfOf(Duration ttl) {
    return (ttl.compareTo(SubscriberRegistry.MIN_TTL) < 0 ? SubscriberRegistry.MIN_TTL : ttl)
        .dividedBy(2);
  }

  /**
   * The watched key.
   *
   * @return the key
   */
  public Key key() {
    return key;
  }

  /**
   * Connects the subscriber's sink; values offered before are delivered on demand.
   *
   * @param sink the subscriber's sink
   */
  public void attach(FluxSink<Value> sink) {
    this.sink = sink;
    sink.onRequest(
        n -> {
          requested.getAndUpdate(r -> r + n < 0 ? Long.MAX_VALUE : r + n);
          drain();
        });
    drain();
  }

  /**
   * Offers values read from the key's nodes or stored at this node; the ones not delivered yet with
   * a higher seq are buffered and delivered as the subscriber asks.
   *
   * @param values values of the key, from a get or a store here
   */
  public void offer(List<Value> values) {
    offer(values, null);
  }

  /**
   * Offers values; the ones not delivered yet with a higher seq are buffered and delivered as the
   * subscriber asks.
   *
   * @param values values of the key
   * @param from the storage node that pushed them, or null for values read or stored here
   */
  public void offer(List<Value> values, Contact from) {
    synchronized (this) {
      for (Value v : values) {
        Identity id = Identity.of(v);
        Delivered done = delivered.get(id);
        if (done != null && done.seq() >= v.seq()) {
          if (done.from() != null && !done.from().equals(from)) {
            // vouched for twice, keeps its place
            delivered.put(id, new Delivered(done.seq(), null, done.stamp()));
            deliveredSingle.remove(id);
          }
          continue;
        }
        Waiting waiting = pending.get(id);
        if (waiting != null
            && waiting.value().seq() == v.seq()
            && waiting.from() != null
            && !waiting.from().equals(from)) {
          // Vouched for twice: no one sender's any more. Replaced in place, keeping its turn.
          pendingBySender.computeIfPresent(waiting.from(), (c, n) -> n == 1 ? null : n - 1);
          pending.put(id, new Waiting(waiting.value(), null));
          continue;
        }
        if (waiting == null || waiting.value().seq() < v.seq()) {
          if (waiting != null) {
            removePending(id);
          } else if (from != null && pendingBySender.getOrDefault(from, 0) >= maxPendingPerSender) {
            removeOldestPendingOf(from);
          }
          pending.put(id, new Waiting(v, from));
          if (from != null) {
            pendingBySender.merge(from, 1, Integer::sum);
          }
        }
        while (pending.size() > maxPending) {
          removePending(pending.keySet().iterator().next());
        }
      }
    }
    drain();
  }

  private Waiting removePending(Identity id) {
    Waiting removed = pending.remove(id);
    if (removed != null && removed.from() != null) {
      pendingBySender.computeIfPresent(removed.from(), (c, n) -> n == 1 ? null : n - 1);
    }
    return removed;
  }

  private void removeOldestPendingOf(Contact from) {
    for (Map.Entry<Identity, Waiting> e : pending.entrySet()) {
      if (from.equals(e.getValue().from())) {
        removePending(e.getKey());
        return;
      }
    }
  }

  private void drain() {
    FluxSink<Value> s = sink;
    if (s == null || wip.getAndIncrement() != 0) {
      return;
    }
    do {
      while (requested.get() > 0 && !s.isCancelled()) {
        Value next = poll();
        if (next == null) {
          break;
        }
        if (requested.get() != Long.MAX_VALUE) {
          requested.decrementAndGet();
        }
        s.next(next);
      }
    } while (wip.decrementAndGet() != 0);
  }

  private synchronized Value poll() {
    Iterator<Identity> it = pending.keySet().iterator();
    if (!it.hasNext()) {
      return null;
    }
    Identity id = it.next();
    Waiting next = removePending(id);
    // Most recently delivered last, so the bound forgets the identities quiet the longest: kept
    // in first-delivery order, it forgot a busy identity first, and a lagging node's older seq
    // of it was then delivered after a higher one.
    Delivered before = delivered.remove(id);
    deliveredSingle.remove(id);
    Contact from =
        next.from() == null || before != null && !next.from().equals(before.from())
            ? null
            : next.from();
    delivered.put(id, new Delivered(next.value().seq(), from, deliveries++));
    if (from != null) {
      deliveredSingle.add(id);
    }
    if (delivered.size() > 16 * maxPending) {
      forgetOneDelivered();
    }
    return next.value();
  }

  /**
   * Forgets the delivered identity quiet the longest among those one storage node alone pushed,
   * when it is in the older half of the memory, or else the one quiet the longest. A value just
   * delivered was pushed by one node so far, the other storage nodes' pushes of it on their way:
   * forgotten at once, it was delivered again when they came.
   */
  private void forgetOneDelivered() {
    Iterator<Identity> singles = deliveredSingle.iterator();
    if (singles.hasNext()) {
      Identity oldest = singles.next();
      if (delivered.get(oldest).stamp() < deliveries - 8L * maxPending) {
        singles.remove();
        delivered.remove(oldest);
        return;
      }
    }
    Identity oldest = delivered.keySet().iterator().next();
    delivered.remove(oldest);
    deliveredSingle.remove(oldest);
  }

  /**
   * Ends the stream with an error, e.g. when the node closes.
   *
   * @param error the error
   */
  public void error(Throwable error) {
    FluxSink<Value> s = sink;
    if (s != null) {
      s.error(error);
    }
  }

  /**
   * Marks the watch ended: its subscriber is gone or its node is closing. Volatile, so a round that
   * adds nodes to {@link #subscribedAt()} and then finds the watch open, and an end that is marked
   * and then copies that set, cannot both miss each other.
   */
  public void end() {
    ended = true;
  }

  /**
   * Whether the watch ended ({@link #end()}): none of its Subscribes may leave from then on.
   *
   * @return true once ended
   */
  public boolean ended() {
    return ended;
  }

  /**
   * The nodes holding a subscription for this watch.
   *
   * @return a live, thread-safe set
   */
  public Set<Contact> subscribedAt() {
    return subscribedAt;
  }

  /**
   * The nodes the running round of subscriptions has asked and not yet heard from. A failure of one
   * of them is the round's own to handle (the node is dropped, and asked again at the next
   * renewal), not a reason for another round at once: taken as a kick, a node that never answers a
   * Subscribe made the watch run round after round, each a lookup and k Subscribes.
   *
   * @return a live, thread-safe set
   */
  public Set<Contact> asking() {
    return asking;
  }

  /**
   * Whether {@code node} holds or is being asked for a subscription of this watch: only such nodes
   * may push values to it. The id and the address must both match: a peer claiming a subscribed
   * node's id from elsewhere is not that node.
   *
   * @param node the contact that pushed
   * @return true when the push is welcome
   */
  public boolean subscribedAt(Contact node) {
    return subscribedAt.contains(node);
  }

  /**
   * How long until the next round of subscriptions: half the shortest TTL the nodes granted in the
   * last round. After rounds in which no node granted one (none was found or reached: the watcher
   * is cut off, or the key's nodes all left), the next round comes after {@link #FIRST_RETRY},
   * doubling with each such round up to {@link #MAX_RETRY} or that renewal time, whichever is
   * shorter, so a watch finds its network again within a minute rather than a renewal later.
   *
   * @return the time to the next round
   */
  public Duration renewal() {
    int without = roundsWithout;
    if (without == 0) {
      return renewal;
    }
    Duration retry = FIRST_RETRY.multipliedBy(1L << Math.min(without - 1, 20));
    Duration cap = renewal.compareTo(MAX_RETRY) < 0 ? renewal : MAX_RETRY;
    return retry.compareTo(cap) < 0 ? retry : cap;
  }

  /**
   * Records the TTLs granted by the last round of subscriptions.
   *
   * @param shortest the shortest of them; under {@link SubscriberRegistry#MIN_TTL} counts as that
   */
  public void granted(Duration shortest) {
    renewal = halfOf(shortest);
    roundsWithout = 0;
  }

  /** Records that the last round of subscriptions was granted by no node. */
  public void grantedNone() {
    roundsWithout++;
  }

  /**
   * Records whether the watch polls: the key's nodes answered its last round that reached them, and
   * none granted a subscription (each refused it, at its {@code maxSubscriptionsPerPeer} or {@code
   * maxSubscribersPerKey} bound or its total, or failed), so no node will push to it and it reads
   * the key's values at each retry round instead. A round that reaches no node (the lookup failed
   * or found nobody) changes nothing.
   *
   * @param polling true after a round that the key's nodes answered and none granted, false after
   *     one that some node granted
   * @return whether this changed the watch's state, for a log line per change
   */
  public boolean polling(boolean polling) {
    return this.polling.getAndSet(polling) != polling;
  }

  /**
   * Whether the watch polls (see {@link #polling(boolean)}).
   *
   * @return true when no node holds a subscription of it and it reads at each retry round
   */
  public boolean polling() {
    return polling.get();
  }

  /**
   * Asks for an early re-subscription, e.g. because a subscribed node failed. A kick while a round
   * runs is kept for the wait after it ({@link #takeKick()}): the upkeep listens to {@link
   * #kicks()} only between rounds.
   */
  public void kick() {
    kicked.set(true);
    kicks.tryEmitNext(Boolean.TRUE);
  }

  /**
   * Asks for an early re-subscription after which the current values are read again, whatever nodes
   * grant it: the node has just reached its network after it was cut off (or joined it again), so
   * pushes sent meanwhile failed, and the storage nodes that sent them ended the subscriptions this
   * watch still counts. A round at the same nodes would subscribe there again without reading what
   * they were given meanwhile, and the watch would miss those values until they changed again.
   */
  public void kickAfterOutage() {
    missedPushes.set(true);
    kick();
  }

  /**
   * Records that pushes may have been missed, without asking for a round now: the next round that
   * some node grants reads the current values (e.g. a storage node granted another watch of the key
   * on this node a new subscription, so the one this watch shares with it there had lapsed).
   */
  public void missedPushes() {
    missedPushes.set(true);
  }

  /**
   * Whether pushes may have been missed since the last call ({@link #kickAfterOutage()}, {@link
   * #missedPushes()}), clearing it. Taken by a round that some node granted, which then reads the
   * current values.
   *
   * @return true when the current values should be read again
   */
  public boolean takeMissedPushes() {
    return missedPushes.getAndSet(false);
  }

  /**
   * Whether a kick came since the last call, clearing it.
   *
   * @return true when the next round should start at once
   */
  public boolean takeKick() {
    return kicked.getAndSet(false);
  }

  /**
   * The early re-subscription requests.
   *
   * @return a hot stream of kicks
   */
  public reactor.core.publisher.Flux<Boolean> kicks() {
    return kicks.asFlux();
  }
}
