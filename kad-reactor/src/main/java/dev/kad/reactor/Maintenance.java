package dev.kad.reactor;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.MaintenanceJob;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.reactor.store.StoredValue;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The maintenance jobs of one node (DESIGN, Maintenance), each a {@code Flux.interval} on the
 * node's scheduler, its first run one period after start plus a random delay up to {@link
 * KadConfig#jobJitter()} but at most half the period, each switched on or off by {@link
 * KadConfig#jobs()}. A failed run is logged and the schedule goes on; {@link #dispose()} stops
 * every job.
 *
 * <ul>
 *   <li>refresh: a find-node for a random id in every bucket not looked up within {@code
 *       refreshInterval}, checked every sixth of it, of at most k requests per bucket;
 *   <li>liveness: one ping per bucket to its least-recently-seen contact when it was not heard from
 *       within {@code refreshInterval}, after a ping to the freshest contact not due, whose answer
 *       shows the node connected so that the failures count as for any request;
 *   <li>expiry: drops expired values and subscriptions every {@code expiryInterval};
 *   <li>replication: every {@code replicateInterval}, stores held originals at the key's k closest
 *       nodes, skipping values received by Store within the interval;
 *   <li>republish: the publisher re-puts its own values with a fresh expiry (each its ttl from now,
 *       signed again when signed) every {@code min(republishInterval, expireAfter / 2)}, so a value
 *       never expires while its publisher lives: a put refuses to republish a value whose ttl is
 *       shorter than twice that period.
 * </ul>
 */
final class Maintenance implements Disposable {

  private static final Logger LOG = LoggerFactory.getLogger(Maintenance.class);

  private final DefaultKadNode node;
  private final KadConfig config;
  private final Logger log;
  private final Disposable.Composite jobs = Disposables.composite();

  Maintenance(DefaultKadNode node) {
    this(node, LOG);
  }

  /** With the logger the runs' outcomes go to: a test hands in one that records them. */
  Maintenance(DefaultKadNode node, Logger log) {
    this.node = node;
    this.config = node.config();
    this.log = log;
  }

  static Duration refreshPeriod(KadConfig config) {
    return config.refreshInterval().dividedBy(6);
  }

  static Duration republishPeriod(KadConfig config) {
    Duration half = config.expireAfter().dividedBy(2);
    return config.republishInterval().compareTo(half) < 0 ? config.republishInterval() : half;
  }

  Maintenance start() {
    schedule(MaintenanceJob.REFRESH, refreshPeriod(config), this::refresh);
    schedule(MaintenanceJob.LIVENESS, refreshPeriod(config), this::liveness);
    schedule(MaintenanceJob.EXPIRY, config.expiryInterval(), this::expire);
    schedule(MaintenanceJob.REPLICATE, config.replicateInterval(), this::replicate);
    schedule(MaintenanceJob.REPUBLISH, republishPeriod(config), this::republish);
    return this;
  }

  private void schedule(MaintenanceJob name, Duration period, Supplier<Mono<Void>> job) {
    if (!config.jobs().contains(name)) {
      return;
    }
    Mono<Void> run =
        Mono.defer(job)
            .onErrorResume(
                e -> {
                  if (e instanceof NodeClosedException) {
                    // close() ends the lookups of a run going on; nothing went wrong
                    log.debug("node={} {} run ended by close", node.id().toShortHex(), name);
                  } else {
                    log.warn(
                        "node={} {} run failed: {}", node.id().toShortHex(), name, e.toString());
                  }
                  return Mono.empty();
                });
    // The start delay is at most half a period, so a first run comes within 1.5 periods: with a
    // jobJitter past expireAfter / 2, republish's first run came after the expiry of the values
    // put before it, breaking the promise that a value never expires while its publisher lives.
    Duration first = period.plus(node.jitter(period.dividedBy(2)));
    jobs.add(every(first, period, node.scheduler(), run).subscribe());
  }

  /**
   * Runs {@code run} first after {@code first}, then every {@code period}, never two at once: ticks
   * while a run is still going are dropped, so a run slower than its period is followed by one more
   * run at the next tick, not by a burst of the ticks it missed.
   */
  static Flux<Void> every(Duration first, Duration period, Scheduler scheduler, Mono<Void> run) {
    return Flux.interval(first, period, scheduler)
        .onBackpressureDrop()
        // Prefetch 0: concatMap's default queue would keep 32 missed ticks and replay them.
        .concatMap(tick -> run, 0);
  }

  Mono<Void> refresh() {
    List<NodeId> targets = node.staleBucketTargets();
    return Flux.fromIterable(targets).concatMap(node::refresh).then();
  }

  Mono<Void> liveness() {
    Instant cutoff = node.now().minus(config.refreshInterval());
    List<Contact> due = new ArrayList<>();
    for (RoutingTableSnapshot.Bucket bucket : node.routingTable().buckets()) {
      if (!bucket.contacts().isEmpty()) {
        Contact oldest = bucket.contacts().get(0);
        if (!node.lastSeen(oldest.id()).isAfter(cutoff)) {
          due.add(oldest);
        }
      }
    }
    if (due.isEmpty()) {
      return Mono.empty();
    }
    // A failure counts against a contact only when the node heard from the network since the
    // contact's previous failure (RoutingTable.failed: a node cut off must not wipe its table). On
    // a quiet network nothing arrives between two runs, so a dead contact's failed pings did not
    // count, and it stayed for hours, until hourly refreshes were answered in between. The
    // freshest contact that is not due is asked first: its answer shows the node connected, and
    // the failures that follow count.
    return freshestNotDue(cutoff)
        .map(this::ping)
        .orElse(Mono.empty())
        .thenMany(Flux.fromIterable(due).flatMap(this::ping, config.alpha()))
        .then();
  }

  private Mono<Void> ping(Contact c) {
    return node.call(c, new Request.Ping(node.contact())).onErrorResume(e -> Mono.empty()).then();
  }

  /**
   * The contact heard from last among those not due a ping (the oldest of a bucket unheard since
   * {@code cutoff}): the tail of some bucket, since buckets keep their least recently seen contact
   * first, unless that tail is its bucket's only contact and due.
   */
  private Optional<Contact> freshestNotDue(Instant cutoff) {
    Contact freshest = null;
    Instant seen = Instant.MIN;
    for (RoutingTableSnapshot.Bucket bucket : node.routingTable().buckets()) {
      List<Contact> contacts = bucket.contacts();
      if (contacts.isEmpty()) {
        continue;
      }
      Contact last = contacts.get(contacts.size() - 1);
      Instant at = node.lastSeen(last.id());
      boolean due = contacts.size() == 1 && !at.isAfter(cutoff);
      if (!due && at.isAfter(seen)) {
        freshest = last;
        seen = at;
      }
    }
    return Optional.ofNullable(freshest);
  }

  Mono<Void> expire() {
    return Mono.fromRunnable(node::expire);
  }

  Mono<Void> replicate() {
    Instant now = node.now();
    Instant receivedCutoff = now.minus(config.replicateInterval());
    Map<Key, List<Value>> byKey = new LinkedHashMap<>();
    for (StoredValue v : node.store().entries(now)) {
      if (!v.cached() && v.storedAt().isBefore(receivedCutoff)) {
        byKey.computeIfAbsent(v.key(), k -> new ArrayList<>()).add(v.value());
      }
    }
    return Flux.fromIterable(byKey.entrySet())
        .concatMap(e -> node.storeAtClosest(e.getKey(), e.getValue()))
        .then();
  }

  Mono<Void> republish() {
    return node.republishAll();
  }

  @Override
  public void dispose() {
    jobs.dispose();
  }

  @Override
  public boolean isDisposed() {
    return jobs.isDisposed();
  }
}
