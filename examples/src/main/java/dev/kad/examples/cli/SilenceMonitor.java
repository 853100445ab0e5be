package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.KadNode;
import dev.kad.api.NodeClosedException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Tells a client node that is cut off from its network from one that merely has nothing to say: a
 * quiet watch and a watch whose every storage node died look the same from its values alone.
 *
 * <p>Every quarter of the threshold it reads {@link dev.kad.api.NodeStats#lastHeard()} (a client's
 * counts the answers it receives). A healthy client may hear nothing for minutes (its watch renews
 * at half the subscription TTL, 5 min by default), so once it has heard nothing for half the
 * threshold it looks up its own id through the contacts it knows, bounded by a quarter of the
 * threshold: any answer moves {@code lastHeard} on. Still silent at the threshold, it reports
 * {@link CutOff} and bootstraps again through its seeds (its table may hold only dead contacts, or
 * a node restarted at a seed's address under a new id), then looks up its own id through its old
 * contacts if no seed answered, with the {@link Backoff} from 1 s to 30 s, until a node answers;
 * then it reports {@link Reconnected}. Each attempt goes through the seeds and the contacts the
 * node knows, as {@code kad node --retry-join}'s does ({@link RetriedJoin}): a seed that fails in a
 * way no retry changes (its settings do not fit the node's) is told once to the {@link
 * RetriedJoin.Misfit} listener and not dialed again while others may answer, and when every seed
 * and known contact fails so (known contacts that do not answer keep it trying), the monitor fails
 * with a {@link CliException} naming each and why. Ticks that come while a check runs are dropped.
 * Every timer runs on the given scheduler, and the clock must be the node's, which {@code
 * lastHeard} is read by.
 */
final class SilenceMonitor {

  /**
   * The shortest threshold: {@code lastHeard} is kept to the second, so it may lag a second behind
   * a node that answers.
   */
  static final Duration MIN_THRESHOLD = Duration.ofSeconds(2);

  /** What the monitor reports. */
  sealed interface Transition permits CutOff, StillCutOff, Reconnected {}

  /**
   * No node has answered for at least the threshold; the monitor is joining again.
   *
   * @param silence how long no node has answered
   */
  record CutOff(Duration silence) implements Transition {}

  /**
   * A node answered again after a {@link CutOff}.
   *
   * @param contacts the contacts in the routing table now
   */
  record Reconnected(int contacts) implements Transition {}

  /**
   * Still no node has answered since the {@link CutOff}: said every {@link #reminderPeriod} while
   * the monitor keeps joining again, so a long outage does not look like a hung command.
   *
   * @param silence how long no node has answered
   */
  record StillCutOff(Duration silence) implements Transition {}

  /** The shortest time between two {@link StillCutOff}s. */
  static final Duration MIN_REMINDER = Duration.ofMinutes(1);

  private final KadNode node;
  private final List<Address> seeds;
  private final Duration threshold;
  private final Scheduler scheduler;
  private final Clock clock;
  private final RetriedJoin.Misfit misfit;

  /**
   * Creates a monitor; {@link #transitions()} starts it.
   *
   * @param node the client node
   * @param seeds the addresses it joined through, to join through again
   * @param threshold how long it may hear from no node before it counts as cut off, at least {@link
   *     #MIN_THRESHOLD}
   * @param scheduler where the checks and the delays between attempts run
   * @param clock the node's clock
   * @param misfit told once of each seed dropped from a rejoin
   */
  SilenceMonitor(
      KadNode node,
      List<Address> seeds,
      Duration threshold,
      Scheduler scheduler,
      Clock clock,
      RetriedJoin.Misfit misfit) {
    this.node = Objects.requireNonNull(node, "node");
    this.seeds = List.copyOf(seeds);
    if (threshold.compareTo(MIN_THRESHOLD) < 0) {
      throw new IllegalArgumentException(
          "threshold must be at least " + MIN_THRESHOLD + " but was " + threshold);
    }
    this.threshold = threshold;
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.misfit = Objects.requireNonNull(misfit, "misfit");
  }

  /**
   * Subscribing starts the checks; a {@link CutOff} is emitted when the node falls silent and a
   * {@link Reconnected} when it hears again, alternately, each transition once, with a {@link
   * StillCutOff} every {@link #reminderPeriod} between the two. Never completes; errors only with
   * {@link NodeClosedException}, or with a {@link CliException} when every seed failed a rejoin in
   * a way no retry changes. Cancelling stops the checks and any probe or bootstrap in flight.
   */
  Flux<Transition> transitions() {
    return Flux.defer(
        () -> {
          // Silence counts from now at the earliest: the join before heard from a seed.
          Instant since = clock.instant();
          Duration tick = threshold.dividedBy(4);
          return Flux.interval(tick, tick, scheduler)
              .onBackpressureDrop()
              .concatMap(t -> check(since, tick), 0);
        });
  }

  private Flux<Transition> check(Instant since, Duration tick) {
    Duration silence = silence(since);
    if (silence.compareTo(threshold) >= 0) {
      Duration every = reminderPeriod();
      Flux<Transition> reminders =
          Flux.interval(every, every, scheduler).map(i -> new StillCutOff(silence(since)));
      return Flux.concat(
          Mono.just(new CutOff(silence)),
          rejoin(since, tick)
              .then(Mono.<Transition>fromSupplier(() -> new Reconnected(contacts())))
              .flux()
              .mergeWith(reminders)
              .takeUntil(Reconnected.class::isInstance));
    }
    if (silence.compareTo(threshold.dividedBy(2)) >= 0) {
      return probe(tick).thenMany(Flux.empty());
    }
    return Flux.empty();
  }

  /**
   * Bootstraps (or, when no seed answers, looks up) until some node has answered, or no retry can
   * join.
   */
  private Mono<Void> rejoin(Instant since, Duration tick) {
    // A seed that did not fit during an earlier cut-off may have been reconfigured since.
    RetriedJoin join = new RetriedJoin(node, seeds, misfit);
    return join.attempt(node::bootstrap)
        .onErrorResume(
            e -> !(e instanceof NodeClosedException) && !(e instanceof CliException),
            e -> probe(tick))
        .then(
            Mono.defer(
                () ->
                    silence(since).compareTo(threshold) < 0
                        ? Mono.<Void>empty()
                        : Mono.<Void>error(StillSilent.INSTANCE)))
        .retryWhen(Backoff.retry(StillSilent.class::isInstance, (e, delay) -> {}, scheduler));
  }

  /** Looks up the node's own id, which asks its closest contacts; bounded, failures ignored. */
  private Mono<Void> probe(Duration bound) {
    return node.findNode(node.id())
        .then()
        .timeout(bound, scheduler)
        .onErrorResume(e -> !(e instanceof NodeClosedException), e -> Mono.empty());
  }

  /** The threshold, but at least {@link #MIN_REMINDER}: a short threshold is not a chatty one. */
  Duration reminderPeriod() {
    return threshold.compareTo(MIN_REMINDER) > 0 ? threshold : MIN_REMINDER;
  }

  private Duration silence(Instant since) {
    Instant heard = node.stats().lastHeard().filter(h -> h.isAfter(since)).orElse(since);
    Duration d = Duration.between(heard, clock.instant());
    return d.isNegative() ? Duration.ZERO : d;
  }

  private int contacts() {
    return node.stats().contacts();
  }

  /** An attempt to join again after which no node had answered: retried. */
  private static final class StillSilent extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final StillSilent INSTANCE = new StillSilent();

    private StillSilent() {
      super("no node answered", null, false, false);
    }
  }
}
