package dev.kad.reactor;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadId;
import dev.kad.api.KadNode;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NoStoreAnsweredException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.NodeStats;
import dev.kad.api.PutOptions;
import dev.kad.api.PutResult;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.Value;
import dev.kad.api.ValueTooLargeException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.NodeListener;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.lookup.Lookup;
import dev.kad.reactor.lookup.Progress;
import dev.kad.reactor.routing.Insertion;
import dev.kad.reactor.routing.Removal;
import dev.kad.reactor.routing.RoutingTable;
import dev.kad.reactor.routing.Subnets;
import dev.kad.reactor.store.RecordStore;
import dev.kad.reactor.store.StoreOutcome;
import dev.kad.reactor.store.StoredValue;
import dev.kad.reactor.watch.SubscriberRegistry;
import java.nio.ByteBuffer;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SignalType;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/** The engine's {@link KadNode}: built and started by {@link KadNodes#builder()}. */
final class DefaultKadNode implements KadNode {

  private static final Logger log = LoggerFactory.getLogger(DefaultKadNode.class);

  /** Background tasks waiting or running, per queue. */
  private static final int MAX_QUEUED_TASKS = 4096;

  private static final int TASK_CONCURRENCY = 8;

  /**
   * Pushes waiting on their subscribers at once: as many as may be queued. A push only waits for an
   * answer, and {@link #MAX_QUEUED_TASKS} already bounds their memory; with eight at a time, eight
   * subscribers that never answer held every slot for the hard timeout, and a live watcher's push
   * waited behind them (or was dropped once the queue filled).
   */
  private static final int PUSH_CONCURRENCY = MAX_QUEUED_TASKS;

  /** How a store's refusal reads when the node refused it for its rate limit. */
  private static final String RATE_LIMITED_REASON = Response.Code.RATE_LIMITED + ": ";

  /**
   * Unsubscribes running at once, in their own queue: enough that those owed to departed nodes,
   * each waiting the hard timeout, do not hold the others back long, and few enough that many
   * watches ending together (a burst of web clients leaving) do not dial thousands of peers at the
   * same moment.
   */
  private static final int UNSUBSCRIBE_CONCURRENCY = 64;

  /** {@link #lastHeardMillis} before the node first hears from another node. */
  private static final long NEVER = Long.MIN_VALUE;

  /** How far behind {@link NodeStats#lastHeard()} may be: it is written at most once per this. */
  private static final long LAST_HEARD_RESOLUTION_MILLIS = 1000;

  private final NodeListener listener;
  private final KadConfig config;
  private final Transport transport;
  private final Scheduler scheduler;
  private final Clock clock;
  private final RandomGenerator random;

  /** Where subscription tokens come from: a {@code SecureRandom}, thread-safe. */
  private final RandomGenerator tokens;

  /** Set once a start emitted the node: a later start must not touch it (see {@link #start}). */
  private final AtomicBoolean running = new AtomicBoolean();

  private final NodeId id;
  private final RoutingTable table;
  private final RecordStore store;
  private final SubscriberRegistry subscribers;
  private final Lookup lookup;
  private final RequestHandling handling;
  private final Disposable.Composite background = Disposables.composite();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Sinks.Empty<Void> onClose = Sinks.empty();

  /** The most addresses a node checks for another node running with its id, in its lifetime. */
  static final int MAX_SAME_ID_CHECKS = 16;

  /**
   * Addresses other nodes listed this node's own id at, each checked once by a ping (see {@link
   * #noticeOwnId}), with whether a node there answered with this id.
   */
  private final Map<Address, Boolean> sameIdChecks = new ConcurrentHashMap<>();

  /** Completes when close() begins: operations in flight end with NodeClosedException. */
  private final Sinks.Empty<Void> closing = Sinks.empty();

  /**
   * This node's own values put from data, by key and value id: the republished ones, and the others
   * until they expire, so that the next put of the same key and value id takes a higher seq.
   */
  private final Map<Own, Publication> published = new ConcurrentHashMap<>();

  /**
   * The puts in flight of each {@link Own}, oldest first; changed only within {@code
   * published.compute} of the Own.
   */
  private final Map<Own, List<InFlight>> flying = new ConcurrentHashMap<>();

  /** The puts in flight by key and value id, for tests: empty once every put settled. */
  Map<?, ?> putsInFlight() {
    return Collections.unmodifiableMap(flying);
  }

  private final LiveStreams liveStreams = new LiveStreams(this);

  /** Fires once per subscription after the hard timeout; cold, so one serves every request. */
  private final Mono<Long> hardTimer;

  /** Pings of old contacts, hand-overs, cache stores. */
  private final TaskQueue tasks;

  /** Notify pushes to subscribers. */
  private final TaskQueue pushes;

  /** Unsubscribes owed by watches (see {@link #unsubscribe}). */
  private final TaskQueue unsubscribes;

  private volatile boolean unsubscribesStarted;

  private volatile Contact contact;

  /**
   * When, in the clock's epoch milliseconds, a message from another node last arrived, or {@link
   * #NEVER}. Read on every message, written about once a second: no contention on the hot path.
   */
  private final AtomicLong lastHeardMillis = new AtomicLong(NEVER);

  /**
   * Whether a request timed out with nothing heard from the network since it was sent ({@link
   * #failed}): the node looks cut off, and the next message it hears shows the network back ({@link
   * #heardFromNetwork}).
   */
  private final AtomicBoolean cutOff = new AtomicBoolean();

  /**
   * Whether a put was stored only at this node because it knows no other node: said once, since a
   * node that was never bootstrapped (its {@code bootstrap} not subscribed) puts this way quietly.
   */
  private final AtomicBoolean warnedAlone = new AtomicBoolean();

  /**
   * The seeds of the last bootstrap that failed to reach its network, until a bootstrap succeeds;
   * null before any failed, after a success, and after a failure whose seeds included this node
   * itself. A node with such seeds is not the first of its network, even when it knows no other
   * node: its network is elsewhere, and a put's copy here alone would leave with this node ({@link
   * #settle}).
   */
  private volatile List<Address> unjoinedSeeds;

  DefaultKadNode(
      KadConfig config,
      Transport transport,
      Scheduler scheduler,
      Clock clock,
      RandomGenerator random,
      RandomGenerator tokens,
      NodeId id,
      RecordStore store,
      NodeListener listener) {
    this.tokens = tokens;
    this.listener = listener;
    this.config = config;
    this.transport = transport;
    this.scheduler = scheduler;
    this.clock = clock;
    this.random = random;
    this.id = id;
    this.store = store;
    // A client is no node of the network: one running with its id (kad put --id publishes as a
    // node, often through that node) is a node like any other to keep, ask and store at, so its
    // table and lookups center on an id no node has (a random one) rather than its own.
    NodeId place = config.clientMode() ? NodeId.random(id.bits(), random) : id;
    this.table = new RoutingTable(place, config, clock);
    this.tasks =
        new TaskQueue(
            "node=" + id.toShortHex() + " tasks", MAX_QUEUED_TASKS, TASK_CONCURRENCY, scheduler);
    this.pushes =
        new TaskQueue(
            "node=" + id.toShortHex() + " pushes", MAX_QUEUED_TASKS, PUSH_CONCURRENCY, scheduler);
    this.unsubscribes =
        new TaskQueue(
            "node=" + id.toShortHex() + " unsubscribes",
            MAX_QUEUED_TASKS,
            UNSUBSCRIBE_CONCURRENCY,
            scheduler);
    // As timeout(Duration, Scheduler) does: a scheduler that rejects the timer times out at once.
    this.hardTimer = Mono.delay(config.hardTimeout(), scheduler).onErrorReturn(0L);
    this.subscribers =
        new SubscriberRegistry(
            config.maxSubscribersPerKey(),
            config.maxSubscriptionsPerPeer(),
            config.subscriptionTtl());
    this.lookup = new Lookup(config, place, scheduler, clock, this::find);
    this.handling =
        new RequestHandling(
            config,
            this::contact,
            table,
            store,
            subscribers,
            clock,
            new RequestHandling.Hooks() {
              @Override
              public void heardFrom(Contact sender, Request request) {
                if (request.fromClient()) {
                  // A client is answered but never becomes a contact, a replacement or a
                  // hand-over's newcomer: it may be gone in a second, or unreachable.
                  return;
                }
                // A ping's sender never triggers a probe: probes are pings, and a probe that
                // triggers a probe at the other end cascades through the network.
                DefaultKadNode.this.heardFrom(sender, !(request instanceof Request.Ping));
              }

              @Override
              public void stored(Key key, List<Value> changed) {
                liveStreams.stored(key, changed);
              }

              @Override
              public boolean notified(Request.Notify notify) {
                return liveStreams.notified(notify);
              }

              @Override
              public void probe(Key key, List<SubscriberRegistry.Subscription> stale) {
                liveStreams.probe(key, stale);
              }
            });
  }

  Mono<KadNode> start() {
    return start(() -> {});
  }

  /**
   * Starts the transport, then the node's jobs, and emits the node.
   *
   * <p>A start that fails or is cancelled before it emitted the node leaves nothing running: when
   * the transport serves by then (it started, or bound before the cancel reached it; the last step,
   * which starts the jobs, may have run too) the node is closed, since no one holds it to close it
   * later. {@code stopped} runs once nothing runs: at once when the transport did not start, after
   * the close otherwise. A start cancelled before its transport served can be subscribed again, as
   * can one that failed to start its transport (a port in use); after a close it errors.
   *
   * @param stopped run when the start ended without leaving the node running
   */
  Mono<KadNode> start(Runnable stopped) {
    return Mono.defer(
        () -> {
          if (closed.get()) {
            stopped.run();
            return Mono.error(closedError());
          }
          if (running.get()) {
            // An earlier start emitted the node, which runs: starting again would fail at the
            // transport, and that failure, finding the transport serving, closed the running node.
            return Mono.error(
                new IllegalStateException("node " + id.toShortHex() + " is already started"));
          }
          AtomicBoolean emitted = new AtomicBoolean();
          return transport
              .start(this::answer)
              .then(
                  Mono.fromCallable(
                      () -> {
                        background.add(tasks.start());
                        background.add(pushes.start());
                        if (config.maintenance()) {
                          background.add(new Maintenance(this).start());
                        }
                        log.info("node={} started at {}", id.toShortHex(), contact().address());
                        return (KadNode) this;
                      }))
              // Set before the node goes on: a subscriber that cancels once it has it keeps it.
              .doOnNext(
                  n -> {
                    running.set(true);
                    emitted.set(true);
                  })
              // After the cancel reached the transport's start, so its outcome is known.
              .doFinally(
                  signal -> {
                    if (signal != SignalType.ON_COMPLETE && !emitted.get()) {
                      abandon(stopped);
                    }
                  });
        });
  }

  /** Closes a node whose start ended without emitting it, if its transport serves; then stopped. */
  private void abandon(Runnable stopped) {
    if (!transportServes()) {
      stopped.run();
      return;
    }
    log.info("node={} start cancelled or failed once serving: closing it", id.toShortHex());
    close().subscribe(null, e -> stopped.run(), stopped);
  }

  /** Whether the transport serves: it knows its address once started ({@code localAddress}). */
  private boolean transportServes() {
    try {
      transport.localAddress();
      return true;
    } catch (IllegalStateException notStarted) {
      return false;
    }
  }

  /** Answers an inbound request, and tells the listener. */
  private Mono<Response> answer(Request request) {
    if (!request.fromClient()) {
      // A client is not part of the network: its requests do not show this node connected to it.
      heardFromNetwork(request.sender());
    }
    Mono<Response> answer =
        handling
            .handle(request)
            .onErrorResume(
                e -> {
                  // A bug in handling must not leave the peer without an answer.
                  log.warn(
                      "node={} failed to answer {} from {}: {}",
                      id.toShortHex(),
                      typeOf(request),
                      request.sender().address(),
                      e.toString());
                  return Mono.just(
                      new Response.Failure(contact(), Response.Code.INTERNAL, "internal error"));
                });
    if (listener == NodeListener.NONE) {
      return answer;
    }
    return answer.doOnNext(
        response ->
            listener.rpcReceived(
                typeOf(request), response instanceof Response.Failure ? "refused" : "ok"));
  }

  // ---- identity -------------------------------------------------------------------------

  @Override
  public NodeId id() {
    return id;
  }

  @Override
  public Contact contact() {
    Contact c = contact;
    if (c == null) {
      c = new Contact(id, transport.localAddress());
      contact = c;
    }
    return c;
  }

  @Override
  public KadConfig config() {
    return config;
  }

  /** The node's short id and address, as logs and assertion failures should show it. */
  @Override
  public String toString() {
    Contact c = contact;
    return "KadNode[" + (c != null ? c : id.toShortHex()) + (closed.get() ? ", closed" : "") + "]";
  }

  @Override
  public RoutingTableSnapshot routingTable() {
    return table.snapshot();
  }

  RoutingTable table() {
    return table;
  }

  RecordStore store() {
    return store;
  }

  LiveStreams liveStreams() {
    return liveStreams;
  }

  Transport transport() {
    return transport;
  }

  Scheduler scheduler() {
    return scheduler;
  }

  Instant now() {
    return clock.instant();
  }

  /**
   * A new subscription token ({@code Request.Subscribe#token()}): never 0, which means none.
   *
   * @return a token no other node can guess
   */
  long subscriptionToken() {
    long token;
    do {
      token = tokens.nextLong();
    } while (token == 0);
    return token;
  }

  /** A random start delay in [0, min(jobJitter, cap)]. */
  Duration jitter(Duration cap) {
    long max = Math.min(config.jobJitter().toNanos(), cap.toNanos());
    if (max == 0) {
      return Duration.ZERO;
    }
    synchronized (random) {
      return Duration.ofNanos(random.nextLong(max + 1));
    }
  }

  List<NodeId> staleBucketTargets() {
    synchronized (random) {
      return table.staleBucketTargets(config.refreshInterval(), random);
    }
  }

  Instant lastSeen(NodeId contactId) {
    return table.lastSeen(contactId).orElse(Instant.MIN);
  }

  void expire() {
    Instant now = clock.instant();
    int dropped = store.expire(now);
    // Not republished and expired: a later put of its key and value id starts from the clock.
    published.values().removeIf(p -> !p.republished() && p.value().isExpiredAt(now));
    subscribers.expire(now);
    if (dropped > 0) {
      log.debug("node={} dropped {} expired values", id.toShortHex(), dropped);
    }
  }

  /** Stores values at the k closest nodes of their key (replication), ignoring refusals. */
  Mono<Void> storeAtClosest(Key key, List<Value> values) {
    return findNode(key.asNodeId())
        .flatMapMany(Flux::fromIterable)
        .flatMap(c -> storeAt(c, key, values, false).onErrorResume(e -> Mono.empty()), config.k())
        .then();
  }

  /**
   * Sends {@code values} of {@code key} to {@code to} in as many Stores as it takes for each to fit
   * one message ({@link KadConfig#keyWireBudget()}), one after the other. A value that has expired
   * by the time its Store leaves is left out, and a Store left empty is not sent: the values were
   * read from the store before the lookups of a replication run or a hand-over, which take time,
   * and the receiver would refuse them anyway.
   */
  private Mono<Void> storeAt(Contact to, Key key, List<Value> values, boolean cached) {
    List<List<Value>> batches = new ArrayList<>();
    List<Value> batch = new ArrayList<>();
    long bytes = 0;
    for (Value v : values) {
      long size = config.valueWireBytes(v);
      if (!batch.isEmpty() && bytes + size > config.keyWireBudget()) {
        batches.add(batch);
        batch = new ArrayList<>();
        bytes = 0;
      }
      batch.add(v);
      bytes += size;
    }
    if (!batch.isEmpty()) {
      batches.add(batch);
    }
    return Flux.fromIterable(batches)
        .concatMap(
            b ->
                Mono.defer(
                    () -> {
                      List<Value> live = unexpired(b);
                      return live.isEmpty()
                          ? Mono.empty()
                          : call(to, new Request.Store(contact(), key, live, cached));
                    }))
        .then();
  }

  /** {@code values} without those expired now, the same list when none is. */
  private List<Value> unexpired(List<Value> values) {
    Instant now = clock.instant();
    if (values.stream().noneMatch(v -> v.isExpiredAt(now))) {
      return values;
    }
    return values.stream().filter(v -> !v.isExpiredAt(now)).toList();
  }

  /** A value of this node's: its key and value id. */
  private record Own(Key key, long valueId) {
    String name() {
      return "key " + key.toShortHex() + (valueId == 0 ? "" : " value id " + valueId);
    }
  }

  /**
   * The last value this node put for an {@link Own}, with how to renew it: its ttl, the key pair
   * that signs it (null when unsigned), and whether the republish job renews it.
   */
  private record Publication(Value value, Duration ttl, KeyPair keyPair, boolean republished) {

    /** The same value (seq, data) expiring {@code ttl} after {@code now}, signed again. */
    Publication renewedAt(Key key, Instant now) {
      Value renewed =
          signed(
              key,
              Value.of(
                  value.data(), value.publisher(), value.valueId(), value.seq(), now.plus(ttl)),
              keyPair);
      return new Publication(renewed, ttl, keyPair, true);
    }

    Publication notRepublished() {
      return new Publication(value, ttl, keyPair, false);
    }
  }

  private static Value signed(Key key, Value value, KeyPair keyPair) {
    return keyPair == null ? value : value.signedWith(key, keyPair);
  }

  /**
   * Re-puts every value this node republishes, with the same seq and data and an expiry its ttl
   * from now, signed again when signed (a signature covers the expiry): a renewal, which stores do
   * not treat as a change. A put that fails does not stop the run; the run logs one WARN line
   * counting the failures and naming the first.
   */
  Mono<Void> republishAll() {
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> first = new AtomicReference<>();
    List<Map.Entry<Own, Publication>> run =
        published.entrySet().stream()
            .filter(e -> e.getValue().republished())
            .map(e -> Map.entry(e.getKey(), e.getValue()))
            .toList();
    return Flux.fromIterable(run)
        .concatMap(
            e -> {
              Own own = e.getKey();
              Publication old = e.getValue();
              Publication renewed = old.renewedAt(own.key(), clock.instant());
              // Stopped (or put again) since the run began: nothing of this run to renew.
              if (!published.replace(own, old, renewed)) {
                return Mono.empty();
              }
              return store(own.key(), renewed.value(), true)
                  .onErrorResume(
                      x -> {
                        if (x instanceof NodeClosedException) {
                          // Closing ends the run, which Maintenance logs at DEBUG: no failure.
                          return Mono.error(x);
                        }
                        failed.incrementAndGet();
                        first.compareAndSet(null, own.name() + ": " + x);
                        return Mono.empty();
                      });
            })
        .then(
            Mono.fromRunnable(
                () -> {
                  if (failed.get() > 0) {
                    // Otherwise silent: a publisher whose values nobody takes would only learn it
                    // when they expired.
                    log.warn(
                        "node={} republish: {} of {} values failed, first {}",
                        id.toShortHex(),
                        failed.get(),
                        run.size(),
                        first.get());
                  }
                }));
  }

  // ---- contacts and RPCs ----------------------------------------------------------------

  /**
   * {@code sender} answered at its address, which this node dialed: proven there, it takes the
   * address over from another id the table holds there in its bucket (a node restarted with a new
   * id), which a request, claiming its sender's address, never does.
   */
  private void answeredBy(Contact sender) {
    afterInsertion(table.answered(sender), sender, true);
  }

  /**
   * Notes that a message from {@code sender} arrived, for {@link NodeStats#lastHeard()}: every
   * inbound request and every response to {@link #send} go through here. Any message from another
   * node shows the network reachable, a refusal or an invalid request too; one from this node
   * itself (it pinged its own address, given as a seed) does not, while one from a node of its id
   * elsewhere (the node a client publishes for) does.
   */
  private void heardFromNetwork(Contact sender) {
    if (sender.equals(contact())) {
      return;
    }
    long now = clock.millis();
    long last = lastHeardMillis.get();
    if (last == NEVER || now - last >= LAST_HEARD_RESOLUTION_MILLIS) {
      // Two threads may both get here; the later time wins whatever the order of their writes.
      lastHeardMillis.accumulateAndGet(now, Math::max);
    }
    // After the write: a failure setting the flag meanwhile sees the new time and reports it.
    if (cutOff.get() && cutOff.compareAndSet(true, false)) {
      reconnected();
    }
  }

  /**
   * A request failed: when it waited the whole hard timeout and nothing arrived from the network
   * since it was sent, the node counts as cut off until it hears from a node again. Only a timeout
   * counts: a refusal that comes back at once (a departed peer's closed port) after a quiet spell
   * says nothing about this node's connectivity, and took every watch of a quiet node into a round
   * and a read at each renewal that met a dead contact. A timeout from the transport, sooner than
   * the hard timeout, is judged as if sent a hard timeout ago: stricter, never wrong. {@link
   * #lastHeardMillis} is only written a second after its last value, hence the margin: past it,
   * anything heard since the request went out would have moved it.
   */
  private void failed(Throwable error) {
    if (!(error instanceof KadTimeoutException) || cutOff.get()) {
      return;
    }
    long last = lastHeardMillis.get();
    long sent = clock.millis() - config.hardTimeout().toMillis();
    if (last == NEVER || last + LAST_HEARD_RESOLUTION_MILLIS <= sent) {
      cutOff.set(true);
      // A message that arrived since the read above may have checked the flag before it was set:
      // it moved lastHeard, and the reconnection is this call's to report.
      if (lastHeardMillis.get() != last && cutOff.compareAndSet(true, false)) {
        reconnected();
      }
    }
  }

  /**
   * The node heard from the network after it looked cut off: its watches resubscribe at once and
   * read what was stored meanwhile, as after a bootstrap. Otherwise a watch would wait for its next
   * retry (up to a minute) or, when it still counted itself subscribed, its renewal, though the
   * pushes sent meanwhile failed and ended its subscriptions; and it would never see the values
   * stored during the outage. On the node's scheduler, not on the thread that delivered the message
   * (a transport's event loop answering a request).
   */
  private void reconnected() {
    if (closed.get()) {
      return;
    }
    log.debug(
        "node={} hears from the network again; it looks itself up and its watches resubscribe",
        id.toShortHex());
    try {
      scheduler.schedule(liveStreams::kickAll);
    } catch (RejectedExecutionException e) {
      // The scheduler is shut down: the node is closing with it.
      return;
    }
    if (!config.clientMode()) {
      // Its neighbours may have dropped it while it was away, and would learn it again only at
      // its next refresh or liveness ping: a lookup of its own id asks them now, and every node
      // asked learns it, as at a join.
      submit(findNode(id).then());
    }
  }

  private void heardFrom(Contact sender, boolean mayProbe) {
    afterInsertion(table.seen(sender), sender, mayProbe);
  }

  /** Sends the ping and the hand-over an insertion of {@code sender} asks for. */
  private void afterInsertion(Insertion insertion, Contact sender, boolean mayProbe) {
    insertion
        .toPing()
        .ifPresent(
            oldest -> {
              if (!mayProbe || !submit(probe(oldest))) {
                // Unsent, the oldest contact is neither alive nor dead: a later newcomer asks
                // again.
                table.pingNotSent(oldest);
              }
            });
    if (insertion.kind() == Insertion.Kind.ADDED) {
      submit(handOver(sender));
    }
  }

  /**
   * A replacement promoted into a bucket in place of an evicted contact is as new to the bucket as
   * an added contact, and is owed the same hand-over, through the same bounded queue.
   */
  private void removed(Removal removal) {
    removal.promoted().ifPresent(promoted -> submit(handOver(promoted)));
  }

  /**
   * Queues a background task.
   *
   * @return false when it was not queued: the node is not started, is closed, or the queue is full
   */
  boolean submit(Mono<Void> task) {
    return !closed.get() && tasks.submit(task);
  }

  /**
   * Queues a push to a subscriber. Pushes have their own queue, so subscribers that never answer
   * (each push waits up to the hard timeout) cannot crowd out probes and hand-overs.
   *
   * @return false when it was not queued
   */
  boolean push(Mono<Void> push) {
    return !closed.get() && pushes.submit(push);
  }

  /**
   * Queues an Unsubscribe a watch owes. They have their own queue, {@value
   * #UNSUBSCRIBE_CONCURRENCY} at a time: an Unsubscribe is often owed to a node that left (the
   * reason the watch dropped it) and waits the hard timeout for its answer, so a round after the
   * nodes of many watches left (a rejoin after an outage) queued dozens of them, and eight at a
   * time in the shared queue they held up probes, hand-overs and cache stores for as many hard
   * timeouts, or crowded them out once it was full.
   *
   * @return false when it was not queued
   */
  boolean unsubscribe(Mono<Void> unsubscribe) {
    if (closed.get()) {
      return false;
    }
    // Started at first use: most nodes never watch, and a running queue costs a node about 1.5 KB
    // (the simulation's heap per node). Added to a composite disposed by close(), it is disposed.
    if (!unsubscribesStarted) {
      synchronized (unsubscribes) {
        if (!unsubscribesStarted) {
          background.add(unsubscribes.start());
          unsubscribesStarted = true; // after: a racing caller waits here, not submits to nothing
        }
      }
    }
    return unsubscribes.submit(unsubscribe);
  }

  /**
   * Pings a full bucket's oldest contact: a silent one is evicted for the newest replacement. Any
   * answer from its id, a refusal too, shows it alive, as it does for every other request.
   */
  private Mono<Void> probe(Contact oldest) {
    return Mono.defer(
        () ->
            send(oldest.address(), new Request.Ping(contact()))
                .doOnNext(r -> heardFromNetwork(r.sender()))
                .map(r -> r.sender().id().equals(oldest.id()))
                .onErrorReturn(false)
                .defaultIfEmpty(false)
                .doOnNext(alive -> removed(table.pingResult(oldest, alive)))
                .then());
  }

  /**
   * Sends a request with the hard timeout; an answer from the expected id updates the routing
   * table, a transient failure counts against the contact, and so does an answer from another id:
   * whoever serves that address now, the contact is not there (a node restarted with a new id).
   * Failures count only when {@code to} is the address the table holds for the id: a contact learnt
   * from an answer may pair a known id with a dead address.
   */
  Mono<Response> call(Contact to, Request request) {
    return send(to.address(), request)
        .doOnNext(
            response -> {
              heardFromNetwork(response.sender());
              if (response.sender().id().equals(to.id())) {
                // The address that answered, not the one the answer claims: this one is proven.
                // A subscriber answering a push is not learnt, only refreshed when known: it may
                // be a client, which enters no routing table (its own requests add a full node).
                if (!(request instanceof Request.Notify) || table.contains(to.id())) {
                  answeredBy(to);
                }
              } else {
                removed(table.failed(to));
                // Whoever serves the address now (a node restarted there with a new id) is a live
                // node at an address this node just reached, as proven as an answer from the id
                // asked: learnt, or a node that lost every old contact this way would know no one
                // after a rejoin through them. Not from a refusal: a client answers everything but
                // a push with one, and must never enter a table.
                if (!(request instanceof Request.Notify)
                    && !(response instanceof Response.Failure)
                    && response.sender().id().bits() == config.idBits()) {
                  answeredBy(new Contact(response.sender().id(), to.address()));
                }
              }
            })
        .doOnError(
            e -> {
              if (e instanceof KadException k && k.isTransient()) {
                removed(table.failed(to));
                liveStreams.kick(to);
              }
            });
  }

  /**
   * Sends with the hard timeout and reports the outcome to the listener. Callers note a response's
   * sender with {@link #heardFromNetwork}, in an operator they have anyway: this runs once per
   * request.
   */
  private Mono<Response> send(Address to, Request unmarked) {
    // A client marks every request it sends, whoever built it, so receivers never add it.
    Request request = config.clientMode() ? unmarked.withFromClient(true) : unmarked;
    // A race with the hard timer rather than timeout(): a transport that fails the request on
    // its own thread as the timer fires here (a TCP peer's connection closing after a preface
    // timeout as long as the hard timeout) would have its error handed by timeout() to Reactor's
    // onErrorDropped hook, whose default logs an ERROR with a stack trace. The race ignores it.
    // The shared hardTimer, not a Mono.delay(Duration, Scheduler) per request; subscribed first,
    // as timeout() did, so that it fires before a transport timer due at the same instant.
    Mono<Response> sent =
        Mono.firstWithSignal(
                hardTimer.then(
                    Mono.error(
                        () ->
                            new KadTimeoutException(
                                "no answer from "
                                    + to
                                    + " to "
                                    + request.getClass().getSimpleName()
                                    + " within "
                                    + config.hardTimeout().toMillis()
                                    + " ms (hardTimeout)"))),
                transport
                    .send(to, request)
                    // The SPI promises a response or an error; an empty answer would leave a
                    // lookup waiting forever for a stalled request that never settles.
                    .switchIfEmpty(
                        Mono.error(
                            () ->
                                new KadException(
                                    "the transport completed a "
                                        + typeOf(request)
                                        + " to "
                                        + to
                                        + " without a response"))))
            .doOnError(this::failed);
    if (listener == NodeListener.NONE) {
      return sent;
    }
    return Mono.defer(
        () -> {
          long start = scheduler.now(TimeUnit.NANOSECONDS);
          return sent.doOnNext(
                  response ->
                      listener.rpcSent(
                          typeOf(request),
                          response instanceof Response.Failure ? "refused" : "ok",
                          since(start)))
              .doOnError(e -> listener.rpcSent(typeOf(request), outcomeOf(e), since(start)));
        });
  }

  private Duration since(long startNanos) {
    return Duration.ofNanos(scheduler.now(TimeUnit.NANOSECONDS) - startNanos);
  }

  private static String outcomeOf(Throwable e) {
    if (e instanceof KadTimeoutException) {
      return "timeout";
    }
    if (e instanceof UnreachableContactException) {
      return "unreachable";
    }
    return "error";
  }

  static String typeOf(Request request) {
    if (request instanceof Request.Ping) {
      return "ping";
    } else if (request instanceof Request.FindNode) {
      return "find_node";
    } else if (request instanceof Request.FindValue) {
      return "find_value";
    } else if (request instanceof Request.Store) {
      return "store";
    } else if (request instanceof Request.Subscribe) {
      return "subscribe";
    } else if (request instanceof Request.Unsubscribe) {
      return "unsubscribe";
    }
    return "notify";
  }

  /** Reports how an operation ended to the listener. */
  private <T> Mono<T> timed(String kind, Mono<T> operation) {
    if (listener == NodeListener.NONE) {
      return operation;
    }
    return Mono.defer(
        () -> {
          Outcome outcome = new Outcome(kind);
          return operation
              .doOnSuccess(v -> outcome.report("ok"))
              .doOnError(e -> outcome.report("error"))
              .doOnCancel(() -> outcome.report("cancelled"));
        });
  }

  private <T> Flux<T> timed(String kind, Flux<T> operation) {
    if (listener == NodeListener.NONE) {
      return operation;
    }
    return Flux.defer(
        () -> {
          Outcome outcome = new Outcome(kind);
          return operation
              .doOnComplete(() -> outcome.report("ok"))
              .doOnError(e -> outcome.report("error"))
              .doOnCancel(() -> outcome.report("cancelled"));
        });
  }

  /**
   * How one operation ended, told to the listener once: a cancel reaching an operation that had
   * already ended (a context stopping after its bootstrap finished) is not a second outcome.
   */
  private final class Outcome {
    private final String kind;
    private final long start = scheduler.now(TimeUnit.NANOSECONDS);
    private final AtomicBoolean reported = new AtomicBoolean();

    Outcome(String kind) {
      this.kind = kind;
    }

    void report(String outcome) {
      if (reported.compareAndSet(false, true)) {
        listener.operationFinished(kind, outcome, since(start));
      }
    }
  }

  private Mono<Response> find(Contact to, KadId target, boolean findValue) {
    Request request =
        findValue
            ? new Request.FindValue(contact(), (Key) target)
            : new Request.FindNode(contact(), asNodeId(target));
    // A client shares the id of the node it publishes for, by design (kad put --id), and enters
    // no routing table, so nobody mixes the two up.
    return config.clientMode() ? call(to, request) : call(to, request).doOnNext(this::noticeOwnId);
  }

  /**
   * Checks the addresses an answer lists this node's own id at, other than its own. A lookup drops
   * such a contact (it never asks itself), and the routing table refuses it, so a second node
   * started with this node's id (a copied id file or data directory: a disk image, a container
   * image with the directory baked in) went unnoticed unless it was a seed, while other nodes'
   * tables swapped the two addresses back and forth. The answer alone proves nothing: it may be
   * this node's own address from before a restart on another port, or a peer's invention. A ping
   * there tells: a node that answers from another address with this id runs with it, and a WARN
   * says so, once per address. At most {@value #MAX_SAME_ID_CHECKS} addresses are ever checked, so
   * that answers listing made-up addresses cannot make this node ping them without end.
   */
  private void noticeOwnId(Response response) {
    List<Contact> contacts =
        response instanceof Response.NodesFound nodes
            ? nodes.contacts()
            : response instanceof Response.ValuesFound values ? values.contacts() : List.of();
    int hash = id.hashCode();
    for (int i = 0; i < contacts.size(); i++) {
      Contact c = contacts.get(i);
      if (c.id().hashCode() == hash
          && c.id().equals(id)
          && !c.address().equals(contact().address())) {
        checkSameId(c.address());
      }
    }
  }

  private void checkSameId(Address at) {
    if (sameIdChecks.size() >= MAX_SAME_ID_CHECKS
        || sameIdChecks.putIfAbsent(at, Boolean.FALSE) != null) {
      return;
    }
    boolean queued =
        submit(
            send(at, new Request.Ping(contact()))
                .doOnNext(
                    r -> {
                      // Its own answer (a refusal: it refuses requests under its own id) when the
                      // address reaches this node after all (a second interface, a port mapping).
                      if (r.sender().id().equals(id)
                          && !r.sender().address().equals(contact().address())) {
                        sameIdChecks.put(at, Boolean.TRUE);
                        log.warn(
                            "node={} another node at {} answers with this node's id: give each"
                                + " node an id of its own (a copied id file or data directory?);"
                                + " other nodes mix the two up",
                            id.toShortHex(),
                            at);
                      }
                    })
                .onErrorResume(e -> Mono.empty())
                .then());
    if (!queued) {
      // Not checked (closing, or the queue is full): a later answer may try again.
      sameIdChecks.remove(at, Boolean.FALSE);
    }
  }

  /** The addresses found to run another node with this node's id. */
  Set<Address> sameIdElsewhere() {
    Set<Address> found = new HashSet<>();
    sameIdChecks.forEach(
        (at, same) -> {
          if (same) {
            found.add(at);
          }
        });
    return found;
  }

  private static NodeId asNodeId(KadId id) {
    return id instanceof Key key ? key.asNodeId() : (NodeId) id;
  }

  private Flux<Progress> lookup(KadId target, boolean findValue) {
    return lookup(target, findValue, Integer.MAX_VALUE);
  }

  /** A bucket refresh: a find-node that sends at most k requests. */
  Mono<Void> refresh(NodeId target) {
    return lookup(target, false, config.k()).then();
  }

  private Flux<Progress> lookup(KadId target, boolean findValue, int budget) {
    return Flux.defer(
        () -> {
          if (closed.get()) {
            return Flux.error(closedError());
          }
          table.touch(target);
          // Twice k seeds: the ones past the k closest stand in when the closest are dead.
          Flux<Progress> run =
              lookup.run(target, findValue, budget, table.closest(target, 2 * config.k()));
          // close() ends a lookup in flight with NodeClosedException, not as if peers failed.
          return untilClosed(run);
        });
  }

  /**
   * Ends {@code operation} with {@link NodeClosedException} once close() begins, whatever the
   * subscriber's demand: an error needs none, and a get whose subscriber had not yet taken this
   * node's own values never reached its lookup, which alone listened for the close, so it hung past
   * the close (or, given demand later, completed after it).
   */
  private <T> Flux<T> untilClosed(Flux<T> operation) {
    return Flux.defer(
        () -> {
          AtomicBoolean cut = new AtomicBoolean();
          return operation
              .takeUntilOther(closing.asMono().thenReturn(true).doOnNext(cut::set))
              .concatWith(Flux.defer(() -> cut.get() ? Flux.error(closedError()) : Flux.empty()));
        });
  }

  /**
   * Ends {@code operation} with {@link NodeClosedException} once close() begins, cancelling what it
   * still has in flight: otherwise the closing transport fails its requests one by one and the
   * operation ends as if peers had failed (a put reported no node accepting, a bootstrap no seed
   * answering), or even completes after close.
   */
  private <T> Mono<T> untilClosed(Mono<T> operation) {
    // The close signal first: firstWithSignal subscribes in order, and an operation subscribed
    // first could fail before the signal was listened to, as a bootstrap whose caller checked the
    // node open just before close() closed the transport did (its pings failed at once, and it
    // ended with NoSeedAnsweredException, which invites a retry, not NodeClosedException). Closed
    // already, the operation is never subscribed.
    return Mono.firstWithSignal(closing.asMono().then(Mono.error(this::closedError)), operation);
  }

  boolean isClosed() {
    return closed.get();
  }

  SubscriberRegistry subscribers() {
    return subscribers;
  }

  Clock clock() {
    return clock;
  }

  NodeClosedException closedError() {
    return new NodeClosedException("node " + id.toShortHex() + " is closed");
  }

  // ---- operations -----------------------------------------------------------------------

  @Override
  public Mono<Void> bootstrap(Collection<Address> seeds) {
    if (seeds == null || seeds.isEmpty()) {
      throw new IllegalArgumentException("seeds must name at least one address but was " + seeds);
    }
    for (Address seed : seeds) {
      if (seed == null) {
        throw new NullPointerException("seeds must not contain null but was " + seeds);
      }
      if (!Subnets.dialable(seed)) {
        // Failed at once, naming it: dialed, it ended as a vague "no seed answered".
        throw new IllegalArgumentException(
            "seeds must be addresses a node can dial (not port 0, a wildcard or multicast IP)"
                + " but had "
                + seed.host()
                + ":"
                + seed.port());
      }
    }
    // A seed named twice (a list joined from two sources) is pinged and reported once.
    List<Address> copy = List.copyOf(new LinkedHashSet<>(seeds));
    return timed(
        "bootstrap",
        Mono.defer(
            () -> {
              if (closed.get()) {
                return Mono.error(closedError());
              }
              // Why each seed that did not help failed, for the error when none did; the seeds
              // that are this node itself (every node given the same list) are skipped.
              Map<Address, String> problems = new ConcurrentHashMap<>();
              Map<Address, Throwable> failures = new ConcurrentHashMap<>();
              Set<Address> selves = ConcurrentHashMap.newKeySet();
              AtomicReference<Throwable> firstError = new AtomicReference<>();
              return untilClosed(
                  Flux.fromIterable(copy)
                      .flatMap(seed -> pingSeed(seed, problems, failures, selves, firstError))
                      .collectList()
                      .flatMap(
                          answered -> {
                            if (!answered.isEmpty()) {
                              // The id the table centers on: a client's is a random one, not its
                              // own, and a lookup of its own filled only one far bucket.
                              return findNode(table.self())
                                  .flatMap(
                                      closest -> {
                                        // Nobody answered the join's lookup (its requests were
                                        // lost): no neighbour learnt this node, nor it them, and
                                        // only a bucket refresh landing near its id, hours later
                                        // perhaps, would. Not joined: a retry may get through.
                                        if (closest.isEmpty()) {
                                          unjoined(copy);
                                          return Mono.error(
                                              lookupUnanswered(answered, selves, copy));
                                        }
                                        liveStreams.kickAll();
                                        return Mono.just(closest);
                                      })
                                  .then(refreshBeyondClosestNeighbour())
                                  .doOnSuccess(v -> joined())
                                  .doOnSuccess(
                                      v ->
                                          log.info(
                                              "node={} bootstrapped: {}",
                                              id.toShortHex(),
                                              contacts(table.size())));
                            }
                            if (selves.containsAll(copy)) {
                              log.info(
                                  "node={} is the first node of its network: every seed ({}) is"
                                      + " this node itself",
                                  id.toShortHex(),
                                  copy);
                              joined();
                              return Mono.<Void>empty();
                            }
                            // Other seeds name a network this node has not reached: an error, so
                            // that a caller retries them (a first node restarting must rejoin).
                            if (selves.isEmpty()) {
                              unjoined(copy);
                            } else {
                              // Among its own seeds, though, it serves as the first node of its
                              // network meanwhile (the first pod of a cluster whose others do not
                              // exist yet), as the Spring starter's health reports it.
                              joined();
                            }
                            return Mono.error(
                                noSeedAnswered(copy, problems, failures, selves, firstError));
                          }));
            }));
  }

  /**
   * A bootstrap succeeded, or found the node among its own seeds: it is in its network or the first
   * of it.
   */
  private void joined() {
    unjoinedSeeds = null;
  }

  /**
   * A bootstrap failed to reach the network its seeds name. Only an outcome moves the flag: a
   * bootstrap still running (a retry of the first pod's) leaves the node as it was.
   */
  private void unjoined(List<Address> seeds) {
    unjoinedSeeds = seeds;
  }

  private static NoSeedAnsweredException lookupUnanswered(
      List<Contact> answered, Set<Address> selves, List<Address> seeds) {
    return new NoSeedAnsweredException(
        "no node answered the lookup of this node's own id: the seeds "
            + answered.stream().map(Contact::address).toList()
            + " answered the ping, then every request of the lookup failed",
        null,
        seeds.stream().filter(selves::contains).toList());
  }

  private static NoSeedAnsweredException noSeedAnswered(
      List<Address> seeds,
      Map<Address, String> problems,
      Map<Address, Throwable> failures,
      Set<Address> selves,
      AtomicReference<Throwable> firstError) {
    List<Address> others = seeds.stream().filter(s -> !selves.contains(s)).toList();
    List<Address> self = seeds.stream().filter(selves::contains).toList();
    Map<Address, Throwable> bySeed = new LinkedHashMap<>();
    for (Address seed : others) {
      bySeed.put(
          seed,
          failures.getOrDefault(
              seed, new UnreachableContactException("seed at " + seed + " gave no answer")));
    }
    // Seeds that answered with settings that do not fit did answer: said so, as a retried join's
    // end says it, rather than as silence.
    boolean noneMendable =
        !bySeed.isEmpty()
            && bySeed.values().stream()
                .allMatch(e -> e instanceof KadException k && !k.isTransient());
    String message =
        (noneMendable ? "each seed failed in a way no retry changes: " : "no seed answered: ")
            + seedProblems(others, problems);
    if (!self.isEmpty()) {
      message += "; skipped " + self + ": this node itself";
    }
    return new NoSeedAnsweredException(message, firstError.get(), self, bySeed);
  }

  /**
   * Pings one seed: emits its contact when it answered as a node of this network, else records in
   * {@code selves} that it is this node itself, or in {@code problems} why it cannot be joined
   * through and in {@code failures} as an exception, and completes empty.
   */
  private Mono<Contact> pingSeed(
      Address seed,
      Map<Address, String> problems,
      Map<Address, Throwable> failures,
      Set<Address> selves,
      AtomicReference<Throwable> firstError) {
    if (seed.equals(contact().address())) {
      // Its own advertised address is this node without dialing it: behind a NAT that does not
      // loop a node's traffic back to itself (no hairpinning) the ping would fail, and a first
      // node given the cluster's seed list would wait for a network that is itself.
      selves.add(seed);
      return Mono.empty();
    }
    return send(seed, new Request.Ping(contact()))
        .onErrorResume(
            e -> {
              log.debug("node={} seed {} did not answer: {}", id.toShortHex(), seed, e.toString());
              firstError.compareAndSet(null, e);
              problems.put(seed, e.getMessage() != null ? e.getMessage() : e.toString());
              failures.put(seed, e);
              return Mono.empty();
            })
        .flatMap(
            r -> {
              heardFromNetwork(r.sender());
              // This node's own answer (a Failure: it refuses requests sent under its own id),
              // reached at another of its addresses: it answers from its own contact.
              // A client's seed may be the node it publishes for, with its id (kad put --id).
              if (r.sender().id().equals(id) && !config.clientMode()) {
                if (r.sender().address().equals(contact().address())) {
                  selves.add(seed);
                  return Mono.empty();
                }
                // Another node with this id (a copied id file or data directory): taken for
                // this node itself, it made the node run alone as the first of its network.
                String problem =
                    "answered with this node's own id "
                        + id.toShortHex()
                        + " from "
                        + r.sender().address()
                        + ": another node runs with this node's id";
                problems.put(seed, problem);
                failures.put(
                    seed, new IncompatiblePeerException("seed at " + seed + " " + problem));
                return Mono.empty();
              }
              Optional<String> problem = seedProblem(r);
              if (problem.isPresent()) {
                problems.put(seed, problem.get());
                failures.put(seed, seedFailure(seed, r, problem.get()));
                return Mono.empty();
              }
              return provenContact(r.sender(), seed).doOnNext(this::answeredBy);
            });
  }

  /**
   * The contact a seed that answered at {@code dialed} enters the table with: at the address it
   * advertises when that address answers as the seed too, else at the address dialed, the one
   * proven to reach it. The claim alone was taken before: a seed behind a NAT or a port mapping (or
   * one that lies) advertises an address this node may not reach, and the own-id lookup then asked
   * nobody, so the bootstrap completed knowing one dead contact. The dialed address alone would
   * spread an address only this node can use ({@code localhost}, a load balancer's name).
   */
  private Mono<Contact> provenContact(Contact claimed, Address dialed) {
    if (claimed.address().equals(dialed)) {
      return Mono.just(claimed);
    }
    Contact atDialed = new Contact(claimed.id(), dialed);
    if (!Subnets.dialable(claimed.address())) {
      return Mono.just(atDialed);
    }
    return send(claimed.address(), new Request.Ping(contact()))
        .map(
            r -> {
              heardFromNetwork(r.sender());
              return r.sender().id().equals(claimed.id()) ? claimed : atDialed;
            })
        .onErrorReturn(atDialed);
  }

  /** Why a seed's answer to a ping does not let this node join through it, if it does not. */
  private Optional<String> seedProblem(Response r) {
    if (r instanceof Response.Failure f) {
      return Optional.of("refused the ping: " + f.code() + ": " + f.message());
    }
    if (!(r instanceof Response.Pong)) {
      return Optional.of("answered the ping with " + r.getClass().getSimpleName());
    }
    if (r.sender().id().bits() != config.idBits()) {
      return Optional.of(
          "has " + r.sender().id().bits() + "-bit ids, this node " + config.idBits() + "-bit ones");
    }
    return Optional.empty();
  }

  /**
   * A seed's answer that does not let this node join through it, as the exception {@link
   * NoSeedAnsweredException#seedFailures()} lists: its settings do not fit (ids of another width,
   * answered or refused as invalid by a node of that width), it answered with something other than
   * a pong, or it refused for now (load, a limit, an internal error, a client refusing the ping).
   */
  private KadException seedFailure(Address seed, Response r, String problem) {
    String message = "seed at " + seed + " " + problem;
    if (r instanceof Response.Failure f) {
      // A node of another width refuses this node's ids as invalid, and always will; any other
      // refusal, an invalid one too (a client that took a departed seed's port), may not last.
      return f.code() == Response.Code.INVALID && f.sender().id().bits() != config.idBits()
          ? new IncompatiblePeerException(message)
          : new UnreachableContactException(message);
    }
    if (!(r instanceof Response.Pong)) {
      return new InvalidMessageException(message);
    }
    return new IncompatiblePeerException(message);
  }

  /** A count of contacts as said in a log line: {@code 1 contact}, {@code 3 contacts}. */
  private static String contacts(int n) {
    return n == 1 ? "1 contact" : n + " contacts";
  }

  /** Each seed with the reason it did not help, in the order given. */
  private static String seedProblems(List<Address> seeds, Map<Address, String> problems) {
    List<String> out = new ArrayList<>(seeds.size());
    for (Address seed : seeds) {
      out.add(seed + " (" + problems.getOrDefault(seed, "no answer") + ")");
    }
    return out.toString();
  }

  private Mono<Void> refreshBeyondClosestNeighbour() {
    return Mono.defer(
        () -> {
          List<NodeId> targets;
          synchronized (random) {
            targets = table.bucketsBeyondClosestNeighbour(random);
          }
          return Flux.fromIterable(targets).flatMap(this::findNode, config.alpha()).then();
        });
  }

  @Override
  public Mono<List<Contact>> findNode(NodeId target) {
    checkWidth("target", target);
    return timed(
        "find_node",
        lookup(target, false)
            .map(Progress::event)
            .ofType(LookupEvent.Finished.class)
            .last()
            .map(LookupEvent.Finished::closest));
  }

  @Override
  public Flux<LookupEvent> trace(NodeId target) {
    checkWidth("target", target);
    return lookup(target, false).map(Progress::event);
  }

  @Override
  public Flux<Value> get(Key key) {
    checkWidth("key", key);
    return timed("get", untilClosed(values(key, Integer.MAX_VALUE, true)));
  }

  @Override
  public Flux<Value> get(Key key, int quorum) {
    checkWidth("key", key);
    if (quorum < 1 || quorum > config.k()) {
      throw new IllegalArgumentException(
          "quorum must be in [1, " + config.k() + "] but was " + quorum);
    }
    return timed("get", untilClosed(values(key, quorum, true)));
  }

  /** The values of {@code key} for a watch's reads, which never error for an unanswered lookup. */
  Flux<Value> values(Key key, int quorum) {
    return values(key, quorum, false);
  }

  /**
   * The values of {@code key}: this node's own, then those its lookup finds. With {@code
   * failUnanswered} (a get), when this node holds no value of the key itself, a lookup that asked
   * nodes and heard from none errors with an {@link UnreachableContactException}, and so does one
   * that had nobody to ask because this node's last bootstrap failed: either way this node is cut
   * off, and an empty completion would read as "no node holds a value" ({@link #put} tells the same
   * state apart).
   */
  private Flux<Value> values(Key key, int quorum, boolean failUnanswered) {
    return Flux.defer(
        () -> {
          if (closed.get()) {
            return Flux.error(closedError());
          }
          ValueCollector collector = new ValueCollector(key, quorum);
          List<Value> local = collector.local(store.get(key, clock.instant()));
          if (collector.quorumReached()) {
            return Flux.fromIterable(local);
          }
          Flux<Value> remote =
              lookup(key, true)
                  .map(collector::collect)
                  .takeUntil(step -> collector.quorumReached())
                  .concatMapIterable(values -> values);
          return Flux.fromIterable(local)
              .concatWith(remote)
              .concatWith(
                  Mono.defer(
                      () -> {
                        submit(collector.cacheStore());
                        submit(collector.repairs());
                        collector.repairLocal();
                        return failUnanswered ? collector.unanswered() : Mono.empty();
                      }));
        });
  }

  /**
   * The values of one get, newest first per identity, who held them, and where to cache or repair
   * them afterwards.
   */
  private final class ValueCollector {
    private final Key key;
    private final int quorum;

    /** The newest value emitted of each identity: publisher, value id and signing key. */
    private final Map<List<Object>, Value> found = new LinkedHashMap<>();

    private final List<Contact> withoutValues = new ArrayList<>();

    /** What each answering holder returned, to bring one holding an older seq up to date. */
    private final Map<Contact, List<Value>> returned = new LinkedHashMap<>();

    /** What this node's own store held when the get began. */
    private List<Value> held = List.of();

    private int holders;

    /** The nodes the lookup asked, and how many of them answered. */
    private int asked;

    private int answered;

    ValueCollector(Key key, int quorum) {
      this.key = key;
      this.quorum = quorum;
    }

    List<Value> local(List<Value> values) {
      if (!values.isEmpty()) {
        holders++;
      }
      held = values;
      return fresh(values);
    }

    List<Value> collect(Progress step) {
      if (step.event() instanceof LookupEvent.Queried) {
        asked++;
      }
      if (step.event() instanceof LookupEvent.Answered answered) {
        this.answered++;
        if (step.values().isEmpty()) {
          withoutValues.add(answered.contact());
        } else {
          holders++;
          returned.put(answered.contact(), step.values());
        }
      }
      return fresh(step.values());
    }

    boolean quorumReached() {
      return holders >= quorum;
    }

    /**
     * Empty when some node answered, or this node holds values of the key itself (they are the
     * answer, as a quorum counts this node), or it is the first of its network and had nobody to
     * ask; otherwise the error that says this node is cut off.
     */
    <T> Mono<T> unanswered() {
      if (answered > 0 || holders > 0) {
        return Mono.empty();
      }
      List<Address> unjoined = unjoinedSeeds;
      if (asked == 0 && unjoined == null) {
        return Mono.empty();
      }
      String why =
          asked == 0
              ? "this node has not joined its network: no bootstrap through "
                  + unjoined
                  + " succeeded"
              : "none of the " + asked + " nodes its lookup asked answered";
      return Mono.error(
          new UnreachableContactException(
              "no node answered the get of key "
                  + key.toShortHex()
                  + ": "
                  + why
                  + " (this node may be cut off)"));
    }

    /**
     * The values newer than any emitted of their identity: a holder that missed an update still
     * returns the older seq, which must not follow the newer one (a reader taking the last value
     * would take it). An older seq that comes first is emitted, and its newer one after it. A
     * signed value is told apart by its key too (empty when unsigned): one signed with another key
     * under a publisher's id verifies, and keyed by publisher and value id alone, it hid the
     * publisher's own value from the get. (The cached copy leaves out a publisher's value id found
     * under two keys: see {@link #cacheStore()}.)
     */
    private List<Value> fresh(List<Value> values) {
      List<Value> out = new ArrayList<>(values.size());
      for (Value v : values) {
        List<Object> identity = identity(v);
        Value emitted = found.get(identity);
        if (emitted == null || v.seq() > emitted.seq()) {
          out.add(v);
          found.put(identity, v);
        }
      }
      return out;
    }

    private static List<Object> identity(Value v) {
      return List.of(v.publisher(), v.valueId(), ByteBuffer.wrap(v.publicKey()));
    }

    /**
     * Read repair: each holder that returned an older seq of a value than the newest found is sent
     * the newest, so a node that missed an update (down or hung during the put) stops serving the
     * old value now rather than at the next replication, up to an hour later. Only among the nodes
     * this get asked, and never a value found under two signing keys (as {@link #cacheStore()}).
     * Sent as a cached Store, which the store never lets turn a cached copy into an original, nor
     * restart an original's replication clock: the value went to this node alone, not to the other
     * k - 1 closest.
     */
    Mono<Void> repairs() {
      if (returned.isEmpty()) {
        return Mono.empty();
      }
      Set<List<Object>> ambiguous = ambiguous();
      List<Mono<Void>> stores = new ArrayList<>();
      for (Map.Entry<Contact, List<Value>> e : returned.entrySet()) {
        List<Value> newer = new ArrayList<>();
        for (Value v : e.getValue()) {
          Value newest = newerThan(v, ambiguous);
          if (newest != null) {
            newer.add(newest);
          }
        }
        if (!newer.isEmpty()) {
          stores.add(storeAt(e.getKey(), key, newer, true).onErrorResume(x -> Mono.empty()));
        }
      }
      return Flux.merge(stores).then();
    }

    /**
     * Read repair at this node: a value its own store holds at an older seq than the newest found
     * is replaced, as a cached Store from another node would replace it (a cached copy stays
     * cached, an original keeps its replication clock), and its watchers are pushed the change.
     */
    void repairLocal() {
      Set<List<Object>> ambiguous = ambiguous();
      Instant now = clock.instant();
      List<Value> changed = new ArrayList<>();
      for (Value v : held) {
        Value newest = newerThan(v, ambiguous);
        if (newest != null
            && store.store(key, newest, handling.cachedKeepUntil(key, now), true, now).changed()) {
          changed.add(newest);
        }
      }
      if (!changed.isEmpty()) {
        liveStreams.stored(key, changed);
      }
    }

    /**
     * The newest value found of {@code v}'s identity when it is newer than {@code v}, or null; null
     * too for a (publisher, value id) found under two signing keys, which no repair takes sides on.
     */
    private Value newerThan(Value v, Set<List<Object>> ambiguous) {
      List<Object> identity = identity(v);
      Value newest = found.get(identity);
      return newest != null && newest.seq() > v.seq() && !ambiguous.contains(identity.subList(0, 2))
          ? newest
          : null;
    }

    /** The (publisher, value id) pairs found under more than one signing key. */
    private Set<List<Object>> ambiguous() {
      Map<List<Object>, Integer> signers = new HashMap<>();
      found.keySet().forEach(id -> signers.merge(id.subList(0, 2), 1, Integer::sum));
      Set<List<Object>> out = new HashSet<>();
      signers.forEach(
          (id, n) -> {
            if (n > 1) {
              out.add(id);
            }
          });
      return out;
    }

    /** Kademlia §2.3: store the values at the closest node that was asked and lacked them. */
    Mono<Void> cacheStore() {
      if (found.isEmpty() || withoutValues.isEmpty()) {
        return Mono.empty();
      }
      Contact closest = withoutValues.get(0);
      for (Contact c : withoutValues) {
        if (key.compareDistance(c.id(), closest.id()) < 0) {
          closest = c;
        }
      }
      // A store keeps one value per publisher and value id, the first it is sent: one found
      // under two signing keys (a forgery beside the publisher's own) is left out rather than
      // cache whichever came first.
      Set<List<Object>> ambiguous = ambiguous();
      List<Value> values = new ArrayList<>();
      for (Map.Entry<List<Object>, Value> e : found.entrySet()) {
        if (!ambiguous.contains(e.getKey().subList(0, 2))) {
          values.add(e.getValue());
        }
      }
      if (values.isEmpty()) {
        return Mono.empty();
      }
      if (values.size() > config.maxValuesPerKey()) {
        values = values.subList(0, config.maxValuesPerKey());
      }
      return storeAt(closest, key, values, true);
    }
  }

  @Override
  public Mono<PutResult> put(Key key, byte[] data, PutOptions options) {
    checkWidth("key", key);
    Objects.requireNonNull(data, "data");
    Objects.requireNonNull(options, "options");
    checkSize(data.length);
    Duration ttl = options.ttl().orElse(config.expireAfter());
    if (ttl.compareTo(config.expireAfter()) > 0) {
      throw new IllegalArgumentException(
          "ttl "
              + ttl
              + " is longer than expireAfter "
              + config.expireAfter()
              + ": nodes refuse a value that expires later");
    }
    Duration period = Maintenance.republishPeriod(config);
    if (options.republish() && ttl.compareTo(period.multipliedBy(2)) < 0) {
      throw new IllegalArgumentException(
          "ttl "
              + ttl
              + " of a republished value must be at least twice the republish period "
              + period
              + " (min(republishInterval, expireAfter / 2)), or it could expire before it is"
              + " republished: put it with republish(false), or set republishInterval to at most"
              + " half the ttl");
    }
    byte[] copy = data.clone();
    KeyPair keyPair = options.keyPair().orElse(null);
    Own own = new Own(key, options.valueId());
    return Mono.defer(
        () -> {
          Instant now = clock.instant();
          InFlight[] flight = new InFlight[1];
          // Atomic, so two puts of one key and value id at once never share a seq with different
          // data.
          Publication put =
              published.compute(
                  own,
                  (k, previous) -> {
                    Publication created =
                        new Publication(
                            signed(
                                key,
                                Value.of(
                                    copy,
                                    id,
                                    own.valueId(),
                                    Math.max(
                                        previous == null ? 0 : previous.value().seq() + 1,
                                        now.toEpochMilli()),
                                    now.plus(ttl)),
                                keyPair),
                            ttl,
                            keyPair,
                            options.republish());
                    flight[0] = inFlight(own, previous, created);
                    return created;
                  });
          return timed(
              "put", settling(own, flight[0], store(key, put.value(), options.republish())));
        });
  }

  /**
   * A put of an {@link Own} in flight: its seq, and the registration it replaced, which a refusal
   * for good gives back. Read and written only within {@code published.compute} of its Own.
   */
  private static final class InFlight {
    private final long seq;
    private final boolean republished;
    private Publication replaced;

    InFlight(long seq, boolean republished, Publication replaced) {
      this.seq = seq;
      this.republished = republished;
      this.replaced = replaced;
    }
  }

  /**
   * Notes {@code created}, which replaced {@code previous}, in flight; within the compute of own.
   */
  private InFlight inFlight(Own own, Publication previous, Publication created) {
    InFlight flight = new InFlight(created.value().seq(), created.republished(), previous);
    flying.computeIfAbsent(own, k -> new ArrayList<>()).add(flight);
    return flight;
  }

  /** {@code store}, settling {@code flight} when it ends, however it ends. */
  private Mono<PutResult> settling(Own own, InFlight flight, Mono<PutResult> store) {
    return store
        .doOnError(e -> settled(own, flight, e))
        .doFinally(signal -> settled(own, flight, null));
  }

  /**
   * Ends {@code flight}; when {@code error} refused it for good, gives {@code own} back to what it
   * replaced. Republishing a value no node accepts would stop republishing the accepted one, which
   * would expire, and store the refused one in its place once it had (a put signed by another key
   * pair, say). A later put of the key and value id, which took over meanwhile, is left as it is,
   * but gives back what the refused one replaced if it is refused in turn.
   */
  private void settled(Own own, InFlight flight, Throwable error) {
    boolean refusedForGood =
        error instanceof StoreRejectedException refusal
            && !refusal.isTransient()
            && refusal.putResult().map(r -> r.accepted().isEmpty()).orElse(false);
    published.compute(
        own,
        (k, current) -> {
          List<InFlight> flights = flying.get(own);
          int at = -1;
          for (int i = 0; flights != null && i < flights.size(); i++) {
            if (flights.get(i) == flight) {
              at = i;
            }
          }
          if (at < 0) {
            return current; // settled already
          }
          flights.remove(at);
          if (flights.isEmpty()) {
            flying.remove(own);
          }
          if (!refusedForGood) {
            return current;
          }
          if (at < flights.size()) {
            // A later put in flight replaced this one: it gives back what this one replaced.
            InFlight next = flights.get(at);
            if (next.replaced != null && next.replaced.value().seq() == flight.seq) {
              next.replaced = givenBack(flight, next.replaced);
            }
            return current;
          }
          // Compared by seq: a republish run may have renewed it, stopRepublishing stopped it.
          return current != null && current.value().seq() == flight.seq
              ? givenBack(flight, current)
              : current;
        });
  }

  /**
   * What {@code refused}, registered now as {@code registered}, replaced: not republished when
   * stopped meanwhile. A first put of its key and value id keeps its registration: no accepted
   * value is at stake, and a refusal for lack of room (the key or the store full) may pass at a
   * later republish.
   */
  private static Publication givenBack(InFlight refused, Publication registered) {
    Publication back = refused.replaced;
    if (back == null) {
      return registered;
    }
    return refused.republished && !registered.republished() ? back.notRepublished() : back;
  }

  @Override
  public Mono<PutResult> put(Key key, Value value) {
    checkWidth("key", key);
    if (value == null) {
      throw new NullPointerException("value");
    }
    checkWidth("value publisher", value.publisher());
    checkSize(value.size());
    Instant now = clock.instant();
    if (value.expiresAt().isAfter(config.latestExpiry(now))) {
      throw new IllegalArgumentException(
          "value expires at "
              + value.expiresAt()
              + ", later than expireAfter "
              + config.expireAfter()
              + " from now: nodes refuse it");
    }
    if (value.isExpiredAt(now)) {
      throw new IllegalArgumentException(
          "value expired at " + value.expiresAt() + ", before now (" + now + "): nodes refuse it");
    }
    if (value.isSigned()) {
      value
          .signatureProblem(key)
          .ifPresent(
              problem -> {
                throw new IllegalArgumentException(
                    "value under key "
                        + key.toShortHex()
                        + ": "
                        + problem
                        + " (was it signed for another key?): nodes refuse it");
              });
    }
    return timed(
        "put",
        Mono.defer(
            () -> {
              if (!value.publisher().equals(id)) {
                return store(key, value, false);
              }
              Own own = new Own(key, value.valueId());
              InFlight flight = supersede(own, value);
              return flight == null
                  ? store(key, value, false)
                  : settling(own, flight, store(key, value, false));
            }));
  }

  /**
   * A value of this node's own put as given replaces what this node put from data for the same key
   * and value id when its seq is higher: the republishing of the older value ends (it would be
   * refused as older while the new one lives, and come back once the new one expired), and the next
   * put from data takes a seq above the new one.
   *
   * @return the put in flight when it replaced the registration, else null
   */
  private InFlight supersede(Own own, Value value) {
    InFlight[] flight = new InFlight[1];
    published.compute(
        own,
        (k, p) -> {
          if (p != null && p.value().seq() >= value.seq()) {
            return p;
          }
          Publication created =
              new Publication(value, p == null ? Duration.ZERO : p.ttl(), null, false);
          flight[0] = inFlight(own, p, created);
          return created;
        });
    return flight[0];
  }

  private Mono<PutResult> store(Key key, Value value, boolean republished) {
    // Past the lookup too: the Stores' answers and the local store must not outlive close().
    return untilClosed(putAtClosest(key, value, republished));
  }

  private Mono<PutResult> putAtClosest(Key key, Value value, boolean republished) {
    // The lookup's events, not findNode's result: the nodes it asked, and those that failed, tell
    // a first node of its network from one whose every contact is gone.
    Mono<Reached> lookedUp =
        timed(
            "find_node",
            lookup(key.asNodeId(), false).map(Progress::event).collect(Reached::new, Reached::add));
    return lookedUp.flatMap(
        reached -> {
          List<Contact> closest = reached.closest;
          Request.Store request = new Request.Store(contact(), key, List.of(value), false);
          // When this node is among the k closest it is one of the k copies.
          List<Contact> targets =
              selfAmongClosest(key, closest) && closest.size() >= config.k()
                  ? closest.subList(0, config.k() - 1)
                  : closest;
          Mono<List<StoreAttempt>> remote =
              Flux.fromIterable(targets)
                  .flatMap(c -> storeAt(c, request), config.k())
                  .collectList();
          return remote.flatMap(
              outcomes -> settle(reached, result(key, value, reached, outcomes), republished));
        });
  }

  /** What a put's lookup found: the closest that answered, and whom it asked and lost. */
  private static final class Reached {
    private final Set<NodeId> asked = new HashSet<>();
    private final Map<NodeId, Contact> failed = new LinkedHashMap<>();
    private List<Contact> closest = List.of();

    void add(LookupEvent event) {
      if (event instanceof LookupEvent.Queried q) {
        asked.add(q.contact().id());
      } else if (event instanceof LookupEvent.Failed f) {
        failed.putIfAbsent(f.contact().id(), f.contact());
      } else if (event instanceof LookupEvent.Finished f) {
        closest = f.closest();
      }
    }
  }

  /**
   * The put's outcome, or its error when no other node accepted the value. This node's own copy
   * counts only for the first node of its network (its lookup had nobody to ask, and it was never
   * given seeds it has not reached): it is the only copy there can be. Otherwise a copy here alone
   * would leave with this node, so the put errors, though the copy stays and is republished.
   */
  private Mono<PutResult> settle(Reached reached, PutResult result, boolean republished) {
    // This node's own copy is listed as its contact: a node of its id elsewhere (the node a
    // client publishes for, kad put --id) is another node's copy.
    boolean selfHolds = result.accepted().contains(contact());
    List<Address> unjoined = unjoinedSeeds;
    boolean first = reached.asked.isEmpty() && unjoined == null;
    if (result.accepted().size() > (selfHolds ? 1 : 0)) {
      return Mono.just(result);
    }
    if (selfHolds && first) {
      if (warnedAlone.compareAndSet(false, true)) {
        log.warn(
            "node={} stored a put only at itself: it knows no other node, as the first node of its"
                + " network or a node whose bootstrap was never subscribed; said once",
            id.toShortHex());
      }
      return Mono.just(result);
    }
    String key = "key " + result.key().toShortHex();
    String kept =
        !selfHolds
            ? ""
            : republished
                ? "; the value is stored only at this node, which republishes it"
                : "; the value is stored only at this node, until it expires";
    List<PutResult.Rejection> refused =
        result.rejected().stream().filter(r -> !r.contact().equals(contact())).toList();
    if (!refused.isEmpty() || (reached.asked.isEmpty() && !result.rejected().isEmpty())) {
      // Nodes over their requests per second from this one refuse anything for the moment: the
      // value is not at fault, and a retry may be taken.
      boolean busy =
          !refused.isEmpty()
              && refused.size() == result.rejected().size()
              && refused.stream().allMatch(r -> r.reason().startsWith(RATE_LIMITED_REASON));
      return Mono.error(
          new StoreRejectedException(
              (selfHolds ? "no other node" : "no node")
                  + " accepted the value for "
                  + key
                  + ": rejected "
                  + result.rejected()
                  + ", failed "
                  + result.failed().size()
                  + kept
                  + (busy ? "; every refusal was RATE_LIMITED, so a retry may succeed" : ""),
              result,
              busy));
    }
    // Nobody else answered: the network, not the value, is the problem, and a retry may help.
    String why =
        reached.asked.isEmpty()
            ? unjoined == null
                ? "this node knows no other node"
                : "this node has not joined its network: no bootstrap through "
                    + unjoined
                    + " succeeded"
            : reached.closest.isEmpty()
                ? "none of the " + reached.asked.size() + " nodes its lookup asked answered"
                : result.failed().size() + " failed";
    return Mono.error(
        new NoStoreAnsweredException(
            (selfHolds ? "no other node" : "no node")
                + " answered the stores for "
                + key
                + ": "
                + why
                + kept
                + (result.rejected().isEmpty()
                    ? ""
                    : "; this node refused it: " + result.rejected().get(0).reason()),
            result));
  }

  /** How one node answered a store of {@code put}. */
  private sealed interface StoreAttempt {
    record Accepted(Contact contact) implements StoreAttempt {}

    record Refused(PutResult.Rejection rejection) implements StoreAttempt {}

    record Unanswered(Contact contact) implements StoreAttempt {}
  }

  private Mono<StoreAttempt> storeAt(Contact c, Request.Store request) {
    return call(c, request)
        .map(
            response -> {
              if (!response.sender().id().equals(c.id())) {
                // Another node serves c's address now (c restarted with a new id, or lied to the
                // lookup): whatever it stored, c holds no copy.
                return (StoreAttempt) new StoreAttempt.Unanswered(c);
              }
              if (response instanceof Response.Stored s && s.accepted() > 0) {
                return (StoreAttempt) new StoreAttempt.Accepted(c);
              }
              String reason =
                  response instanceof Response.Stored s && !s.rejected().isEmpty()
                      ? s.rejected().get(0).reason()
                      : response instanceof Response.Failure f
                          ? f.code() + ": " + f.message() // RATE_LIMITED_REASON for that code
                          : "unexpected " + response.getClass().getSimpleName();
              return new StoreAttempt.Refused(new PutResult.Rejection(c, reason));
            })
        .onErrorResume(e -> Mono.just(new StoreAttempt.Unanswered(c)));
  }

  private boolean selfAmongClosest(Key key, List<Contact> closest) {
    // A client is never one of a key's k copies: nobody would look for it there, and it may leave.
    return !config.clientMode()
        && (closest.size() < config.k()
            || key.compareDistance(id, closest.get(closest.size() - 1).id()) < 0);
  }

  private PutResult result(Key key, Value value, Reached reached, List<StoreAttempt> attempts) {
    List<Contact> closest = reached.closest;
    List<Contact> accepted = new ArrayList<>();
    List<PutResult.Rejection> rejected = new ArrayList<>();
    List<Contact> failed = new ArrayList<>();
    // This node holds the value too when it is one of the k closest to the key.
    if (selfAmongClosest(key, closest)) {
      Instant now = clock.instant();
      StoreOutcome outcome = store.store(key, value, value.expiresAt(), false, now);
      if (outcome.changed()) {
        liveStreams.stored(key, List.of(value));
      }
      if (outcome.accepted()) {
        accepted.add(contact());
      } else {
        rejected.add(new PutResult.Rejection(contact(), outcome.reason()));
      }
    }
    for (StoreAttempt attempt : attempts) {
      if (attempt instanceof StoreAttempt.Accepted a) {
        accepted.add(a.contact());
      } else if (attempt instanceof StoreAttempt.Refused r) {
        rejected.add(r.rejection());
      } else if (attempt instanceof StoreAttempt.Unanswered u) {
        failed.add(u.contact());
      }
    }
    // Fewer than k answered the lookup: the closest nodes it lost would have been among the k, so
    // they are reported too, rather than vanish from the outcome.
    int room = config.k() - accepted.size() - rejected.size() - failed.size();
    if (room > 0 && !reached.failed.isEmpty()) {
      Set<NodeId> listed = new HashSet<>();
      closest.forEach(c -> listed.add(c.id()));
      reached.failed.values().stream()
          .filter(c -> !listed.contains(c.id()) && !c.equals(contact()))
          .sorted((x, y) -> key.compareDistance(x.id(), y.id()))
          .limit(room)
          .forEach(failed::add);
    }
    return new PutResult(key, value, accepted, rejected, failed);
  }

  /**
   * Kademlia §2.5: when a new node appears, the node closest to a stored key hands its values over
   * if the newcomer is among the key's k closest. The table alone rules out most newcomers, without
   * reading the store, and most keys for the others ({@link HandOver}).
   */
  private Mono<Void> handOver(Contact newcomer) {
    return Mono.defer(
        () -> {
          if (store.size() == 0) {
            // Nothing to hand over, and the plan reads every contact of the table: a joining
            // network adds contacts by the million before anyone stores a value.
            return Mono.empty();
          }
          HandOver plan =
              HandOver.plan(id, table.contactsPerBucketIndex(), newcomer.id(), config.k());
          if (plan.none()) {
            return Mono.empty();
          }
          Instant now = clock.instant();
          Map<Key, List<Value>> byKey = new LinkedHashMap<>();
          // Once per key, not per value: each decision is a closest() of the table.
          Map<Key, Boolean> decided = new HashMap<>();
          // Only the keys the plan leaves open are read from the store, not every value it holds.
          for (StoredValue v : store.entries(now, plan::mayHandOver)) {
            if (!v.cached()
                && decided.computeIfAbsent(
                    v.key(),
                    key -> HandOver.handsOver(id, key, table.closest(key, config.k()), newcomer))) {
              byKey.computeIfAbsent(v.key(), k -> new ArrayList<>()).add(v.value());
            }
          }
          return Flux.fromIterable(byKey.entrySet())
              .concatMap(e -> storeAt(newcomer, e.getKey(), e.getValue(), false))
              .then();
        });
  }

  @Override
  public boolean stopRepublishing(Key key) {
    checkWidth("key", key);
    boolean stopped = false;
    for (Own own : published.keySet()) {
      if (own.key().equals(key)) {
        stopped |= stop(own);
      }
    }
    return stopped;
  }

  @Override
  public boolean stopRepublishing(Key key, long valueId) {
    checkWidth("key", key);
    return stop(new Own(key, valueId));
  }

  /**
   * Takes {@code own} out of republishing, keeping its seq until it expires, so that a later put of
   * it still replaces the copies out there.
   */
  private boolean stop(Own own) {
    if (closed.get()) {
      return false; // a closed node republishes nothing
    }
    AtomicBoolean stopped = new AtomicBoolean();
    published.computeIfPresent(
        own,
        (k, p) -> {
          stopped.set(p.republished());
          return p.notRepublished();
        });
    return stopped.get();
  }

  @Override
  public Flux<Value> watch(Key key) {
    checkWidth("key", key);
    return liveStreams.watch(key);
  }

  @Override
  public NodeStats stats() {
    return new NodeStats(
        table.size(),
        table.bucketCount(),
        store.size(),
        store.storedBytes(),
        liveStreams.active(),
        liveStreams.polling(),
        subscribers.size(),
        lastHeard());
  }

  private Optional<Instant> lastHeard() {
    long millis = lastHeardMillis.get();
    return millis == NEVER ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
  }

  @Override
  public Mono<Void> close() {
    return Mono.defer(
        () -> {
          if (!closed.compareAndSet(false, true)) {
            return onClose.asMono();
          }
          closing.tryEmitEmpty();
          // Drops the queued Unsubscribes of watches that ended just before: the farewell
          // sends them (LiveStreams keeps them owed until they settle).
          background.dispose();
          // Goodbyes to the nodes the watches are subscribed at, and those owed by watches that
          // ended, for at most the soft timeout. Taken once closed: no Subscribe leaves after.
          Mono<Void> farewell =
              liveStreams
                  .farewell()
                  .timeout(config.softTimeout(), Mono.empty(), scheduler)
                  .onErrorResume(e -> Mono.empty());
          liveStreams.endAll(closedError());
          // Subscribed here, once, not by the caller: a caller that stops waiting (a timeout
          // around close(), block(Duration)) must not cancel the shutdown halfway, leaving the
          // transport open while every later close() reports the node closed.
          farewell
              .then(transport.close())
              .subscribe(
                  null,
                  e -> {
                    log.warn(
                        "node={} closed, its transport failed to: {}",
                        id.toShortHex(),
                        e.toString());
                    onClose.tryEmitError(e);
                  },
                  () -> {
                    // Logged before completing: whoever waits for close() may end the process.
                    log.info("node={} closed", id.toShortHex());
                    onClose.tryEmitEmpty();
                  });
          return onClose.asMono();
        });
  }

  @Override
  public Mono<Void> onClose() {
    return onClose.asMono();
  }

  // ---- argument checks ------------------------------------------------------------------

  private void checkWidth(String what, KadId value) {
    if (value == null) {
      throw new NullPointerException(what);
    }
    if (value.bits() != config.idBits()) {
      throw new IllegalArgumentException(
          what + " must have " + config.idBits() + " bits but had " + value.bits());
    }
  }

  private void checkSize(int bytes) {
    if (bytes > config.maxValueBytes()) {
      throw new ValueTooLargeException(bytes, config.maxValueBytes());
    }
  }
}
