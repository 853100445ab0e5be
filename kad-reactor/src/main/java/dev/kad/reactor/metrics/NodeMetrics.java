package dev.kad.reactor.metrics;

import dev.kad.api.spi.NodeListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.noop.NoopCounter;
import io.micrometer.core.instrument.noop.NoopTimer;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns what a node reports into Micrometer meters: {@code kad.rpc.sent} (timer, by type and
 * outcome), {@code kad.rpc.received} (counter, by type and outcome) and {@code kad.operations}
 * (timer, by kind and outcome), each also carrying the tags this listener was given (to tell apart
 * the meters of several nodes in one registry). Give it to the node's builder, {@code
 * KadNodes.builder().listener(new NodeMetrics(registry))}; {@link NodeGauges} adds the gauges of
 * the node's state. A report never throws, since an exception in a listener would fail the request
 * it reports.
 *
 * <p>Each meter is registered on its first report and kept, so a report is two map look-ups and a
 * record, with no builder on the node's hot path. A meter removed from the registry is registered
 * again on its next report. A meter the registry refuses (Prometheus: a name already used with
 * other tag keys) is logged once and not asked for again.
 *
 * <p>Micrometer is an optional dependency of {@code kad-reactor}: an application that uses this
 * class adds {@code io.micrometer:micrometer-core} itself.
 */
public final class NodeMetrics implements NodeListener {

  /** The tag keys kad's meters set themselves, which the tags given here must not use. */
  public static final Set<String> RESERVED_TAG_KEYS = Set.of("type", "kind", "outcome");

  private static final Logger log = LoggerFactory.getLogger(NodeMetrics.class);

  private final MeterRegistry registry;
  private final Tags tags;

  private final Meters<Timer> sent =
      new Meters<>(
          "kad.rpc.sent",
          "type",
          "Requests this node sent, by type and outcome",
          Meter.Type.TIMER,
          NodeMetrics::timer,
          NoopTimer::new);
  private final Meters<Counter> received =
      new Meters<>(
          "kad.rpc.received",
          "type",
          "Requests this node answered, by type and outcome",
          Meter.Type.COUNTER,
          NodeMetrics::counter,
          NoopCounter::new);
  private final Meters<Timer> operations =
      new Meters<>(
          "kad.operations",
          "kind",
          "Lookups and stores of this node, by kind and outcome",
          Meter.Type.TIMER,
          NodeMetrics::timer,
          NoopTimer::new);

  /**
   * Creates the listener of one registry.
   *
   * @param registry where the meters go
   * @throws NullPointerException when {@code registry} is null
   */
  public NodeMetrics(MeterRegistry registry) {
    this(registry, Tags.empty());
  }

  /**
   * Creates the listener of one registry whose meters carry {@code tags}.
   *
   * @param registry where the meters go
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   * @throws IllegalArgumentException when a tag's key is {@code type}, {@code kind} or {@code
   *     outcome}, which kad's meters set themselves
   * @throws NullPointerException when an argument is null
   */
  public NodeMetrics(MeterRegistry registry, Iterable<Tag> tags) {
    this.registry = Objects.requireNonNull(registry, "registry");
    this.tags = checkedTags(tags);
    // A kept meter the registry no longer holds would record into nothing. The registry keeps its
    // listeners for good, so the listener holds this weakly: a node rebuilt on a long-lived
    // registry leaves a few bytes behind, not its meters.
    WeakReference<NodeMetrics> self = new WeakReference<>(this);
    registry
        .config()
        .onMeterRemoved(
            m -> {
              NodeMetrics metrics = self.get();
              if (metrics != null) {
                metrics.forget(m);
              }
            });
  }

  private void forget(Meter removed) {
    sent.forget(removed);
    received.forget(removed);
    operations.forget(removed);
  }

  /**
   * The tags as Micrometer's {@code Tags}, refused when one has a key kad's meters set per report.
   *
   * @param tags the tags to add to every meter
   * @return the same tags
   * @throws IllegalArgumentException when a tag's key is in {@link #RESERVED_TAG_KEYS}
   * @throws NullPointerException when {@code tags} is null
   */
  public static Tags checkedTags(Iterable<Tag> tags) {
    Tags all = Tags.of(Objects.requireNonNull(tags, "tags"));
    for (Tag tag : all) {
      if (RESERVED_TAG_KEYS.contains(tag.getKey())) {
        throw new IllegalArgumentException(
            "tags must not use the key '"
                + tag.getKey()
                + "': kad's meters set type, kind and outcome themselves");
      }
    }
    return all;
  }

  @Override
  public void rpcSent(String type, String outcome, Duration elapsed) {
    try {
      sent.get(registry, type, outcome, tags).record(elapsed);
    } catch (RuntimeException e) {
      log.debug("kad metrics: a report was dropped: {}", e.toString());
    }
  }

  @Override
  public void rpcReceived(String type, String outcome) {
    try {
      received.get(registry, type, outcome, tags).increment();
    } catch (RuntimeException e) {
      log.debug("kad metrics: a report was dropped: {}", e.toString());
    }
  }

  @Override
  public void operationFinished(String kind, String outcome, Duration elapsed) {
    try {
      operations.get(registry, kind, outcome, tags).record(elapsed);
    } catch (RuntimeException e) {
      log.debug("kad metrics: a report was dropped: {}", e.toString());
    }
  }

  @Override
  public String toString() {
    return "NodeMetrics[" + registry.getClass().getSimpleName() + tags + "]";
  }

  private static Timer timer(MeterRegistry registry, Meter.Id id) {
    return Timer.builder(id.getName())
        .description(id.getDescription())
        .tags(id.getTagsAsIterable())
        .register(registry);
  }

  private static Counter counter(MeterRegistry registry, Meter.Id id) {
    return Counter.builder(id.getName())
        .description(id.getDescription())
        .tags(id.getTagsAsIterable())
        .register(registry);
  }

  /**
   * The meters of one name, by the values of its two tags: the first ({@code type} or {@code kind})
   * and {@code outcome}. The engine reports a few values of each, so the maps stay small.
   */
  private static final class Meters<M extends Meter> {

    private final String name;
    private final String firstKey;
    private final String description;
    private final Meter.Type type;
    private final BiFunction<MeterRegistry, Meter.Id, M> register;
    private final Function<Meter.Id, M> noop;
    private final Map<String, Map<String, M>> byFirst = new ConcurrentHashMap<>();

    Meters(
        String name,
        String firstKey,
        String description,
        Meter.Type type,
        BiFunction<MeterRegistry, Meter.Id, M> register,
        Function<Meter.Id, M> noop) {
      this.name = name;
      this.firstKey = firstKey;
      this.description = description;
      this.type = type;
      this.register = register;
      this.noop = noop;
    }

    /** The meter of these tag values: two look-ups once it exists, without allocation. */
    M get(MeterRegistry registry, String first, String outcome, Tags common) {
      Map<String, M> byOutcome = byFirst.get(first);
      M meter = byOutcome == null ? null : byOutcome.get(outcome);
      return meter != null ? meter : add(registry, first, outcome, common);
    }

    private M add(MeterRegistry registry, String first, String outcome, Tags common) {
      Meter.Id id =
          new Meter.Id(
              name, common.and(firstKey, first, "outcome", outcome), null, description, type);
      M meter;
      try {
        // Registering twice, as two threads may, gives the same meter.
        meter = register.apply(registry, id);
      } catch (RuntimeException e) {
        log.warn(
            "kad metrics: the meter registry refused {}{}, which is not recorded: {}",
            name,
            id.getTags(),
            e.toString());
        meter = noop.apply(id);
      }
      byFirst.computeIfAbsent(first, f -> new ConcurrentHashMap<>()).put(outcome, meter);
      return meter;
    }

    /** Drops a meter the registry removed, so that the next report registers it again. */
    void forget(Meter removed) {
      for (Map<String, M> byOutcome : byFirst.values()) {
        byOutcome.values().removeIf(m -> m == removed);
      }
    }
  }
}
