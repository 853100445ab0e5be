package dev.kad.spring;

import dev.kad.api.KadNode;
import dev.kad.transport.tcp.TcpTransport;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Optional;

/**
 * Gauges of the node's state: {@code kad.routing.contacts}, {@code kad.store.values}, {@code
 * kad.store.bytes}, {@code kad.watches.active}; and, when the node's {@link TcpTransport} is known,
 * the transport's {@code kad.transport.connections.open}, {@code kad.transport.connections.dropped}
 * (connections closed for misbehaving), {@code kad.transport.connections.evicted} and {@code
 * kad.transport.claims.refuted} (peers that claimed another node's address).
 */
public class KadNodeMeters implements MeterBinder {

  private final KadNode node;
  private final Optional<TcpTransport> transport;

  /**
   * Creates the binder of the node's gauges only, for a node on a transport not known here.
   *
   * @param node the node
   */
  public KadNodeMeters(KadNode node) {
    this.node = node;
    this.transport = Optional.empty();
  }

  /**
   * Creates the binder of the node's and its transport's gauges.
   *
   * @param node the node
   * @param transport its transport
   */
  public KadNodeMeters(KadNode node, TcpTransport transport) {
    this.node = node;
    this.transport = Optional.of(transport);
  }

  @Override
  public void bindTo(MeterRegistry registry) {
    Gauge.builder("kad.routing.contacts", node, n -> n.stats().contacts())
        .description("Contacts in the routing table")
        .register(registry);
    Gauge.builder("kad.store.values", node, n -> n.stats().storedValues())
        .description("Values stored for the network")
        .register(registry);
    Gauge.builder("kad.store.bytes", node, n -> n.stats().storedBytes())
        .description("Bytes stored: payloads plus 128 bytes per value")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder("kad.watches.active", node, n -> n.stats().activeWatches())
        .description("Open watch streams")
        .register(registry);
    transport.ifPresent(t -> bindTransport(t, registry));
  }

  private static void bindTransport(TcpTransport transport, MeterRegistry registry) {
    Gauge.builder("kad.transport.connections.open", transport, t -> t.stats().openConnections())
        .description("Open TCP connections")
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.connections.dropped", transport, t -> t.stats().violations())
        .description("Connections closed because the peer misbehaved")
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.connections.evicted", transport, t -> t.stats().evictedConnections())
        .description("Idle dialed connections closed to stay within max-outbound-connections")
        .register(registry);
    FunctionCounter.builder(
            "kad.transport.claims.refuted", transport, t -> t.stats().claimsRefuted())
        .description("Peers that claimed an address whose node, dialed back, disowned them")
        .register(registry);
  }
}
