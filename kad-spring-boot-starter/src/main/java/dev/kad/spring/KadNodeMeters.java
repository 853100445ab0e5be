package dev.kad.spring;

import dev.kad.api.KadNode;
import dev.kad.transport.tcp.TcpTransport;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;

/**
 * Gauges of the node's state: {@code kad.routing.contacts}, {@code kad.store.values}, {@code
 * kad.store.bytes}, {@code kad.watches.active}, and the transport's {@code
 * kad.transport.connections.open} and {@code kad.transport.connections.dropped} (connections closed
 * for misbehaving).
 */
public class KadNodeMeters implements MeterBinder {

  private final KadNode node;
  private final TcpTransport transport;

  /**
   * Creates the binder.
   *
   * @param node the node
   * @param transport its transport
   */
  public KadNodeMeters(KadNode node, TcpTransport transport) {
    this.node = node;
    this.transport = transport;
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
        .description("Payload bytes stored")
        .baseUnit("bytes")
        .register(registry);
    Gauge.builder("kad.watches.active", node, n -> n.stats().activeWatches())
        .description("Open watch streams")
        .register(registry);
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
  }
}
