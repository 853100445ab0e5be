package dev.kad.transport.tcp;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.resources.LoopResources;

/**
 * Settings of a {@link TcpTransport}. Build them with {@link #builder()}; every setter checks its
 * value at once and {@link Builder#build()} checks the settings against each other.
 *
 * <pre>{@code
 * TcpTransportOptions options = TcpTransportOptions.builder()
 *     .fromConfig(kadConfig)            // idBits, maxFrameBytes, maxValueBytes, hardTimeout
 *     .bindHost("0.0.0.0").bindPort(7000)
 *     .advertisedAddress(Address.parse("node1.example.org:7000"))
 *     .format(WireFormat.CBOR)
 *     .build();
 * }</pre>
 *
 * @param name names the transport's event-loop threads and log lines
 * @param bindHost the interface to listen on
 * @param bindPort the port to listen on, 0 for any free port
 * @param advertisedAddress the address peers should dial, when it differs from the bound one; a
 *     port of 0 means the bound port
 * @param nodeId the id of the node using this transport, when fixed in advance: the sender of the
 *     answers the transport makes itself (a handler's failure, a request over a limit); when
 *     absent, building a node on the transport gives it the node's id ({@link TcpTransport#attach})
 * @param format the body encoding; both ends must agree
 * @param idBits the width of ids on the wire, 160 or 256; other lengths are refused
 * @param maxFrameBytes the largest frame body sent or accepted; a larger one closes the connection
 * @param maxValueBytes the largest value accepted in a message
 * @param requestTimeout how long {@link TcpTransport#send} waits for a response, dialing included
 * @param connectTimeout how long dialing a peer may take, and how long a peer may take to send its
 *     preface (and, with TLS, to complete its handshake) before the connection is closed
 * @param idleTimeout a connection without a message either way and without pending requests for
 *     this long is closed (bytes of a frame that is not complete yet do not count)
 * @param maxInboundConnections connections accepted beyond this many close the accepted one quiet
 *     the longest with nothing in flight, or, when every one has a request in flight, are closed at
 *     once
 * @param maxInboundConnectionsPerIp connections accepted from one IPv4 address, or one IPv6 /64,
 *     beyond this many are closed at once; peers on this host are exempt unless {@code
 *     perIpLimitForLocalPeers}
 * @param perIpLimitForLocalPeers whether {@code maxInboundConnectionsPerIp} and {@code
 *     maxRequestsPerSecondPerIp} also bound peers on this host: a loopback address, or the address
 *     the connection reached
 * @param maxRequestsPerSecondPerIp inbound requests from one IPv4 address, or one IPv6 /64, beyond
 *     this many a second (with a burst of one second's worth) are answered with {@code
 *     Failure(RATE_LIMITED)} without reaching the handler; 0 for no bound; peers on this host are
 *     exempt unless {@code perIpLimitForLocalPeers}
 * @param checkSenderAddress whether an inbound request, on a connection of either kind, must claim,
 *     as its sender's address, a host whose IP is the one the connection comes from (for IPv6, in
 *     its /64; or both local to this host); one that does not is answered with {@code
 *     Failure(INVALID)}. The port is not checked
 * @param maxOutboundConnections dialing a peer while this many dialed connections are open first
 *     closes the least recently used one with nothing in flight (a soft bound: when every one is
 *     busy, the dial goes ahead, and connections over the bound close as their requests end)
 * @param maxPendingWriteBytes a connection whose unwritten outbound bytes still exceed this once
 *     they were flushed (a peer that does not read) is closed; at least {@code 2 * (maxFrameBytes +
 *     1024)}, so that a full frame or two never trip it
 * @param maxTotalPendingWriteBytes the bound on unwritten outbound bytes of all connections
 *     together: when a write leaves more than this waiting after a flush, the connections with the
 *     largest backlogs are closed, largest first, until the rest is within it (not the writing
 *     connection, unless its backlog is among the largest); at least {@code 2 * (maxFrameBytes +
 *     1024)}
 * @param maxConcurrentRequestsPerConnection inbound requests handled at once per connection; more
 *     stop reading from that connection until some are answered
 * @param eventLoopThreads the number of event-loop threads of this transport, when it owns them
 * @param eventLoops event loops shared with other transports in this JVM instead of its own (the
 *     transport then neither creates threads nor disposes these on close)
 * @param nativeTransport whether to run on Linux's native epoll transport when Netty reports it
 *     available, NIO otherwise; false for NIO everywhere
 * @param tls TLS for every connection, inbound and outbound, or empty for plain TCP
 * @param scheduler where request timeouts run
 */
public record TcpTransportOptions(
    String name,
    String bindHost,
    int bindPort,
    Optional<Address> advertisedAddress,
    Optional<NodeId> nodeId,
    WireFormat format,
    int idBits,
    int maxFrameBytes,
    int maxValueBytes,
    Duration requestTimeout,
    Duration connectTimeout,
    Duration idleTimeout,
    int maxInboundConnections,
    int maxInboundConnectionsPerIp,
    boolean perIpLimitForLocalPeers,
    int maxRequestsPerSecondPerIp,
    boolean checkSenderAddress,
    int maxOutboundConnections,
    int maxPendingWriteBytes,
    long maxTotalPendingWriteBytes,
    int maxConcurrentRequestsPerConnection,
    int eventLoopThreads,
    Optional<LoopResources> eventLoops,
    boolean nativeTransport,
    Optional<TcpTls> tls,
    Scheduler scheduler) {

  /**
   * Checks every setting; see {@link Builder} for the ranges.
   *
   * @param name names the transport's event-loop threads and log lines
   * @param bindHost the interface to listen on
   * @param bindPort the port to listen on, 0 for any free port
   * @param advertisedAddress the address peers should dial
   * @param nodeId the id of the node using this transport
   * @param format the body encoding
   * @param idBits the width of ids on the wire
   * @param maxFrameBytes the largest frame body
   * @param maxValueBytes the largest value
   * @param requestTimeout how long a request may take
   * @param connectTimeout how long dialing may take
   * @param idleTimeout when idle connections are closed
   * @param maxInboundConnections the bound on accepted connections
   * @param maxInboundConnectionsPerIp the bound on accepted connections from one IPv4 address or
   *     IPv6 /64
   * @param perIpLimitForLocalPeers whether the per-IP bounds also apply to peers on this host
   * @param maxRequestsPerSecondPerIp the bound on inbound requests a second from one IPv4 address
   *     or IPv6 /64, 0 for none
   * @param checkSenderAddress whether a request's claimed sender host must match its connection
   * @param maxOutboundConnections the soft bound on dialed connections
   * @param maxPendingWriteBytes the bound on unwritten bytes per connection
   * @param maxTotalPendingWriteBytes the bound on unwritten bytes of all connections together
   * @param maxConcurrentRequestsPerConnection inbound requests handled at once per connection
   * @param eventLoopThreads the number of event-loop threads
   * @param eventLoops shared event loops, or empty for the transport's own
   * @param nativeTransport whether to use epoll where available
   * @param tls TLS for every connection, or empty for plain TCP
   * @param scheduler where request timeouts run
   * @throws IllegalArgumentException naming the first invalid setting
   */
  public TcpTransportOptions {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(bindHost, "bindHost");
    Objects.requireNonNull(advertisedAddress, "advertisedAddress");
    Objects.requireNonNull(nodeId, "nodeId");
    Objects.requireNonNull(format, "format");
    Objects.requireNonNull(eventLoops, "eventLoops");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(scheduler, "scheduler");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    checkBindHost(bindHost);
    range("bindPort", bindPort, 0, 65535);
    if (idBits != 160 && idBits != 256) {
      throw new IllegalArgumentException("idBits must be 160 or 256 but was " + idBits);
    }
    range("maxFrameBytes", maxFrameBytes, 1024, 64 * 1024 * 1024);
    range("maxValueBytes", maxValueBytes, 1, Integer.MAX_VALUE);
    if (maxValueBytes > maxFrameBytes) {
      throw new IllegalArgumentException(
          "maxValueBytes must be at most maxFrameBytes "
              + maxFrameBytes
              + " (a value travels in one frame) but was "
              + maxValueBytes);
    }
    positive("requestTimeout", requestTimeout);
    positive("connectTimeout", connectTimeout);
    positive("idleTimeout", idleTimeout);
    range("maxInboundConnections", maxInboundConnections, 1, 1_000_000);
    range("maxInboundConnectionsPerIp", maxInboundConnectionsPerIp, 1, 1_000_000);
    range("maxRequestsPerSecondPerIp", maxRequestsPerSecondPerIp, 0, 1_000_000);
    range("maxOutboundConnections", maxOutboundConnections, 1, 1_000_000);
    if (maxPendingWriteBytes < minPendingWriteBytes(maxFrameBytes)) {
      throw new IllegalArgumentException(
          "maxPendingWriteBytes must be at least 2 * (maxFrameBytes + "
              + FRAME_OVERHEAD_BYTES
              + ") = "
              + minPendingWriteBytes(maxFrameBytes)
              + " for maxFrameBytes "
              + maxFrameBytes
              + " but was "
              + maxPendingWriteBytes);
    }
    if (maxTotalPendingWriteBytes < minPendingWriteBytes(maxFrameBytes)) {
      throw new IllegalArgumentException(
          "maxTotalPendingWriteBytes must be at least 2 * (maxFrameBytes + "
              + FRAME_OVERHEAD_BYTES
              + ") = "
              + minPendingWriteBytes(maxFrameBytes)
              + " for maxFrameBytes "
              + maxFrameBytes
              + " but was "
              + maxTotalPendingWriteBytes);
    }
    range("maxConcurrentRequestsPerConnection", maxConcurrentRequestsPerConnection, 1, 65536);
    range("eventLoopThreads", eventLoopThreads, 1, 1024);
    nodeId.ifPresent(
        id -> {
          if (id.bits() != idBits) {
            throw new IllegalArgumentException(
                "nodeId must have idBits " + idBits + " but had " + id.bits());
          }
        });
    if (isWildcard(bindHost) && advertisedAddress.isEmpty()) {
      throw new IllegalArgumentException(
          "advertisedAddress must be set when bindHost is the wildcard '" + bindHost + "'");
    }
    advertisedAddress.ifPresent(TcpTransportOptions::checkDialable);
  }

  /**
   * Refuses an advertised IP literal that no peer can dial: the wildcard (peers drop such a contact
   * as undialable, or dial their own host) or a multicast address. Host names are not looked up.
   */
  private static void checkDialable(Address advertised) {
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(advertised.host());
    if (ip == null) {
      return;
    }
    InetAddress address;
    try {
      address = InetAddress.getByAddress(ip);
    } catch (UnknownHostException e) {
      return; // only for a length other than 4 or 16, which a parsed literal never has
    }
    if (address.isAnyLocalAddress() || address.isMulticastAddress()) {
      throw new IllegalArgumentException(
          "advertisedAddress must be an address peers can dial, not the "
              + (address.isAnyLocalAddress() ? "wildcard" : "multicast address")
              + " '"
              + advertised.host()
              + "': advertise the host's IP or DNS name");
    }
  }

  /**
   * Options with every default: 127.0.0.1 on a free port, JSON, 160-bit ids, 64 KiB frames.
   *
   * @return the default options
   */
  public static TcpTransportOptions defaults() {
    return builder().build();
  }

  /**
   * A builder holding the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * What a queued frame costs beyond its body, rounded up: the 4-byte length prefix, and the
   * bookkeeping Netty counts per queued write (96 bytes in its outbound buffer, 32 more for a write
   * handed over from another thread).
   */
  static final int FRAME_OVERHEAD_BYTES = 1024;

  /**
   * The smallest {@code maxPendingWriteBytes} for {@code maxFrameBytes}: room for two full frames,
   * so that one frame never makes a peer look like one that does not read.
   */
  static int minPendingWriteBytes(int maxFrameBytes) {
    return 2 * (maxFrameBytes + FRAME_OVERHEAD_BYTES);
  }

  /** Named as the setting, not as {@link Address}'s {@code host}, which it would report. */
  private static String checkBindHost(String bindHost) {
    Objects.requireNonNull(bindHost, "bindHost");
    if (bindHost.isBlank()) {
      throw new IllegalArgumentException("bindHost must not be blank but was '" + bindHost + "'");
    }
    try {
      // The host every address of this node is made of: refused later, it failed after binding.
      new Address(bindHost, 0);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "bindHost "
              + e.getMessage().replaceFirst("^host ", "")
              + (bindHost.startsWith("[") ? " (an IPv6 literal goes without brackets)" : ""),
          e);
    }
    return bindHost;
  }

  /**
   * Whether {@code host} is a spelling of the wildcard address: every literal that parses to it
   * ({@code ::0}, {@code 000.0.0.0}, {@code ::ffff:0.0.0.0}), not three strings, which let other
   * spellings bind without an advertised address and advertise the undialable wildcard.
   */
  static boolean isWildcard(String host) {
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
    if (ip == null) {
      return false;
    }
    try {
      return InetAddress.getByAddress(ip).isAnyLocalAddress();
    } catch (UnknownHostException e) {
      return false; // only for a length other than 4 or 16, which a parsed literal never has
    }
  }

  private static int range(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be in [" + min + ", " + max + "] but was " + value);
    }
    return value;
  }

  /**
   * A positive duration of at most {@link KadConfig#MAX_DURATION}: timers take nanoseconds in a
   * {@code long}, so {@code ChronoUnit.FOREVER.getDuration()} as a request timeout made every
   * {@code send} throw {@link ArithmeticException}, and as a connect timeout made {@code create}
   * throw.
   */
  private static Duration positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive but was " + value);
    }
    if (value.compareTo(KadConfig.MAX_DURATION) > 0) {
      throw new IllegalArgumentException(
          name + " must be at most " + KadConfig.MAX_DURATION + " but was " + value);
    }
    return value;
  }

  /** Collects {@link TcpTransportOptions}; setters validate at once. */
  public static final class Builder {
    private static final int DEFAULT_MAX_PENDING_WRITE_BYTES = 1024 * 1024;
    private static final long DEFAULT_MAX_TOTAL_PENDING_WRITE_BYTES = 64L * 1024 * 1024;

    private String name = "kad-tcp";
    private String bindHost = "127.0.0.1";
    private int bindPort = 0;
    private Optional<Address> advertisedAddress = Optional.empty();
    private Optional<NodeId> nodeId = Optional.empty();
    private WireFormat format = WireFormat.JSON;
    private int idBits = 160;
    private int maxFrameBytes = 64 * 1024;
    private int maxValueBytes = 16 * 1024;
    private Duration requestTimeout = Duration.ofSeconds(5);
    private Duration connectTimeout = Duration.ofSeconds(5);
    private Duration idleTimeout = Duration.ofMinutes(5);
    private int maxInboundConnections = 1024;
    private int maxInboundConnectionsPerIp = 32;
    private boolean perIpLimitForLocalPeers;
    private int maxRequestsPerSecondPerIp = 1000;
    private boolean checkSenderAddress;
    private int maxOutboundConnections = 512;
    private int maxPendingWriteBytes = DEFAULT_MAX_PENDING_WRITE_BYTES;
    private boolean maxPendingWriteBytesSet;
    private long maxTotalPendingWriteBytes = DEFAULT_MAX_TOTAL_PENDING_WRITE_BYTES;
    private boolean maxTotalPendingWriteBytesSet;
    private int maxConcurrentRequestsPerConnection = 256;
    private int eventLoopThreads = 2;
    private Optional<LoopResources> eventLoops = Optional.empty();
    private boolean nativeTransport = true;
    private Optional<TcpTls> tls = Optional.empty();
    private Scheduler scheduler = Schedulers.parallel();

    private Builder() {}

    /**
     * Copies the settings kad's configuration shares with the transport: {@code idBits}, {@code
     * maxFrameBytes}, {@code maxValueBytes}, and {@code hardTimeout} as the request timeout; raises
     * {@code maxPendingWriteBytes} to the least that {@code maxFrameBytes} needs. It replaces
     * whatever was set for these before, so call it first and set the others after it.
     *
     * @param config the node's configuration
     * @return this builder
     */
    public Builder fromConfig(KadConfig config) {
      Objects.requireNonNull(config, "config");
      this.idBits = config.idBits();
      this.maxFrameBytes = config.maxFrameBytes();
      this.maxValueBytes = config.maxValueBytes();
      this.requestTimeout = config.hardTimeout();
      this.maxPendingWriteBytes =
          Math.max(maxPendingWriteBytes, minPendingWriteBytes(maxFrameBytes));
      return this;
    }

    /**
     * Names the event-loop threads and log lines ({@code kad-tcp} by default).
     *
     * @param name a non-blank name
     * @return this builder
     */
    public Builder name(String name) {
      Objects.requireNonNull(name, "name");
      if (name.isBlank()) {
        throw new IllegalArgumentException("name must not be blank");
      }
      this.name = name;
      return this;
    }

    /**
     * The interface to listen on ({@code 127.0.0.1} by default).
     *
     * @param bindHost a host name or IP literal; a wildcard needs an advertised address
     * @return this builder
     */
    public Builder bindHost(String bindHost) {
      this.bindHost = checkBindHost(bindHost);
      return this;
    }

    /**
     * The port to listen on (0, any free port, by default).
     *
     * @param bindPort in {@code [0, 65535]}
     * @return this builder
     */
    public Builder bindPort(int bindPort) {
      this.bindPort = range("bindPort", bindPort, 0, 65535);
      return this;
    }

    /**
     * The address peers dial (by default the bound host and port).
     *
     * @param address the advertised address; port 0 stands for the bound port; an IP literal must
     *     not be the wildcard or a multicast address
     * @return this builder
     */
    public Builder advertisedAddress(Address address) {
      checkDialable(Objects.requireNonNull(address, "advertisedAddress"));
      this.advertisedAddress = Optional.of(address);
      return this;
    }

    /**
     * The id of the node this transport serves, used as the sender of the answers the transport
     * makes itself (a handler's failure, a request over a limit). Optional: building a node on the
     * transport gives it the node's id; when set, building a node of another id fails.
     *
     * @param nodeId the node's id
     * @return this builder
     */
    public Builder nodeId(NodeId nodeId) {
      this.nodeId = Optional.of(Objects.requireNonNull(nodeId, "nodeId"));
      return this;
    }

    /**
     * The body encoding ({@link WireFormat#JSON} by default).
     *
     * @param format the format
     * @return this builder
     */
    public Builder format(WireFormat format) {
      this.format = Objects.requireNonNull(format, "format");
      return this;
    }

    /**
     * The width of ids on the wire (160 by default).
     *
     * @param idBits 160 or 256
     * @return this builder
     */
    public Builder idBits(int idBits) {
      if (idBits != 160 && idBits != 256) {
        throw new IllegalArgumentException("idBits must be 160 or 256 but was " + idBits);
      }
      this.idBits = idBits;
      return this;
    }

    /**
     * The largest frame body (64 KiB by default).
     *
     * @param maxFrameBytes in {@code [1024, 64 MiB]}
     * @return this builder
     */
    public Builder maxFrameBytes(int maxFrameBytes) {
      this.maxFrameBytes = range("maxFrameBytes", maxFrameBytes, 1024, 64 * 1024 * 1024);
      return this;
    }

    /**
     * The largest value accepted in a message (16 KiB by default).
     *
     * @param maxValueBytes positive, at most {@code maxFrameBytes}
     * @return this builder
     */
    public Builder maxValueBytes(int maxValueBytes) {
      this.maxValueBytes = range("maxValueBytes", maxValueBytes, 1, Integer.MAX_VALUE);
      return this;
    }

    /**
     * How long a request may wait for its response, dialing included (5 s by default).
     *
     * @param requestTimeout positive, at most {@link KadConfig#MAX_DURATION}
     * @return this builder
     */
    public Builder requestTimeout(Duration requestTimeout) {
      this.requestTimeout = positive("requestTimeout", requestTimeout);
      return this;
    }

    /**
     * How long dialing a peer may take, and how long an accepted peer may take to send its preface
     * (5 s by default); with {@link #tls(TcpTls)}, also how long a TLS handshake may take.
     *
     * @param connectTimeout positive, at most {@link KadConfig#MAX_DURATION}
     * @return this builder
     */
    public Builder connectTimeout(Duration connectTimeout) {
      this.connectTimeout = positive("connectTimeout", connectTimeout);
      return this;
    }

    /**
     * After how long without a message either way a connection with nothing in flight is closed (5
     * min by default). Bytes of an unfinished frame are not a message: a peer that trickles a frame
     * without ever finishing it does not keep its connection open.
     *
     * @param idleTimeout positive, at most {@link KadConfig#MAX_DURATION}
     * @return this builder
     */
    public Builder idleTimeout(Duration idleTimeout) {
      this.idleTimeout = positive("idleTimeout", idleTimeout);
      return this;
    }

    /**
     * The bound on connections accepted from peers (1024 by default); dialed connections are one
     * per peer, closed when idle and bounded by {@link #maxOutboundConnections(int)}. A connection
     * accepted at the bound makes room: the accepted connection quiet the longest (no message
     * either way, nothing in flight either way; one that never carried a whole frame is quiet since
     * it opened) is closed, and its peer dials again when it needs to. Only when every accepted
     * connection has a request in flight is the newcomer closed at once. So idle connections cannot
     * lock new peers out for {@link #idleTimeout(Duration)}.
     *
     * @param maxInboundConnections positive
     * @return this builder
     */
    public Builder maxInboundConnections(int maxInboundConnections) {
      this.maxInboundConnections =
          range("maxInboundConnections", maxInboundConnections, 1, 1_000_000);
      return this;
    }

    /**
     * The bound on connections accepted from one IPv4 address, or from one IPv6 /64 (what one host
     * is usually given), 32 by default: one host cannot take more than a few percent of {@link
     * #maxInboundConnections(int)}, while several nodes behind one NAT still get in. A node keeps
     * one connection per peer, so a legitimate host needs about one per node it runs. Connections
     * over the bound are closed at once. Peers on this host (a loopback address, or the address the
     * connection reached) are exempt unless {@link #perIpLimitForLocalPeers(boolean)}: a cluster in
     * one process on 127.0.0.1 has every peer on one IP.
     *
     * @param maxInboundConnectionsPerIp positive
     * @return this builder
     */
    public Builder maxInboundConnectionsPerIp(int maxInboundConnectionsPerIp) {
      this.maxInboundConnectionsPerIp =
          range("maxInboundConnectionsPerIp", maxInboundConnectionsPerIp, 1, 1_000_000);
      return this;
    }

    /**
     * Whether {@link #maxInboundConnectionsPerIp(int)} and {@link #maxRequestsPerSecondPerIp(int)}
     * also bound peers on this host, connecting from a loopback address or from the address they
     * reached (false by default). Set it when other users of this host are not trusted.
     *
     * @param perIpLimitForLocalPeers true to count local peers as any other
     * @return this builder
     */
    public Builder perIpLimitForLocalPeers(boolean perIpLimitForLocalPeers) {
      this.perIpLimitForLocalPeers = perIpLimitForLocalPeers;
      return this;
    }

    /**
     * The bound on inbound requests from one IPv4 address, or from one IPv6 /64, counted as {@link
     * #maxInboundConnectionsPerIp(int)} counts connections (1,000 a second by default; 0 for no
     * bound). Each source has a token bucket that holds one second's worth and refills at this
     * rate, shared by all its connections, whichever side dialed them: a burst of that many
     * requests passes at once, and beyond it a request is answered at once with {@code
     * Failure(RATE_LIMITED)} naming the rate and the source, without reaching the node's handler
     * ({@code rateLimitedRequests} in {@link TcpTransport#stats()}, one WARN line per source). A
     * node sends a peer a few requests a second, so the default lets a few hundred nodes behind one
     * NAT through while one host cannot take a node's whole capacity. Peers on this host are exempt
     * unless {@link #perIpLimitForLocalPeers(boolean)}: a cluster in one process, or a benchmark on
     * loopback, is not slowed. A source's bucket is kept while it has a connection open and until
     * it has refilled after its last one closed, so reconnecting does not refill it.
     *
     * @param maxRequestsPerSecondPerIp in {@code [0, 1000000]}, 0 to turn the bound off
     * @return this builder
     */
    public Builder maxRequestsPerSecondPerIp(int maxRequestsPerSecondPerIp) {
      this.maxRequestsPerSecondPerIp =
          range("maxRequestsPerSecondPerIp", maxRequestsPerSecondPerIp, 0, 1_000_000);
      return this;
    }

    /**
     * Whether to check the address an inbound request claims for its sender against the connection
     * it came on (false by default). On, a request must claim an IP literal equal to its
     * connection's remote IP (an IPv4-mapped IPv6 literal counts as its IPv4 address), or, for a
     * global IPv6 address, one in the same /64 (a desktop dials from a temporary privacy address
     * and advertises its stable one), or a host name one of whose addresses does; a peer on this
     * host (loopback, or the address the connection reached, as {@link
     * #perIpLimitForLocalPeers(boolean)} tells) may claim a loopback address or the address the
     * connection reached, not the host's other interfaces. This holds on connections this node
     * dialed too: what a peer claims is what it writes, and there the remote IP is the one this
     * node dialed. Any other claim is answered at once with {@code Failure(INVALID)} naming both
     * addresses, without reaching the node's handler ({@code spoofedSenders} in {@link
     * TcpTransport#stats()}, one WARN line per connection).
     *
     * <p>A host name is looked up off the event loops, on {@code boundedElastic}, and a request
     * waits for it at most {@code connectTimeout} (a name not resolved by then fails; the look-up
     * runs on, and its answer is kept). The transport runs at most 4 look-ups at once and keeps the
     * addresses of up to 1,024 names, or that a look-up failed, for 30 seconds; a claimed name that
     * is not kept when all 4 are taken is answered at once with {@code Failure(RATE_LIMITED)}
     * ({@code rateLimitedRequests}), and nothing is kept of that. One connection may claim at most
     * 16 host names (more are answered {@code Failure(INVALID)}); IP literals cost no look-up.
     *
     * <p>It stops one host from claiming the addresses of other hosts, so that a peer cannot fill
     * routing tables with contacts at addresses it does not own. It cannot stop a claim of another
     * port on the same host: the port a connection comes from is an ephemeral one, not the port its
     * node listens on, so the claimed port is not compared.
     *
     * <p>Off by default because a legitimate peer's claim may not match: behind NAT its connection
     * comes from the NAT's public address while it advertises what its operator configured, a
     * container's published port maps a host address it does not see, and a multi-homed host may
     * connect from another interface than the one it advertises. Turn it on for a network whose
     * nodes reach each other directly, at the addresses they advertise.
     *
     * @param checkSenderAddress true to refuse requests whose claimed sender host does not match
     * @return this builder
     */
    public Builder checkSenderAddress(boolean checkSenderAddress) {
      this.checkSenderAddress = checkSenderAddress;
      return this;
    }

    /**
     * The bound on connections dialed to peers (512 by default). Dialing one more first closes the
     * least recently used dialed connection that has no request in flight either way, so a node
     * that talks to many peers keeps a bounded number of sockets; when every dialed connection is
     * busy the dial goes ahead, and while over the bound the least recently used idle connections
     * are closed as requests end.
     *
     * @param maxOutboundConnections positive
     * @return this builder
     */
    public Builder maxOutboundConnections(int maxOutboundConnections) {
      this.maxOutboundConnections =
          range("maxOutboundConnections", maxOutboundConnections, 1, 1_000_000);
      return this;
    }

    /**
     * The bound on unwritten outbound bytes per connection (by default 1 MiB, or {@code 2 *
     * (maxFrameBytes + 1024)} when that is more); a peer that does not read past it is
     * disconnected. The bound is checked once what was written had a chance to be flushed, so
     * answers that pile up during one read do not count against a peer that reads.
     *
     * @param maxPendingWriteBytes at least {@code 2 * (maxFrameBytes + 1024)}, checked by {@link
     *     #build()}
     * @return this builder
     */
    public Builder maxPendingWriteBytes(int maxPendingWriteBytes) {
      this.maxPendingWriteBytes =
          range("maxPendingWriteBytes", maxPendingWriteBytes, 1024, Integer.MAX_VALUE);
      this.maxPendingWriteBytesSet = true;
      return this;
    }

    /**
     * The bound on unwritten outbound bytes of all connections together (by default 64 MiB, or
     * {@code maxPendingWriteBytes} when that is more). Without it, every connection could hold
     * nearly {@code maxPendingWriteBytes} for a peer that does not read: a gigabyte of memory for
     * 1,024 such peers. A write that takes the total over the bound flushes, and if the total is
     * still over it, the connections with the largest backlogs, largest first, are closed as peers
     * that do not read until the rest is within the bound; connections whose peers read have
     * nothing left after a flush and are not touched.
     *
     * @param maxTotalPendingWriteBytes at least {@code 2 * (maxFrameBytes + 1024)}, checked by
     *     {@link #build()}
     * @return this builder
     */
    public Builder maxTotalPendingWriteBytes(long maxTotalPendingWriteBytes) {
      if (maxTotalPendingWriteBytes < 1024) {
        throw new IllegalArgumentException(
            "maxTotalPendingWriteBytes must be at least 1024 but was " + maxTotalPendingWriteBytes);
      }
      this.maxTotalPendingWriteBytes = maxTotalPendingWriteBytes;
      this.maxTotalPendingWriteBytesSet = true;
      return this;
    }

    /**
     * Inbound requests handled at once per connection (256 by default).
     *
     * @param max in {@code [1, 65536]}
     * @return this builder
     */
    public Builder maxConcurrentRequestsPerConnection(int max) {
      this.maxConcurrentRequestsPerConnection =
          range("maxConcurrentRequestsPerConnection", max, 1, 65536);
      return this;
    }

    /**
     * The number of event-loop threads of this transport (2 by default).
     *
     * @param eventLoopThreads in {@code [1, 1024]}
     * @return this builder
     */
    public Builder eventLoopThreads(int eventLoopThreads) {
      this.eventLoopThreads = range("eventLoopThreads", eventLoopThreads, 1, 1024);
      return this;
    }

    /**
     * Event loops shared with other transports in this JVM, instead of {@code eventLoopThreads}
     * threads of this transport's own. Many nodes in one process (tests, a simulation on loopback)
     * then run on a few threads rather than two each. The caller owns the loops: {@link
     * TcpTransport#close()} leaves them running.
     *
     * @param eventLoops the loops to run on
     * @return this builder
     */
    public Builder eventLoops(LoopResources eventLoops) {
      this.eventLoops = Optional.of(Objects.requireNonNull(eventLoops, "eventLoops"));
      return this;
    }

    /**
     * Whether to run on Netty's native epoll transport where it is available (true by default): on
     * Linux x86_64, whose native library comes with reactor-netty, unless Netty reports it unusable
     * ({@code io.netty.channel.epoll.Epoll.isAvailable()} false, e.g. with {@code
     * -Dio.netty.transport.noNative=true}), in which case the transport runs on NIO as it does
     * everywhere else. On loopback epoll answered single requests sooner than NIO and kept its
     * latency and throughput when the host's cores were contended; lookups on a quiet host took
     * about as long on either. The wire, every limit and every counter behave the same on both.
     * Shared {@link #eventLoops(LoopResources)} serve either: the transport runs on their epoll or
     * on their NIO threads.
     *
     * @param nativeTransport false for NIO even where epoll is available
     * @return this builder
     */
    public Builder nativeTransport(boolean nativeTransport) {
      this.nativeTransport = nativeTransport;
      return this;
    }

    /**
     * TLS for every connection this transport accepts or dials (off by default: plain TCP). With
     * it, there is no plaintext fallback: a peer must complete a TLS handshake within {@code
     * connectTimeout}, and, when {@link TcpTls#requireClientAuth()}, present a certificate the
     * trust material accepts; otherwise its connection is closed ({@code tlsFailures}). A dial
     * waits for the handshake, so a request to a peer whose handshake failed fails with {@link
     * dev.kad.api.UnreachableContactException} naming the reason: an {@link
     * dev.kad.api.IncompatiblePeerException}, not transient, when the peer has TLS off or one side
     * does not trust the other's certificate. Every node of a network must have TLS on, or off. The
     * material can be replaced in the running transport ({@link TcpTransport#updateTls}); TLS
     * itself cannot be turned on or off there.
     *
     * @param tls the key, trust and verification settings
     * @return this builder
     */
    public Builder tls(TcpTls tls) {
      this.tls = Optional.of(Objects.requireNonNull(tls, "tls"));
      return this;
    }

    /**
     * Where request timeouts run ({@code Schedulers.parallel()} by default).
     *
     * @param scheduler the node's scheduler
     * @return this builder
     */
    public Builder scheduler(Scheduler scheduler) {
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * The options, checked as a whole.
     *
     * @return the options
     * @throws IllegalArgumentException when settings contradict each other, e.g. {@code
     *     maxValueBytes} above {@code maxFrameBytes}
     */
    public TcpTransportOptions build() {
      // Unless set, the default grows with maxFrameBytes instead of refusing a large frame size.
      int pendingWriteBytes =
          maxPendingWriteBytesSet
              ? maxPendingWriteBytes
              : Math.max(maxPendingWriteBytes, minPendingWriteBytes(maxFrameBytes));
      long totalPendingWriteBytes =
          maxTotalPendingWriteBytesSet
              ? maxTotalPendingWriteBytes
              : Math.max(maxTotalPendingWriteBytes, pendingWriteBytes);
      return new TcpTransportOptions(
          name,
          bindHost,
          bindPort,
          advertisedAddress,
          nodeId,
          format,
          idBits,
          maxFrameBytes,
          maxValueBytes,
          requestTimeout,
          connectTimeout,
          idleTimeout,
          maxInboundConnections,
          maxInboundConnectionsPerIp,
          perIpLimitForLocalPeers,
          maxRequestsPerSecondPerIp,
          checkSenderAddress,
          maxOutboundConnections,
          pendingWriteBytes,
          totalPendingWriteBytes,
          maxConcurrentRequestsPerConnection,
          eventLoopThreads,
          eventLoops,
          nativeTransport,
          tls,
          scheduler);
    }
  }
}
