package dev.kad.spring;

import dev.kad.api.KadNode;
import dev.kad.api.NodeStats;
import dev.kad.transport.tcp.TcpTransport;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Gauges of the node's state: {@code kad.routing.contacts}, {@code kad.store.values}, {@code
 * kad.store.bytes}, {@code kad.watches.active}, {@code kad.watches.polling} (open watches that no
 * storage node holds a subscription of, {@link NodeStats#pollingWatches()}), {@code
 * kad.network.silence} (the time since the node last heard from another node, {@link
 * NodeStats#lastHeard()}, in the registry's base time unit: seconds for most; NaN, which registries
 * leave out or show as no value, before it first hears from one); and, when the node's {@link
 * TcpTransport} is known, the transport's {@code kad.transport.connections.open}, {@code
 * kad.transport.connections.dropped} (connections closed for misbehaving), {@code
 * kad.transport.connections.evicted}, {@code kad.transport.connections.evicted.inbound} (quiet
 * accepted connections closed to make room at max-inbound-connections), {@code
 * kad.transport.claims.refuted} (peers that claimed another node's address), {@code
 * kad.transport.tls.failures} (connections whose TLS handshake failed, also counted as dropped),
 * {@code kad.transport.requests.rate.limited} (inbound requests answered RATE_LIMITED, their source
 * over max-requests-per-second-per-ip) and {@code kad.transport.senders.spoofed} (inbound requests
 * answered INVALID, with check-sender-address on, for claiming a sender address on another host).
 * Every meter carries the tags this binder was given: a registry keeps one gauge per name and tags,
 * so the gauges of a second node bound to the same registry with the same tags would never be
 * reported.
 */
public class KadNodeMeters implements MeterBinder {

  private final KadNode node;
  private final Optional<TcpTransport> transport;
  private final Tags tags;
  private final Clock clock;

  /**
   * Creates the binder of the node's gauges only, for a node on a transport not known here, that
   * reads the system clock (UTC).
   *
   * @param node the node
   */
  public KadNodeMeters(KadNode node) {
    this(node, Optional.empty(), Tags.empty(), Clock.systemUTC());
  }

  /**
   * Creates the binder of the node's and its transport's gauges, for a node that reads the system
   * clock (UTC).
   *
   * @param node the node
   * @param transport its transport
   */
  public KadNodeMeters(KadNode node, TcpTransport transport) {
    this(node, Optional.of(transport), Tags.empty(), Clock.systemUTC());
  }

  /**
   * Creates the binder of the node's gauges only, each carrying {@code tags}, for a node that reads
   * the system clock (UTC).
   *
   * @param node the node
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   * @throws IllegalArgumentException when a tag is named {@code type}, {@code kind} or {@code
   *     outcome}, which kad's meters set themselves
   */
  public KadNodeMeters(KadNode node, Iterable<Tag> tags) {
    this(node, Optional.empty(), tags, Clock.systemUTC());
  }

  /**
   * Creates the binder of the node's and its transport's gauges, each carrying {@code tags}, for a
   * node that reads the system clock (UTC).
   *
   * @param node the node
   * @param transport its transport
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   * @throws IllegalArgumentException when a tag is named {@code type}, {@code kind} or {@code
   *     outcome}, which kad's meters set themselves
   */
  public KadNodeMeters(KadNode node, TcpTransport transport, Iterable<Tag> tags) {
    this(
        node, Optional.of(Objects.requireNonNull(transport, "transport")), tags, Clock.systemUTC());
  }

  /**
   * Creates the binder of the node's gauges only, each carrying {@code tags}.
   *
   * @param node the node
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   * @param clock the node's clock, which {@link NodeStats#lastHeard()} reads
   * @throws IllegalArgumentException when a tag is named {@code type}, {@code kind} or {@code
   *     outcome}, which kad's meters set themselves
   */
  public KadNodeMeters(KadNode node, Iterable<Tag> tags, Clock clock) {
    this(node, Optional.empty(), tags, clock);
  }

  /**
   * Creates the binder of the node's and its transport's gauges, each carrying {@code tags}.
   *
   * @param node the node
   * @param transport its transport
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   * @param clock the node's clock, which {@link NodeStats#lastHeard()} reads
   * @throws IllegalArgumentException when a tag is named {@code type}, {@code kind} or {@code
   *     outcome}, which kad's meters set themselves
   */
  public KadNodeMeters(KadNode node, TcpTransport transport, Iterable<Tag> tags, Clock clock) {
    this(node, Optional.of(Objects.requireNonNull(transport, "transport")), tags, clock);
  }

  private KadNodeMeters(
      KadNode node, Optional<TcpTransport> transport, Iterable<Tag> tags, Clock clock) {
    this.node = Objects.requireNonNull(node, "node");
    this.transport = transport;
    this.tags = KadMetrics.checked(tags);
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
    TimeGauge.builder("kad.network.silence", node, TimeUnit.MILLISECONDS, this::silenceMillis)
        .description("Time since the node last heard from another node (an answer or a request)")
        .tags(tags)
        .register(registry);
    transport.ifPresent(t -> bindTransport(t, registry, tags));
  }

  /** Milliseconds since the node last heard from another node; NaN before the first time. */
  private double silenceMillis(KadNode n) {
    return n.stats()
        .lastHeard()
        .map(at -> (double) Math.max(0, Duration.between(at, clock.instant()).toMillis()))
        .orElse(Double.NaN);
  }

  private static void bindTransport(TcpTransport transport, MeterRegistry registry, Tags tags) {
    Gauge.builder("kad.transport.connections.open", transport, t -> t.stats().openConnections())
        .description("Open TCP connections")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.connections.dropped", transport, t -> t.stats().violations())
        .description("Connections closed because the peer misbehaved")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.connections.evicted", transport, t -> t.stats().evictedConnections())
        .description("Idle dialed connections closed to stay within max-outbound-connections")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.connections.evicted.inbound",
            transport,
            t -> t.stats().evictedInboundConnections())
        .description(
            "Quiet accepted connections closed to make room for a newcomer at"
                + " max-inbound-connections")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.claims.refuted", transport, t -> t.stats().claimsRefuted())
        .description("Peers that claimed an address whose node, dialed back, disowned them")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder("kad.transport.tls.failures", transport, t -> t.stats().tlsFailures())
        .description(
            "Connections closed, with TLS on, because their handshake failed or timed out (a peer"
                + " without TLS or with a certificate the trust material does not accept);"
                + " counted in kad.transport.connections.dropped too")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.requests.rate.limited", transport, t -> t.stats().rateLimitedRequests())
        .description(
            "Inbound requests answered RATE_LIMITED, without reaching the node, because their"
                + " source (an IPv4 address or IPv6 /64) was over max-requests-per-second-per-ip")
        .tags(tags)
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.senders.spoofed", transport, t -> t.stats().spoofedSenders())
        .description(
            "Inbound requests answered INVALID, with check-sender-address on, because they claimed"
                + " a sender address on another host than their connection comes from")
        .tags(tags)
        .register(registry);
  }
}
