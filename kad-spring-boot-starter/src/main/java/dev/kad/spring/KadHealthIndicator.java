package dev.kad.spring;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.MaintenanceJob;
import dev.kad.api.NodeStats;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Objects;
import java.util.Optional;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Reports the node's routing-table size, where its joining stands and when it last heard from
 * another node ({@link NodeStats#lastHeard()}). A node that knows no contact cannot serve lookups,
 * and one that hears from none of the contacts it knows is cut off, so:
 *
 * <ul>
 *   <li>up when the node knows at least one contact and has heard from another node within the
 *       silence threshold, or is the first node of its network: it has no bootstrap addresses, or
 *       was found among its own seeds ({@link BootstrapStatus#ownSeed()}: every node of a cluster
 *       given the same seed list), whether every seed is itself or the others do not answer (the
 *       first pod of a StatefulSet, whose readiness the next pod waits for). A first node that
 *       knows no contact, or has heard from none of those it knows for longer than the silence
 *       threshold (every peer died or left), is waiting for peers ({@code waitingForPeers} true):
 *       it is what they join through, so it stays up, or an OrderedReady StatefulSet would never
 *       create the next pod again, and no node could ever join it;
 *   <li>unknown while its first join runs with the table still empty and none of its attempts has
 *       failed yet;
 *   <li>down when its table is empty and the last bootstrap attempt failed (it is retried), or it
 *       had joined and has since lost every contact, also while it rejoins (unless it is among its
 *       own seeds) ({@code rejoining} true, {@code bootstrapAttempts} counting): a rejoin is never
 *       unknown, since the node is known to be cut off; and down when it knows contacts but has
 *       heard from no node for longer than the silence threshold ({@code silent} true), unless it
 *       is the first node of its network: its link is down or every node it knows is gone. The
 *       engine keeps such a node's table as it is (failures count against a contact only while
 *       other nodes answer, so a node whose own link is down does not empty its table), so the
 *       table alone would show it up forever. It is up again as soon as a node is heard from;
 *       meanwhile {@link KadNodeLifecycle} rejoins it through its seeds;
 *   <li>down, whatever else, once the node is closed ({@code closed} true), whoever closed it: it
 *       answers no one, though its table and {@code lastHeard} stay as they were, and the first
 *       node of its network would otherwise stay up.
 * </ul>
 *
 * <p>Down, not out of service: out of service is, by Spring Boot's and service registries'
 * convention, a node deliberately taken out of rotation, and a node that cannot reach its network
 * is down just as one that lost every contact is.
 */
public class KadHealthIndicator implements HealthIndicator {

  private final KadNode node;
  private final KadNodeLifecycle lifecycle;
  private final Duration silenceThreshold;
  private final Clock clock;

  /** Set once the node has closed ({@link KadNode#onClose()}). */
  private volatile boolean closed;

  /**
   * Creates the indicator with the {@linkplain #defaultSilenceThreshold(KadConfig) default silence
   * threshold} of the node's configuration and the system clock (UTC), which must be the node's
   * clock too (as it is for nodes {@code KadNodes.builder()} makes without a scheduler on a
   * transport that names none, such as the TCP transport the starter builds).
   *
   * @param node the node
   * @param lifecycle its lifecycle, which knows the bootstrap outcome
   */
  public KadHealthIndicator(KadNode node, KadNodeLifecycle lifecycle) {
    this(node, lifecycle, defaultSilenceThreshold(node.config()), Clock.systemUTC());
  }

  /**
   * Creates the indicator.
   *
   * @param node the node
   * @param lifecycle its lifecycle, which knows the bootstrap outcome
   * @param silenceThreshold how long a node that knows contacts may hear from no node before it is
   *     down: zero turns the check off, else at least {@link
   *     KadNodeLifecycle#MIN_SILENCE_THRESHOLD}
   * @param clock the node's clock, which {@link NodeStats#lastHeard()} reads
   * @throws IllegalArgumentException when {@code silenceThreshold} is negative, or positive and
   *     below {@link KadNodeLifecycle#MIN_SILENCE_THRESHOLD}
   */
  public KadHealthIndicator(
      KadNode node, KadNodeLifecycle lifecycle, Duration silenceThreshold, Clock clock) {
    KadNodeLifecycle.checkSilenceThreshold("silenceThreshold", silenceThreshold);
    this.node = Objects.requireNonNull(node, "node");
    this.lifecycle = Objects.requireNonNull(lifecycle, "lifecycle");
    this.silenceThreshold = silenceThreshold;
    this.clock = Objects.requireNonNull(clock, "clock");
    // onClose() closes nothing and completes (or errors, when the transport failed to close) once
    // the node has closed; it holds no resource while waiting.
    node.onClose().subscribe(null, e -> closed = true, () -> closed = true);
  }

  /**
   * The silence threshold for a node of {@code config}: twice its {@code refreshInterval} when its
   * refresh or liveness job runs, otherwise zero (no check). A healthy node that nobody asks
   * anything still reaches out: every sixth of {@code refreshInterval} the liveness job pings each
   * bucket's least-recently-seen contact not heard from within {@code refreshInterval}, and the
   * refresh job looks up buckets not looked up within it; so an idle node may hear nothing for up
   * to about {@code refreshInterval} plus a sixth of it (1 h 10 min by default), and twice {@code
   * refreshInterval} (2 h) leaves a margin. It is at least {@link
   * KadNodeLifecycle#MIN_SILENCE_THRESHOLD}, however short {@code refreshInterval}. Without those
   * jobs an idle node may never reach out, and silence would say nothing about its network.
   *
   * @param config the node's configuration
   * @return the threshold, zero for none
   */
  public static Duration defaultSilenceThreshold(KadConfig config) {
    boolean reachesOut =
        config.maintenance()
            && (config.jobs().contains(MaintenanceJob.REFRESH)
                || config.jobs().contains(MaintenanceJob.LIVENESS));
    if (!reachesOut) {
      return Duration.ZERO;
    }
    Duration twice = config.refreshInterval().multipliedBy(2);
    return twice.compareTo(KadNodeLifecycle.MIN_SILENCE_THRESHOLD) < 0
        ? KadNodeLifecycle.MIN_SILENCE_THRESHOLD
        : twice;
  }

  @Override
  public Health health() {
    NodeStats stats = node.stats();
    BootstrapStatus bootstrap = lifecycle.status();
    boolean knowsContacts = stats.contacts() > 0;
    boolean silent = knowsContacts && silent(stats.lastHeard());
    // The first node of its network is what others join through: alone or silent, it waits for
    // them, and must stay up for them (an OrderedReady StatefulSet waits for its readiness).
    boolean firstNode =
        bootstrap.state() == BootstrapStatus.State.NOT_CONFIGURED || bootstrap.ownSeed();
    Health.Builder builder;
    if (closed) {
      builder = Health.down().withDetail("closed", true);
    } else if (firstNode || (knowsContacts && !silent)) {
      builder = Health.up();
    } else if (!knowsContacts
        && bootstrap.state() == BootstrapStatus.State.RUNNING
        && !bootstrap.rejoin()) {
      builder = Health.unknown();
    } else {
      builder = Health.down();
    }
    builder
        .withDetail("id", node.id().toHex())
        .withDetail("address", node.contact().address().toString())
        .withDetail("contacts", stats.contacts())
        .withDetail("buckets", stats.buckets())
        .withDetail("storedValues", stats.storedValues())
        .withDetail("bootstrap", bootstrap.state().name())
        .withDetail("bootstrapAt", bootstrap.at().toString());
    bootstrap.error().ifPresent(e -> builder.withDetail("bootstrapError", e));
    if (bootstrap.state() != BootstrapStatus.State.NOT_CONFIGURED) {
      builder
          .withDetail("rejoining", bootstrap.rejoining())
          .withDetail("bootstrapAttempts", bootstrap.attempts())
          .withDetail("ownSeed", bootstrap.ownSeed());
    }
    builder.withDetail("waitingForPeers", !closed && firstNode && (!knowsContacts || silent));
    stats.lastHeard().ifPresent(at -> builder.withDetail("lastHeard", at.toString()));
    if (!silenceThreshold.isZero()) {
      builder
          .withDetail("silenceThreshold", silenceThreshold.toString())
          .withDetail("silent", silent);
    }
    if (silent) {
      builder.withDetail(
          "silentFor",
          Duration.between(stats.lastHeard().orElseThrow(), clock.instant())
              .truncatedTo(ChronoUnit.SECONDS)
              .toString());
    }
    return builder.build();
  }

  /** Whether the node has heard from no node for longer than the threshold. */
  private boolean silent(Optional<Instant> lastHeard) {
    return !silenceThreshold.isZero()
        && lastHeard.isPresent()
        && Duration.between(lastHeard.get(), clock.instant()).compareTo(silenceThreshold) > 0;
  }
}
