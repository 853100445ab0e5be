package dev.kad.transport.tcp;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;

/**
 * Meters of a {@link TcpTransport}, read from its {@link TcpTransportStats}: {@code
 * kad.transport.connections.open}, {@code kad.transport.connections.dropped} (connections closed
 * for misbehaving), {@code kad.transport.connections.evicted}, {@code
 * kad.transport.connections.evicted.inbound} (quiet accepted connections closed to make room at
 * {@code maxInboundConnections}), {@code kad.transport.claims.refuted} (peers that claimed another
 * node's address), {@code kad.transport.tls.failures} (connections whose TLS handshake failed, also
 * counted as dropped), {@code kad.transport.requests.rate.limited} (inbound requests answered
 * RATE_LIMITED, their source over {@code maxRequestsPerSecondPerIp}) and {@code
 * kad.transport.senders.spoofed} (inbound requests answered INVALID, with {@code
 * checkSenderAddress} on, for claiming a sender address on another host). {@code new
 * TcpTransportGauges(transport).bindTo(registry)}, beside the node's ({@code
 * dev.kad.reactor.metrics.NodeGauges}).
 *
 * <p>Every meter carries the tags this binder was given, which must be the node's when several
 * transports report to one registry. A meter holds the transport weakly, as Micrometer's do.
 * Micrometer is an optional dependency of {@code kad-transport-tcp}: an application that uses this
 * class adds {@code io.micrometer:micrometer-core} itself.
 */
public final class TcpTransportGauges implements MeterBinder {

  private final TcpTransport transport;
  private final Tags tags;

  /**
   * Creates the binder of a transport.
   *
   * @param transport the transport
   * @throws NullPointerException when {@code transport} is null
   */
  public TcpTransportGauges(TcpTransport transport) {
    this(transport, Tags.empty());
  }

  /**
   * Creates the binder of a transport, each meter carrying {@code tags}.
   *
   * @param transport the transport
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   * @throws NullPointerException when an argument is null
   */
  public TcpTransportGauges(TcpTransport transport, Iterable<Tag> tags) {
    this.transport = Objects.requireNonNull(transport, "transport");
    this.tags = Tags.of(Objects.requireNonNull(tags, "tags"));
  }

  @Override
  public void bindTo(MeterRegistry registry) {
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
