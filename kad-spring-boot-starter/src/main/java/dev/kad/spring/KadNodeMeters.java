package dev.kad.spring;

import dev.kad.api.KadNode;
import dev.kad.api.NodeStats;
import dev.kad.reactor.metrics.NodeGauges;
import dev.kad.reactor.metrics.NodeMetrics;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportGauges;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;

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
 * reported. The node's gauges are {@link NodeGauges}, the transport's {@link TcpTransportGauges},
 * which an application without Spring binds itself.
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
    this.tags = NodeMetrics.checkedTags(tags);
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    new NodeGauges(node, tags, clock).bindTo(registry);
    transport.ifPresent(t -> new TcpTransportGauges(t, tags).bindTo(registry));
  }
}
