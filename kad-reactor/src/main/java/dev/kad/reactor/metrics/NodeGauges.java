package dev.kad.reactor.metrics;

import dev.kad.api.KadNode;
import dev.kad.api.NodeStats;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Gauges of a node's state: {@code kad.routing.contacts}, {@code kad.store.values}, {@code
 * kad.store.bytes}, {@code kad.watches.active}, {@code kad.watches.polling} (open watches that no
 * storage node holds a subscription of, {@link NodeStats#pollingWatches()}) and {@code
 * kad.network.silence} (the time since the node last heard from another node, {@link
 * NodeStats#lastHeard()}, in the registry's base time unit: seconds for most; NaN, which registries
 * leave out or show as no value, before it first hears from one). {@code new
 * NodeGauges(node).bindTo(registry)}; {@link NodeMetrics} counts what the node does, and the TCP
 * transport has gauges of its own ({@code TcpTransportGauges}).
 *
 * <p>Every gauge carries the tags this binder was given: a registry keeps one gauge per name and
 * tags, so the gauges of a second node bound to the same registry with the same tags would never be
 * reported. A gauge holds the node weakly, as Micrometer's gauges do: bind it to a node the
 * application keeps.
 *
 * <p>Micrometer is an optional dependency of {@code kad-reactor}: an application that uses this
 * class adds {@code io.micrometer:micrometer-core} itself.
 */
public final class NodeGauges implements MeterBinder {

  private final KadNode node;
  private final Tags tags;
  private final Clock clock;

  /**
   * Creates the binder of a node that reads the system clock (UTC).
   *
   * @param node the node
   * @throws NullPointerException when {@code node} is null
   */
  public NodeGauges(KadNode node) {
    this(node, Tags.empty(), Clock.systemUTC());
  }

  /**
   * Creates the binder of a node, each gauge carrying {@code tags}.
   *
   * @param node the node
   * @param tags added to every gauge, e.g. {@code node=a} when several nodes report to one registry
   * @param clock the node's clock, which {@link NodeStats#lastHeard()} reads: {@code
   *     Clock.systemUTC()} for a node on real time
   * @throws IllegalArgumentException when a tag's key is {@code type}, {@code kind} or {@code
   *     outcome}, which kad's meters set themselves
   * @throws NullPointerException when an argument is null
   */
  public NodeGauges(KadNode node, Iterable<Tag> tags, Clock clock) {
    this.node = Objects.requireNonNull(node, "node");
    this.tags = NodeMetrics.checkedTags(tags);
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("kad.routing.contacts", node, n -> n.stats().contacts())
        .description("Contacts in the routing table")
        .tags(tags)
        .register(registry);
    Gauge.builder("kad.store.values", node, n -> n.stats().storedValues())
        .description("Values stored for the network")
        .tags(tags)
        .register(registry);
    Gauge.builder("kad.store.bytes", node, n -> n.stats().storedBytes())
        .description("Bytes stored: payloads plus 128 bytes per value")
        .baseUnit("bytes")
        .tags(tags)
        .register(registry);
    Gauge.builder("kad.watches.active", node, n -> n.stats().activeWatches())
        .description("Open watch streams")
        .tags(tags)
        .register(registry);
    Gauge.builder("kad.watches.polling", node, n -> n.stats().pollingWatches())
        .description(
            "Open watch streams no storage node holds a subscription of (each refused or failed),"
                + " which read their values at each retry instead of being pushed them")
        .tags(tags)
        .register(registry);
    // The clock alone is captured: a function holding this binder would hold the node strongly.
    Clock clock = this.clock;
    TimeGauge.builder(
            "kad.network.silence", node, TimeUnit.MILLISECONDS, n -> silenceMillis(n, clock))
        .description("Time since the node last heard from another node (an answer or a request)")
        .tags(tags)
        .register(registry);
  }

  /** Milliseconds since the node last heard from another node; NaN before the first time. */
  private static double silenceMillis(KadNode n, Clock clock) {
    return n.stats()
        .lastHeard()
        .map(at -> (double) Math.max(0, Duration.between(at, clock.instant()).toMillis()))
        .orElse(Double.NaN);
  }
}
