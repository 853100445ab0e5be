package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeStats;
import dev.kad.reactor.routing.Subnets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;
import org.springframework.context.ApplicationContext;
import org.springframework.context.ApplicationContextAware;
import org.springframework.context.ApplicationListener;
import org.springframework.context.SmartLifecycle;
import org.springframework.context.event.ContextClosedEvent;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * Bootstraps the node in the background when the context starts, so joining never delays
 * application start-up, and closes it when the context closes, after every lifecycle has stopped. A
 * failed bootstrap is tried again after {@link #FIRST_RETRY_DELAY}, the delay doubling up to {@link
 * #MAX_RETRY_DELAY} (with jitter), with no limit on the number of attempts, until the node has
 * joined, the context stops or the node closes; {@link #status()} tells where joining stands. The
 * node has joined when a seed answers, or when it is evidently in its network without them: it
 * knows a contact and has heard from some node within the silence threshold (a peer joined through
 * it, a contact answers again; seeds that are down or gone then stop no one). It then looks up its
 * own id through the contacts it knows, as a bootstrap would, to fill its table. A node whose every
 * seed is itself (every node of a cluster given the first one's address) joins at once, as the
 * first node of its network; one among its own seeds whose other seeds do not answer (the first pod
 * of a cluster whose other pods do not exist yet, or a restarted first node whose peers cannot be
 * reached) keeps trying them, and meanwhile serves as the first node, up like a node without seeds
 * ({@link BootstrapStatus#ownSeed()}).
 *
 * <p>Once joined, a node that needs its network again rejoins, the same way: when it knows no
 * contact any more (every contact failed; not the first node of its network while it has known none
 * yet), or when it has heard from no other node for longer than the silence threshold (the one
 * {@link KadHealthIndicator} reports it down after, unless it is the first node of its network):
 * every node it knew may be gone while its seeds are back, and the engine keeps those contacts, so
 * nothing else would bring it back into its network. A node among its own seeds does so too, while
 * it serves as the first node of its network, waiting for peers: it keeps trying its other seeds,
 * if it has any, until one answers or a peer is heard from. The lifecycle looks every quarter of
 * the threshold, at least every {@link #MAX_SILENCE_CHECK_INTERVAL} (every such interval when there
 * is no threshold, for the empty table only), and never while an attempt runs. A node that hears
 * from other nodes never rejoins, and a successful bootstrap heard from a seed, so the next silence
 * rejoin comes a whole threshold later at the earliest.
 *
 * <p>Stopping the context ({@code stop()}, or {@code pause()}, which Spring's test framework does
 * to a cached context it is not using) only pauses: the bootstrap retries and checks end, but the
 * node stays open, keeps its routing table and store, and goes on answering its peers, since the
 * node bean cannot be replaced under the beans it was injected into and a closed node cannot open
 * again. Starting the context again resumes joining when the node has not joined or has since lost
 * every contact, and resumes the checks. The node closes only when the context closes: {@link
 * #close()} is this bean's destroy method.
 *
 * <p>{@link #closing()} completes as soon as the context begins to close, before the web server's
 * graceful shutdown waits for the requests in flight: an application ends its own endless streams
 * with it ({@code node.watch(key).takeUntilOther(lifecycle.closing())}), which would otherwise hold
 * that shutdown for its whole timeout, since the node itself closes only after it.
 */
public class KadNodeLifecycle
    implements SmartLifecycle, ApplicationListener<ContextClosedEvent>, ApplicationContextAware {

  /**
   * The phase: below Spring Boot's web server lifecycles (graceful shutdown at {@code DEFAULT_PHASE
   * - 1024}, start and stop at {@code DEFAULT_PHASE - 2048}). Lower phases start first and stop
   * last: the node starts joining before requests arrive, and goes on joining until the web server
   * has finished the requests in flight (the node itself closes later still, with the context).
   */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

  /** The delay before the first retry of a failed bootstrap. */
  public static final Duration FIRST_RETRY_DELAY = Duration.ofSeconds(1);

  /** The longest delay between two bootstrap attempts. */
  public static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(1);

  /** The longest time between two looks at how long the node has heard from no other node. */
  public static final Duration MAX_SILENCE_CHECK_INTERVAL = Duration.ofMinutes(1);

  /**
   * The shortest silence threshold other than zero. Below it the checks would bootstrap an idle
   * healthy node again more often than a failing bootstrap is retried ({@link #MAX_RETRY_DELAY}),
   * and {@link NodeStats#lastHeard()} is kept only to the second.
   */
  public static final Duration MIN_SILENCE_THRESHOLD = Duration.ofMinutes(1);

  private static final Logger log = LoggerFactory.getLogger(KadNodeLifecycle.class);

  private final KadNode node;
  private final List<Address> seeds;
  private final Duration silenceThreshold;
  private final Clock clock;
  private final Scheduler scheduler;
  private final AtomicReference<BootstrapStatus> status;

  /** Every status as it is set, replaying the latest to each new subscriber; see {@link #set}. */
  private final Sinks.Many<BootstrapStatus> statuses = Sinks.many().replay().latest();

  /** Sets not yet emitted; the thread that takes it from zero emits until it is zero again. */
  private final AtomicInteger emitting = new AtomicInteger();

  /** Completed when the context begins to close, or this lifecycle closes the node. */
  private final Sinks.Empty<Void> closing = Sinks.empty();

  /** The context whose closing {@link #closing()} tells; null outside one. */
  private volatile ApplicationContext context;

  /**
   * Whether this run of failed attempts has warned that a seed's settings and this node's do not
   * fit: once a run, as the first failure is, since a seed found so after it was down (it came up
   * with TLS off, say) would otherwise show only at DEBUG.
   */
  private volatile boolean warnedMisfit;

  private volatile Disposable joining;
  private volatile boolean running;
  private volatile boolean joinedOnce;

  /** A bootstrap found the node among its own seeds ({@link BootstrapStatus#ownSeed()}). */
  private volatile boolean ownSeed;

  /**
   * The last join ended with the node as the first of its network, every seed being itself, and no
   * check has seen it know a contact since: its empty table is no lost network to rejoin.
   */
  private volatile boolean alone;

  /** When the node last joined; silence counts from it at the earliest. */
  private volatile Instant joinedAt;

  /**
   * Creates the lifecycle of one node, which bootstraps again after the {@linkplain
   * KadHealthIndicator#defaultSilenceThreshold(KadConfig) default silence threshold} of the node's
   * configuration (none without refresh and liveness jobs).
   *
   * @param node the node
   * @param seeds the bootstrap addresses, possibly none
   * @param clock the node's clock, which {@link NodeStats#lastHeard()} reads; also the clock of the
   *     status timestamps
   * @param scheduler where the delays between bootstrap attempts and the silence checks run: the
   *     node's scheduler
   * @throws IllegalArgumentException when a seed is an address no node can dial
   */
  public KadNodeLifecycle(KadNode node, List<Address> seeds, Clock clock, Scheduler scheduler) {
    this(node, seeds, KadHealthIndicator.defaultSilenceThreshold(node.config()), clock, scheduler);
  }

  /**
   * Creates the lifecycle of one node.
   *
   * @param node the node
   * @param seeds the bootstrap addresses, possibly none
   * @param silenceThreshold how long a joined node may hear from no other node before it bootstraps
   *     again through {@code seeds}: zero for never, else at least {@link #MIN_SILENCE_THRESHOLD}
   * @param clock the node's clock, which {@link NodeStats#lastHeard()} reads; also the clock of the
   *     status timestamps
   * @param scheduler where the delays between bootstrap attempts and the silence checks run: the
   *     node's scheduler
   * @throws IllegalArgumentException when {@code silenceThreshold} is negative, or positive and
   *     below {@link #MIN_SILENCE_THRESHOLD}, or a seed is an address no node can dial (port 0, a
   *     wildcard or multicast IP)
   */
  public KadNodeLifecycle(
      KadNode node,
      List<Address> seeds,
      Duration silenceThreshold,
      Clock clock,
      Scheduler scheduler) {
    checkSilenceThreshold("silenceThreshold", silenceThreshold);
    this.node = Objects.requireNonNull(node, "node");
    this.seeds = List.copyOf(seeds);
    // The engine's bootstrap refuses these at every attempt: retried, they never fail start-up.
    for (Address seed : this.seeds) {
      checkSeed(seed, seed.host() + ":" + seed.port());
    }
    this.silenceThreshold = silenceThreshold;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.status =
        new AtomicReference<>(
            new BootstrapStatus(
                seeds.isEmpty()
                    ? BootstrapStatus.State.NOT_CONFIGURED
                    : BootstrapStatus.State.RUNNING,
                clock.instant(),
                Optional.empty()));
    statuses.tryEmitNext(status.get());
  }

  /**
   * Refuses a seed no node can dial, as the engine's bootstrap does: port 0, a wildcard or a
   * multicast IP.
   *
   * @param seed the parsed seed
   * @param text how the user wrote it, for the message
   */
  static void checkSeed(Address seed, String text) {
    if (!Subnets.dialable(seed)) {
      throw new IllegalArgumentException(
          "seed must be an address a node can dial (not port 0, a wildcard or multicast IP) but was '"
              + text
              + "'");
    }
  }

  /**
   * How long a joined node may hear from no other node before it bootstraps again.
   *
   * @return the threshold, zero for never
   */
  public Duration silenceThreshold() {
    return silenceThreshold;
  }

  /**
   * The last bootstrap outcome.
   *
   * @return the status
   */
  public BootstrapStatus status() {
    return status.get();
  }

  /**
   * Where joining stands, live: the current status first, then every change (each attempt, failure
   * and join, rejoins too), until the node closes. Each subscriber gets the latest status at once
   * and the changes after it; a slow one does not hold joining up (statuses it had no demand for
   * are dropped but the latest).
   *
   * @return the statuses; completes when the node closes
   */
  public Flux<BootstrapStatus> statuses() {
    return statuses
        .asFlux()
        .distinctUntilChanged()
        .onBackpressureLatest()
        .takeUntilOther(node.onClose());
  }

  /**
   * Completes once the node has joined its network, at once when it has: with the status that says
   * so ({@link BootstrapStatus.State#DONE}, or {@link BootstrapStatus.State#NOT_CONFIGURED} for a
   * node without bootstrap addresses, the first of its network). A node rejoining after it lost its
   * network has not joined until the rejoin succeeds. For an application or a test that must wait
   * for the background join before it uses the node, without polling {@link #status()}.
   *
   * @return the status once joined; errors with {@link NodeClosedException} when the node closes
   *     first
   */
  public Mono<BootstrapStatus> joined() {
    return statuses()
        .filter(
            s ->
                s.state() == BootstrapStatus.State.DONE
                    || s.state() == BootstrapStatus.State.NOT_CONFIGURED)
        .next()
        .switchIfEmpty(
            Mono.error(
                () ->
                    new NodeClosedException(
                        "kad node " + node.id().toShortHex() + " closed before it joined")));
  }

  /**
   * Completes when the application context begins to close, at once when it has: before any
   * lifecycle stops, so before the web server's graceful shutdown waits for the requests in flight,
   * and while the node is still open. A lifecycle made outside a context completes it when it
   * closes the node ({@link #close()}). Stopping or pausing the context does not complete it, nor
   * does a child context closing. End an application's own endless streams with it, such as a watch
   * served as server-sent events: {@code node.watch(key).takeUntilOther(lifecycle.closing())};
   * otherwise such a stream holds graceful shutdown for its whole timeout, as the node closes only
   * after the web server.
   *
   * @return completes, empty, when the context begins to close; never errors; each subscriber, a
   *     late one too, is told
   */
  public Mono<Void> closing() {
    return closing.asMono();
  }

  /** Remembers the context whose {@link ContextClosedEvent} {@link #closing()} waits for. */
  @Override
  public void setApplicationContext(ApplicationContext applicationContext) {
    this.context = applicationContext;
  }

  /**
   * Completes {@link #closing()} when this lifecycle's own context closes. A child context's event
   * (a management context, a refresh scope) is published to the parent's listeners too: it is
   * ignored.
   */
  @Override
  public void onApplicationEvent(ContextClosedEvent event) {
    ApplicationContext own = context;
    if (own == null || event.getApplicationContext() == own) {
      endClosing();
    }
  }

  private void endClosing() {
    // Only ever completed, from the closing thread or close(): a lost race is the same outcome.
    closing.tryEmitEmpty();
  }

  /**
   * Sets the status and tells {@link #statuses()}. Subscribers run outside any lock, on the thread
   * that drains: a set while another thread emits is emitted by that thread, which always emits the
   * latest status, so concurrent sets never leave an older status last.
   *
   * @return the status before
   */
  private BootstrapStatus set(UnaryOperator<BootstrapStatus> change) {
    BootstrapStatus previous = status.getAndUpdate(change);
    if (emitting.getAndIncrement() == 0) {
      do {
        statuses.tryEmitNext(status.get());
      } while (emitting.decrementAndGet() != 0);
    }
    return previous;
  }

  /**
   * Checks a silence threshold.
   *
   * @param name how the messages name it
   * @param threshold the threshold
   * @return the threshold
   * @throws IllegalArgumentException when it is negative, or positive and below {@link
   *     #MIN_SILENCE_THRESHOLD}
   */
  static Duration checkSilenceThreshold(String name, Duration threshold) {
    Objects.requireNonNull(threshold, name);
    if (threshold.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative but was " + threshold);
    }
    if (!threshold.isZero() && threshold.compareTo(MIN_SILENCE_THRESHOLD) < 0) {
      throw new IllegalArgumentException(
          name + " must be 0 (off) or at least " + MIN_SILENCE_THRESHOLD + " but was " + threshold);
    }
    return threshold;
  }

  /**
   * Starts joining in the background, unless there is no bootstrap address or the node has joined
   * and still knows a contact, and then watches for a lost network. Starting again after {@link
   * #stop()} resumes both.
   */
  @Override
  public void start() {
    if (running) {
      return;
    }
    running = true;
    if (seeds.isEmpty()) {
      return;
    }
    // A node that joined before and has since lost every contact rejoins.
    Mono<Void> first = hasJoined() ? Mono.empty() : join(joinedOnce);
    joining =
        first
            .thenMany(checks())
            .subscribe(
                null,
                e ->
                    log.debug(
                        "kad node {} stopped bootstrapping: {}",
                        node.id().toShortHex(),
                        e.toString()));
  }

  private boolean hasJoined() {
    return joinedOnce && (alone || node.stats().contacts() > 0);
  }

  private BootstrapStatus status(
      BootstrapStatus.State state, Optional<String> error, int attempts, boolean rejoin) {
    return new BootstrapStatus(state, clock.instant(), error, attempts, rejoin, ownSeed);
  }

  /**
   * Bootstraps until it succeeds or the node closes (an error), or until the node is evidently in
   * its network without its seeds' help: it knows a contact and is not silent (a peer joined
   * through it, a contact answers again). Then it looks up its own id through the contacts it
   * knows, the lookup a bootstrap does after pinging its seeds, to fill its table, and completes.
   * Never gives up otherwise: the back-off is capped, not the number of attempts.
   */
  private Mono<Void> join(boolean rejoin) {
    return Mono.defer(
        () -> {
          AtomicInteger attempts = new AtomicInteger();
          // A seed that is the node's advertised address is the node itself, as the engine's
          // bootstrap counts it: known before any attempt, even one that joins through another.
          if (seeds.contains(node.contact().address())) {
            ownSeed = true;
          }
          BootstrapStatus running =
              status(BootstrapStatus.State.RUNNING, Optional.empty(), 0, rejoin);
          set(s -> running);
          return Mono.defer(
                  () -> {
                    int n = attempts.incrementAndGet();
                    set(
                        s ->
                            new BootstrapStatus(
                                s.state(), s.at(), s.error(), n, rejoin, s.ownSeed()));
                    return node.bootstrap(seeds);
                  })
              .doOnError(
                  e -> !(e instanceof NodeClosedException), e -> failed(e, attempts.get(), rejoin))
              .retryWhen(
                  Retry.backoff(Long.MAX_VALUE, FIRST_RETRY_DELAY)
                      .maxBackoff(MAX_RETRY_DELAY)
                      .filter(e -> !(e instanceof NodeClosedException) && needsJoin())
                      .scheduler(scheduler))
              .doOnSuccess(v -> joined(attempts.get(), rejoin))
              .onErrorResume(
                  e -> !(e instanceof NodeClosedException),
                  e -> {
                    log.info(
                        "kad node {} is in its network though no seed answered ({} contacts, heard"
                            + " from a node at {}); stopped bootstrapping from {}",
                        node.id().toShortHex(),
                        node.stats().contacts(),
                        node.stats().lastHeard().map(Instant::toString).orElse("-"),
                        seeds);
                    // The id its table centers on (a client's is not its own id).
                    return node.findNode(node.routingTable().self())
                        .then()
                        .onErrorResume(x -> !(x instanceof NodeClosedException), x -> Mono.empty())
                        .doOnSuccess(v -> done(attempts.get(), rejoin));
                  });
        });
  }

  /**
   * Records a join through a seed, telling which seed answered when it took more than one attempt
   * (the engine tells of every bootstrap, not of the attempts before it).
   */
  private void joined(int attempts, boolean rejoin) {
    int contacts = node.stats().contacts();
    if (attempts > 1 && contacts > 0) {
      List<Address> known = node.routingTable().contacts().stream().map(c -> c.address()).toList();
      List<Address> through = seeds.stream().filter(known::contains).toList();
      log.info(
          "kad node {} joined through {} at attempt {}",
          node.id().toShortHex(),
          through.size() == 1 ? through.get(0) : through.isEmpty() ? seeds : through,
          attempts);
    }
    done(attempts, rejoin);
  }

  /**
   * Records that the node has joined. A bootstrap that succeeded leaving the table empty found
   * every seed to be the node itself: it is the first node of its network.
   */
  private void done(int attempts, boolean rejoin) {
    if (node.stats().contacts() == 0) {
      ownSeed = true;
      alone = true;
    }
    joinedOnce = true;
    warnedMisfit = false;
    joinedAt = clock.instant();
    BootstrapStatus done = status(BootstrapStatus.State.DONE, Optional.empty(), attempts, rejoin);
    set(s -> done);
  }

  /**
   * Looks every quarter of the threshold (at most a minute apart; every minute without a threshold)
   * and rejoins while the node needs it; a check waits for the rejoin before it (ticks meanwhile
   * are dropped), and a failed one does not end the checks. Ends only with the node closing (an
   * error).
   */
  private Flux<Void> checks() {
    Duration quarter = silenceThreshold.dividedBy(4);
    Duration interval =
        silenceThreshold.isZero() || quarter.compareTo(MAX_SILENCE_CHECK_INTERVAL) > 0
            ? MAX_SILENCE_CHECK_INTERVAL
            : quarter;
    return Flux.interval(interval, scheduler)
        .onBackpressureDrop()
        .concatMap(
            tick ->
                Mono.defer(this::rejoinIfNeeded)
                    .onErrorResume(
                        e -> !(e instanceof NodeClosedException),
                        e -> {
                          log.warn(
                              "kad node {}: network check failed: {}",
                              node.id().toShortHex(),
                              e.toString());
                          return Mono.empty();
                        }),
            0);
  }

  /**
   * Rejoins when the node knows no contact or has heard from no node within the threshold;
   * otherwise reports it joined, should a paused rejoin have left the status behind. The first node
   * of its network knows no contact until another node joins: that is no lost network.
   */
  private Mono<Void> rejoinIfNeeded() {
    NodeStats stats = node.stats();
    if (stats.contacts() == 0) {
      if (alone) {
        return Mono.empty();
      }
      log.warn(
          "kad node {} knows no contact any more; bootstrapping again from {}",
          node.id().toShortHex(),
          seeds);
      return join(true);
    }
    // It knows a contact: losing every one later is a lost network, and calls for a rejoin.
    alone = false;
    if (silent(stats.lastHeard())) {
      // A first node's peers died or left (or its own link is down: it cannot tell). It is what
      // new peers join through, so it stays up (KadHealthIndicator) and keeps its contacts, and
      // tries its other seeds, if any, should its network be there: news, not a warning.
      log.atLevel(ownSeed ? Level.INFO : Level.WARN)
          .log(
              "kad node {}{} has heard from no node since {}, longer than the silence threshold"
                  + " {}; {}bootstrapping again from {}",
              node.id().toShortHex(),
              ownSeed ? ", the first node of its network," : "",
              stats.lastHeard().get(),
              silenceThreshold,
              ownSeed ? "waiting for peers, " : "",
              seeds);
      return join(true);
    }
    BootstrapStatus s = status.get();
    if (s.state() != BootstrapStatus.State.DONE) {
      done(s.attempts(), s.rejoin());
    }
    return Mono.empty();
  }

  /**
   * Whether the node needs to join: it knows no contact, or it has heard from no node within the
   * threshold.
   */
  private boolean needsJoin() {
    NodeStats stats = node.stats();
    return stats.contacts() == 0 || silent(stats.lastHeard());
  }

  /**
   * Whether the node last heard from another node longer than the threshold ago; never without a
   * threshold, nor before it first heard from one. Silence counts from the last join at the
   * earliest: a successful bootstrap heard from a seed, except the first node of a network, which
   * hears only itself, and would otherwise rejoin at every check while its stale contacts stay.
   */
  private boolean silent(Optional<Instant> heard) {
    if (silenceThreshold.isZero() || heard.isEmpty()) {
      return false;
    }
    Instant since = heard.get();
    Instant joined = joinedAt;
    if (joined != null && joined.isAfter(since)) {
      since = joined;
    }
    return Duration.between(since, clock.instant()).compareTo(silenceThreshold) > 0;
  }

  /**
   * Records a failed attempt, and whether it found the node among its own seeds (it serves as the
   * first node of its network meanwhile); warns on the first of a run of failures only, and on the
   * first that no retry mends.
   */
  private void failed(Throwable e, int attempts, boolean rejoin) {
    if (e instanceof NoSeedAnsweredException n && !n.selfSeeds().isEmpty()) {
      ownSeed = true;
    }
    BootstrapStatus failed =
        status(
            BootstrapStatus.State.FAILED,
            Optional.of(String.valueOf(e.getMessage())),
            attempts,
            rejoin);
    BootstrapStatus previous = set(s -> failed);
    if (e instanceof KadException k && !k.isTransient() && !warnedMisfit) {
      warnedMisfit = true;
      // Still retried: a service waits for the other side to be set up right, and its health
      // shows the reason meanwhile.
      log.warn(
          "kad node {} cannot join through {} until a seed or this node is reconfigured: {};"
              + " still retrying at most every {}, in case it is",
          node.id().toShortHex(),
          seeds,
          e.getMessage(),
          readable(MAX_RETRY_DELAY));
    } else if (previous.state() == BootstrapStatus.State.FAILED) {
      log.debug(
          "kad node {} could not bootstrap from {} again ({} attempts): {}",
          node.id().toShortHex(),
          seeds,
          attempts,
          e.getMessage());
    } else {
      log.warn(
          "kad node {} could not bootstrap from {}: {}; retrying in about {}, backing off to at"
              + " most {} (further failures at DEBUG)",
          node.id().toShortHex(),
          seeds,
          e.getMessage(),
          readable(FIRST_RETRY_DELAY),
          readable(MAX_RETRY_DELAY));
    }
  }

  /**
   * A duration as a person would say it, in the largest unit that divides it: {@code 1 s}, {@code 1
   * min}, {@code 1500 ms}.
   */
  static String readable(Duration d) {
    if (d.isZero() || d.toMillis() % 1000 != 0) {
      return d.toMillis() + " ms";
    }
    long seconds = d.toSeconds();
    if (seconds % 3600 == 0) {
      return seconds / 3600 + " h";
    }
    if (seconds % 60 == 0) {
      return seconds / 60 + " min";
    }
    return seconds + " s";
  }

  /**
   * Pauses: ends the bootstrap attempts, if any, and the checks, and leaves the node open. The
   * attempt in flight is cancelled; {@link #status()} keeps the last outcome.
   */
  @Override
  public void stop() {
    running = false;
    Disposable j = joining;
    if (j != null) {
      j.dispose();
    }
  }

  /**
   * Ends the bootstrap attempts and closes the node. As the bean's destroy method, it runs when the
   * context closes, once every lifecycle has stopped, so the web server has finished the requests
   * in flight while the node was still open; Spring waits for the {@code Mono}. Closing twice is
   * harmless; a failure to close is logged, not signalled.
   *
   * @return completes when the node is closed
   */
  public Mono<Void> close() {
    return Mono.defer(
        () -> {
          endClosing();
          stop();
          return node.close()
              .doOnError(
                  e ->
                      log.warn(
                          "kad node {} did not close cleanly: {}",
                          node.id().toShortHex(),
                          e.toString()))
              .onErrorComplete();
        });
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
