package dev.kad.reactor;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.api.spi.NodeListener;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Builds and starts {@link KadNode}s.
 *
 * <pre>{@code
 * KadNodes.builder()
 *     .config(KadConfig.defaults())
 *     .transport(transport)
 *     .start()                       // Mono<KadNode>: binds the transport
 *     .flatMap(node -> node.bootstrap(List.of(Address.parse("127.0.0.1:7000")))
 *         .then(node.put(Key.of("greeting"), "hello".getBytes(UTF_8))))
 *     .subscribe(result -> log.info("stored at {} nodes", result.acceptedCount()));
 * }</pre>
 */
public final class KadNodes {

  /**
   * Where every node's subscription tokens come from: thread-safe, shared by the nodes. A DRBG
   * seeded here, once: tokens are drawn on event loops, and the default {@code NativePRNG} reads
   * {@code /dev/urandom} at every draw (BlockHound caught it), while a seeded DRBG only computes.
   */
  private static final SecureRandom TOKENS = seededTokens();

  private static SecureRandom seededTokens() {
    SecureRandom random;
    try {
      random = SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      random = new SecureRandom();
    }
    random.nextLong();
    return random;
  }

  private KadNodes() {}

  /**
   * The record stores given to {@link Builder#store} that serve a node now, and which: a store
   * serves one node, from its start until its close, as a transport does. Two nodes on one store
   * shared one file past its lock, and each replicated and expired the other's values as its own.
   */
  private static final Map<RecordStore, NodeId> SERVING = new IdentityHashMap<>();

  /** Takes {@code store} for {@code node}: null when it was free, else the node it serves. */
  private static NodeId claim(RecordStore store, NodeId node) {
    synchronized (SERVING) {
      return SERVING.putIfAbsent(store, node);
    }
  }

  private static void release(RecordStore store, NodeId node) {
    synchronized (SERVING) {
      SERVING.remove(store, node);
    }
  }

  /**
   * A builder with the default configuration, the parallel scheduler, the system clock, an unseeded
   * random source, a random id and an in-memory store.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Feeds contacts to a node's routing table as if it had heard from them, without any message: the
   * documented warm-up with which simulations of very many nodes fill routing tables through the
   * same table code instead of the bootstrap protocol.
   *
   * @param node a node built by this class
   * @param contacts the contacts
   * @throws IllegalArgumentException when the node was not built by this class
   */
  public static void learn(KadNode node, Iterable<Contact> contacts) {
    if (!(node instanceof DefaultKadNode engine)) {
      throw new IllegalArgumentException("node was not built by KadNodes: " + node);
    }
    for (Contact c : contacts) {
      // No message goes out, so neither does the ping a full bucket asks for: left marked as
      // pending, it would keep that bucket from ever probing its oldest contact again.
      engine.table().seen(c).toPing().ifPresent(engine.table()::pingNotSent);
    }
  }

  /** Collects the parts of a node. Not thread-safe. */
  public static final class Builder {
    private KadConfig config = KadConfig.defaults();
    private Transport transport;
    private Scheduler scheduler;
    private Clock clock;
    private RandomGenerator random;
    private NodeId id;
    private RecordStore store;
    private NodeListener listener = NodeListener.NONE;

    private Builder() {}

    /**
     * Sets the listener told of every request and operation, for metrics. An exception it throws is
     * logged (the first at WARN) and does not reach the node's operations or its answers.
     *
     * @param listener a fast, thread-safe, non-blocking listener
     * @return this builder
     */
    public Builder listener(NodeListener listener) {
      this.listener = GuardedListener.of(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * Sets the configuration.
     *
     * @param config the configuration
     * @return this builder
     */
    public Builder config(KadConfig config) {
      this.config = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * Sets the transport (required). It must carry the configuration's ids, values and frames
     * ({@link Transport#checkCompatible(KadConfig)}, checked by {@link #start()}): build a {@code
     * TcpTransport}'s options with {@code fromConfig(config)}.
     *
     * @param transport an unstarted transport; the node starts and closes it
     * @return this builder
     */
    public Builder transport(Transport transport) {
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /**
     * Sets the scheduler every timer of the node runs on (a {@code VirtualTimeScheduler} in tests
     * and simulations); by default the transport's when it has one ({@link Transport#scheduler()}:
     * a simulated network's clock), else {@link Schedulers#parallel()}. Unless a {@link
     * #clock(Clock)} is set too, the node reads the time from this scheduler.
     *
     * @param scheduler the scheduler
     * @return this builder
     */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Sets the clock for expiries. By default: the system clock (UTC) when no scheduler was set,
     * and a clock reading {@link Scheduler#now} of the scheduler that was set, so a node on a
     * virtual-time scheduler expires values in virtual time.
     *
     * @param clock the clock
     * @return this builder
     */
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Sets the random source of every random choice, so a seed reproduces a run. The secret tokens
     * of the node's live-stream subscriptions are the exception: they come from a {@link
     * java.security.SecureRandom} whatever source is set, so a seed known to others never makes
     * them guessable, and no run's course depends on their values.
     *
     * @param random the random source; the node uses it under its own lock
     * @return this builder
     */
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Sets the node's id; by default a random one of the configured width.
     *
     * @param id the id
     * @return this builder
     */
    public Builder id(NodeId id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    /**
     * Sets the record store; by default an {@link InMemoryRecordStore}. A store serves one running
     * node: {@link #start()} refuses one that another node started with and has not closed.
     *
     * @param store the store
     * @return this builder
     */
    public Builder store(RecordStore store) {
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * Starts the node: starts the transport with the node's request handler and the maintenance
     * jobs.
     *
     * <p>Subscribing starts it; the {@code Mono} emits the running node, or errors when the
     * transport cannot start. The node is built once, by this call, not per subscription: a second
     * subscription while the first is starting or has started fails with an {@code
     * IllegalStateException} saying so (subscribe once, or {@code cache()} the {@code Mono}); one
     * after a failed start, or one cancelled before the transport served, tries again. A start
     * cancelled (or failed) once the transport served, before the node was emitted, closes the
     * node, which no one could close otherwise: a later subscription errors with {@code
     * NodeClosedException}.
     *
     * <p>A record store set by {@link #store} serves one node from its start until its close: a
     * start with a store that serves another node errors with an {@code IllegalArgumentException}
     * naming both (the default in-memory store is the node's own). A start that ends without the
     * node running gives the store back once nothing of the node runs.
     *
     * @return the running node
     * @throws IllegalStateException when no transport was set
     * @throws IllegalArgumentException when the id's width differs from the configuration, or the
     *     transport cannot carry the configuration's ids, values or frames, or was built for
     *     another node's id ({@link Transport#attach(NodeId, KadConfig)}), or the scheduler set is
     *     not the one the transport requires ({@link Transport#scheduler()})
     */
    public Mono<KadNode> start() {
      if (transport == null) {
        throw new IllegalStateException("a transport is required: call transport(...)");
      }
      RandomGenerator rng = random != null ? random : new SplittableRandom();
      NodeId nodeId = id != null ? id : NodeId.random(config.idBits(), rng);
      if (nodeId.bits() != config.idBits()) {
        throw new IllegalArgumentException(
            "id must have idBits " + config.idBits() + " but had " + nodeId.bits());
      }
      transport.attach(nodeId, config);
      Scheduler timers = scheduler;
      Optional<Scheduler> shared = transport.scheduler();
      if (shared.isPresent()) {
        if (timers == null) {
          timers = shared.get();
        } else if (timers != shared.get()) {
          throw new IllegalArgumentException(
              "the node's scheduler "
                  + timers
                  + " is not its transport's "
                  + shared.get()
                  + ", on which the network delivers messages: leave scheduler(...) unset, or set"
                  + " the transport's (a simulated network's clock)");
        }
      }
      DefaultKadNode node =
          new DefaultKadNode(
              config,
              transport,
              timers != null ? timers : Schedulers.parallel(),
              clock != null
                  ? clock
                  : timers != null ? SchedulerClock.of(timers) : Clock.systemUTC(),
              rng,
              // Tokens guard live streams against forged pushes and Unsubscribes: unguessable,
              // whatever random source was given. A seeded simulation still reproduces its run:
              // nothing orders by a token's value, and the node's own source is not drawn from.
              TOKENS,
              nodeId,
              store != null ? store : new InMemoryRecordStore(config),
              listener);
      AtomicBoolean claimed = new AtomicBoolean();
      return Mono.defer(
          () -> {
            if (!claimed.compareAndSet(false, true)) {
              return Mono.error(
                  new IllegalStateException(
                      "this start() already started node "
                          + nodeId.toShortHex()
                          + ": a KadNodes.builder().start() starts one node, so subscribe to it"
                          + " once (or cache() it)"));
            }
            // Set when the node is emitted: a cancel that comes with it (take(1), next()) leaves
            // the node running, so the start stays taken. Reset, a second subscription started
            // the node again, and its failed start (the transport serves already) closed it.
            AtomicBoolean up = new AtomicBoolean();
            if (store == null) {
              return node.start()
                  .doOnNext(n -> up.set(true))
                  .doOnError(e -> claimed.set(false))
                  .doOnCancel(
                      () -> {
                        if (!up.get()) {
                          claimed.set(false);
                        }
                      });
            }
            if (node.isClosed()) {
              // A start cancelled once its transport served closed the node, which may still hold
              // the store while it closes: say closed, not that the store serves another node.
              claimed.set(false);
              return Mono.error(node.closedError());
            }
            NodeId holder = claim(store, nodeId);
            if (holder != null) {
              claimed.set(false);
              return Mono.error(
                  new IllegalArgumentException(
                      "record store "
                          + store
                          + " already serves node "
                          + holder.toShortHex()
                          + ": each node needs a store of its own (close that node first)"));
            }
            // A start that ends without the node running releases the store once nothing runs:
            // a cancel that came after the transport served (or the jobs started) closes the node
            // first. Released at the cancel itself, the store served the next node while this one,
            // which no one held to close, still answered and ran its jobs on it.
            return node.start(() -> release(store, nodeId))
                .doOnNext(
                    n -> {
                      up.set(true);
                      // Released once the node has closed, whoever closed it.
                      n.onClose()
                          .doFinally(signal -> release(store, nodeId))
                          .subscribe(v -> {}, e -> {});
                    })
                .doOnError(e -> claimed.set(false))
                .doOnCancel(
                    () -> {
                      if (!up.get()) {
                        claimed.set(false);
                      }
                    });
          });
    }
  }
}
