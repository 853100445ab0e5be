package dev.kad.transport.tcp;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.flush.FlushConsolidationHandler;
import io.netty.handler.logging.LogLevel;
import io.netty.handler.ssl.SslHandler;
import io.netty.resolver.NoopAddressResolverGroup;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Exceptions;
import reactor.core.Fuseable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.netty.DisposableServer;
import reactor.netty.NettyInbound;
import reactor.netty.resources.LoopResources;
import reactor.netty.tcp.TcpClient;
import reactor.netty.tcp.TcpServer;

/**
 * The TCP {@link Transport}: reactor-netty server and client, one long-lived connection per peer
 * reused for requests in both directions and multiplexed by request id, length-prefixed frames with
 * Jackson bodies (JSON, CBOR or Smile).
 *
 * <pre>{@code
 * TcpTransport transport = TcpTransport.create(TcpTransportOptions.builder()
 *     .fromConfig(config).bindPort(7000).nodeId(self).build());
 * Mono<Response> pong =
 *     transport.start(request -> engine.handle(request))          // binds 127.0.0.1:7000
 *         .then(transport.send(Address.parse("10.0.0.5:7000"), new Request.Ping(me)));
 * Mono<Void> closed = transport.close();                          // releases every thread
 * }</pre>
 *
 * <p><b>Wire.</b> Each side opens a connection with a {@link Preface} ({@code 'K' 'A' 'D'},
 * protocol version, {@link WireFormat} code, flags, among them the id width, and two nonces; the
 * dialer first, the acceptor once it has read the dialer's), then sends frames of a 4-byte
 * big-endian length and a body {@code {"rid": n, "msg": {"type": ..., ...}}}. Peers of another
 * format, version or id width do not talk: the acceptor answers the dialer's preface with its own
 * before it closes, and both sides count and log the bad preface, the dialer failing its requests
 * with {@link IncompatiblePeerException} (not transient) naming both sides' format, version or
 * width ({@code peer at 192.0.2.7:7000 speaks kad protocol v2 with format CBOR but this node speaks
 * v2 with JSON}); so do a node with TLS and one without, and a TLS handshake that fails over a
 * certificate. A peer that is not a kad node at all fails them with a transient {@link
 * UnreachableContactException}, as a closed connection. A node of a release before the width flag
 * states no width and is let in, as before (one of another width is then closed at its first
 * message, as malformed). A wrong preface, a length over {@code maxFrameBytes}, a body that does
 * not decode strictly, a response to a request id never sent, a peer that does not read (its
 * backlog over {@code maxPendingWriteBytes}, or the largest backlog while all backlogs together are
 * over {@code maxTotalPendingWriteBytes}), a connection over {@code maxInboundConnectionsPerIp} and
 * one over {@code maxInboundConnections} while every accepted connection has a request in flight
 * each close that one connection, log one WARN line (rate-limited) and bump a counter of {@link
 * #stats()}; every other connection carries on. Otherwise a connection over {@code
 * maxInboundConnections} is let in and the accepted connection quiet the longest (no message either
 * way, nothing in flight; one that never carried a whole frame is quiet since it opened) is closed
 * instead ({@code evictedInboundConnections}): idle connections cannot lock newcomers out.
 *
 * <p><b>Connections.</b> A request to an address reuses the open connection to it, or dials one
 * (concurrent requests share the dial). A connection a peer opened is reused for requests to that
 * peer's advertised address once a dial-back confirms it: the address must be an IP literal
 * matching the connection's remote IP, and the first dial to it asks the node there, in the
 * connection preface, whether it opened that connection to this node (only it knows the nonce the
 * connection started with together with the socket it reached). Confirmed, the dialed connection
 * closes once its requests are answered and the peer's carries requests both ways; refuted, the
 * claim is counted and the peer's connection only answers. Connections idle for {@code idleTimeout}
 * with nothing in flight are closed. Dialed connections are kept within {@code
 * maxOutboundConnections} by retiring the least recently used one that has nothing in flight, when
 * a dial would pass the bound and when a request ends while over it; a retired connection takes no
 * new requests (they dial again) and closes once its own are answered.
 *
 * <p><b>Requests.</b> An inbound request reaches the handler unless its source (an IPv4 address or
 * IPv6 /64, peers on this host exempt unless {@code perIpLimitForLocalPeers}) is over {@code
 * maxRequestsPerSecondPerIp}, when it is answered at once with {@code Failure(RATE_LIMITED)}, or,
 * with {@code checkSenderAddress} on, it claims a sender on another host than its connection (of
 * either kind) comes from, when it is answered with {@code Failure(INVALID)}; a claimed host name
 * that is not known when every look-up is taken is answered with {@code Failure(RATE_LIMITED)}.
 * Each keeps the connection open, is counted ({@code rateLimitedRequests}, {@code spoofedSenders})
 * and logged at WARN once per source or connection.
 *
 * <p><b>Threads.</b> Each transport owns its event loops ({@code eventLoopThreads} threads named
 * after {@code name}) and releases them in {@link #close()}, unless the options give it shared
 * {@code eventLoops}, which it leaves to their owner; handlers and response subscribers run on
 * them, so they must not block. Timeouts run on the options' scheduler.
 */
public final class TcpTransport implements Transport {

  private static final Logger log = LoggerFactory.getLogger(TcpTransport.class);
  private static final Logger wire = LoggerFactory.getLogger("dev.kad.wire");

  /**
   * A request refused by a connection retired or closed under it, or pending on one the peer
   * closed, is sent again on a new dial ({@link PeerConnection#sendAgain}); a fresh connection is
   * rarely retired or closed before its first request, so a few attempts are plenty, and a peer
   * that is gone refuses the dial at once.
   */
  private static final int SEND_AGAIN_TIMES = 3;

  /**
   * Picks of a quiet accepted connection to make room for one newcomer over {@code
   * maxInboundConnections}: a pick is evicted on its own event loop, and a request read meanwhile
   * (rare: it was the quietest) sends the newcomer to the next quietest.
   */
  private static final int EVICTION_ATTEMPTS = 4;

  /** Scans for a quiet accepted connection to claim, when newcomers arriving together race. */
  private static final int MAX_EVICTION_SCANS = 16;

  private static final String EVERY_ACCEPTED_BUSY =
      "maxInboundConnections reached and every accepted connection has a request in flight";

  /**
   * The distinct sender host names requests on one connection may claim with {@code
   * checkSenderAddress}: a node claims one, and each claimed host name costs a look-up.
   */
  static final int MAX_CLAIMED_HOSTS = 16;

  /**
   * Look-ups of claimed sender host names running at once, for the whole transport: each blocks a
   * thread of {@link Schedulers#boundedElastic()}, which the node's dials and the application
   * share, for as long as the system's resolver takes, and peers choose the names.
   */
  static final int MAX_LOOKUPS_IN_FLIGHT = 4;

  /** Claimed sender host names whose addresses are kept, for the whole transport. */
  private static final int MAX_LOOKED_UP_HOSTS = 1024;

  /** How long a claimed sender host name's addresses (or its failed look-up) are kept. */
  private static final Duration LOOKUP_TTL = Duration.ofSeconds(30);

  /**
   * Where a TLS handshake's delegated tasks run: certificate validation and key agreement take
   * milliseconds of CPU, and the JDK's checks may read files; on an event loop (Netty's default for
   * the JDK provider, which runs them in place) they would hold up every connection of the loop.
   */
  private static final Executor TLS_TASKS = task -> Schedulers.boundedElastic().schedule(task);

  private final TcpTransportOptions options;
  private final WireCodec codec;
  private final TransportMetrics metrics;

  /**
   * Fires {@code requestTimeout} after each subscription: one for every request, not built anew.
   */
  private final Mono<Long> requestTimer;

  private final LoopResources loops;
  private final TcpServer serverSpec;
  private final TcpClient clientSpec;
  private final Set<PeerConnection> connections = ConcurrentHashMap.newKeySet();

  /**
   * The guards of open connections: where a guard finds the largest backlog when all of them
   * together are over {@code maxTotalPendingWriteBytes}.
   */
  private final Set<ConnectionGuard> guards = ConcurrentHashMap.newKeySet();

  private final ConcurrentHashMap<Address, PeerConnection> peers = new ConcurrentHashMap<>();

  /** Accepted connections by the address their peer advertised, until a dial-back checks them. */
  private final ConcurrentHashMap<Address, PeerConnection> claims = new ConcurrentHashMap<>();

  private final SecureRandom nonces = seededRandom();
  private final ConcurrentHashMap<Address, Mono<PeerConnection>> dialing =
      new ConcurrentHashMap<>();
  private final AtomicReference<RequestHandler> handler = new AtomicReference<>();
  private final AtomicBoolean closing = new AtomicBoolean();

  /** Completes when {@link #close()} is called: dials still in progress give up at once. */
  private final Sinks.Empty<Void> closeCalled = Sinks.empty();

  /**
   * Open accepted connections by {@linkplain #inboundSource source} (an IPv4 address or an IPv6
   * /64): what {@code maxInboundConnectionsPerIp} bounds. A source leaves when its count drops to
   * zero, so the map holds only sources with a connection open.
   */
  private final ConcurrentHashMap<String, Integer> inboundPerSource = new ConcurrentHashMap<>();

  /**
   * The token buckets of {@code maxRequestsPerSecondPerIp} by source, or null when it is 0 (no
   * bound).
   */
  private final RequestRates rates;

  /** Dialed connections not retired: what {@code maxOutboundConnections} bounds. */
  private final AtomicInteger outboundInService = new AtomicInteger();

  private final Mono<Void> shutdown;

  /**
   * The id of the answers this transport makes itself: the options' node id, or the id of the node
   * it was attached to, or all zeros before either.
   */
  private volatile NodeId nodeId;

  /** The node this transport serves, once attached; guarded by {@code this}. */
  private NodeId attached;

  /** Turns a peer's address into a socket address; host names are looked up. */
  private final Function<Address, Mono<InetSocketAddress>> resolver;

  /**
   * The addresses of host names requests claim for their sender ({@code checkSenderAddress}),
   * looked up off the event loops, a few at a time, and kept a while.
   */
  private final HostLookups hostLookups;

  private volatile DisposableServer server;
  private volatile Address localAddress;

  /**
   * The TLS material new connections handshake with, or null for plain TCP: read once per
   * connection as its pipeline is built, replaced whole by {@link #updateTls}.
   */
  private volatile TcpTls tls;

  private TcpTransport(
      TcpTransportOptions options,
      Function<Address, Mono<InetSocketAddress>> resolver,
      Function<String, Mono<List<InetAddress>>> hostLookup) {
    this.options = options;
    this.resolver = resolver;
    this.hostLookups =
        new HostLookups(
            hostLookup, MAX_LOOKUPS_IN_FLIGHT, MAX_LOOKED_UP_HOSTS, LOOKUP_TTL, System::nanoTime);
    this.tls = options.tls().orElse(null);
    this.codec =
        new WireCodec(
            options.format(), options.idBits(), options.maxValueBytes(), options.maxFrameBytes());
    this.metrics = new TransportMetrics(options.name());
    this.rates =
        options.maxRequestsPerSecondPerIp() > 0
            ? new RequestRates(options.maxRequestsPerSecondPerIp(), System::nanoTime)
            : null;
    this.requestTimer = Mono.delay(options.requestTimeout(), options.scheduler()).onErrorReturn(0L);
    this.nodeId = options.nodeId().orElseGet(() -> NodeId.of(new byte[options.idBits() / 8]));
    // Shared loops belong to the caller; our own (daemon threads) are disposed by close(). Either
    // kind holds NIO and, where Netty finds it usable, epoll threads: runOn picks by
    // nativeTransport.
    this.loops =
        options
            .eventLoops()
            .orElseGet(
                () ->
                    LoopResources.create(
                        options.name(), 1, options.eventLoopThreads(), true, false));
    TcpServer s =
        TcpServer.create()
            .runOn(loops, options.nativeTransport())
            .host(options.bindHost())
            .port(options.bindPort())
            .doOnChannelInit((observer, channel, remote) -> initChannel(channel, true, remote))
            .handle((in, out) -> serve(in));
    TcpClient c =
        TcpClient.newConnection()
            // Peers' addresses are resolved here, before a dial. Set before runOn: a client put
            // on loops without a resolver gets reactor-netty's DNS resolver for them, kept in a
            // static cache with the loops after this transport closed (about 140 KB each).
            .resolver(NoopAddressResolverGroup.INSTANCE)
            .runOn(loops, options.nativeTransport())
            .option(
                ChannelOption.CONNECT_TIMEOUT_MILLIS,
                // Rounded up: Netty takes 0 as no timeout at all.
                (int) Math.min(Integer.MAX_VALUE, ceilMillis(options.connectTimeout())))
            .doOnChannelInit((observer, channel, remote) -> initChannel(channel, false, remote))
            .handle((in, out) -> serve(in));
    if (wire.isTraceEnabled()) {
      s = s.wiretap("dev.kad.wire", LogLevel.TRACE);
      c = c.wiretap("dev.kad.wire", LogLevel.TRACE);
    }
    this.serverSpec = s;
    this.clientSpec = c;
    this.shutdown = Mono.defer(this::shutdown).cache();
  }

  /** Whole milliseconds, at least 1 for a positive duration (a sub-millisecond one is not 0). */
  static long ceilMillis(Duration d) {
    long millis = d.toMillis();
    return d.equals(Duration.ofMillis(millis)) ? millis : millis + 1;
  }

  /**
   * A transport with the given options. Nothing is bound and no thread started until {@link
   * #start(RequestHandler)} or {@link #send(Address, Request)}.
   *
   * @param options the settings
   * @return a new transport
   */
  public static TcpTransport create(TcpTransportOptions options) {
    return new TcpTransport(
        Objects.requireNonNull(options, "options"), TcpTransport::resolve, TcpTransport::lookUp);
  }

  /**
   * A transport that resolves peers' addresses with {@code resolver}: tests give it one whose
   * look-up never ends, without touching the network.
   */
  static TcpTransport create(
      TcpTransportOptions options, Function<Address, Mono<InetSocketAddress>> resolver) {
    return create(options, resolver, TcpTransport::lookUp);
  }

  /**
   * A transport that also looks up the host names requests claim for their senders with {@code
   * hostLookup}: tests give names addresses without touching the network.
   */
  static TcpTransport create(
      TcpTransportOptions options,
      Function<Address, Mono<InetSocketAddress>> resolver,
      Function<String, Mono<List<InetAddress>>> hostLookup) {
    return new TcpTransport(
        Objects.requireNonNull(options, "options"),
        Objects.requireNonNull(resolver, "resolver"),
        Objects.requireNonNull(hostLookup, "hostLookup"));
  }

  /**
   * A transport with the default options: 127.0.0.1 on a free port, JSON.
   *
   * @return a new transport
   */
  public static TcpTransport create() {
    return create(TcpTransportOptions.defaults());
  }

  /**
   * The settings of this transport.
   *
   * @return the options it was created with; their {@code tls()} stays the material the transport
   *     was created with after an {@link #updateTls}, which {@link #tls()} reflects
   */
  public TcpTransportOptions options() {
    return options;
  }

  /**
   * The TLS material that connections accepted or dialed from now on handshake with.
   *
   * @return the options' TLS, or the last given to {@link #updateTls}; empty for plain TCP
   */
  public Optional<TcpTls> tls() {
    return Optional.ofNullable(tls);
  }

  /**
   * Replaces the TLS material, such as a rotated certificate or a new trust store, without a
   * restart. Connections accepted or dialed after this call returns handshake with {@code newTls},
   * its {@code requireClientAuth} and {@code endpointIdentification} included; open connections
   * keep the session they made and run on undisturbed until they close (idle, retired or by the
   * peer), so a peer that no longer trusts this node's certificate loses them only then. A dial
   * already under way may still handshake with the material it started with. Safe to call from any
   * thread at any time, also concurrently with itself (the last call wins); it does not block.
   *
   * <p>TLS cannot be turned on or off in a running transport: every peer would have to change at
   * the same moment. A transport created without {@link TcpTransportOptions.Builder#tls} refuses,
   * and {@code null} does not turn TLS off.
   *
   * @param newTls the material for new connections
   * @throws NullPointerException if {@code newTls} is null
   * @throws IllegalStateException if the transport was created without TLS
   * @throws NodeClosedException after {@link #close()}: no connection would use the material
   */
  public void updateTls(TcpTls newTls) {
    Objects.requireNonNull(newTls, "tls");
    if (tls == null) {
      throw new IllegalStateException(
          options.name()
              + " has TLS off (its options set no tls), so it cannot take TLS material: a running"
              + " transport never turns TLS on, as its peers would all have to at once; create it"
              + " with TcpTransportOptions.Builder#tls");
    }
    if (closing.get()) {
      throw closedError();
    }
    tls = newTls;
    log.debug("{}: new connections handshake with {}", options.name(), newTls);
  }

  /**
   * Refuses a node configuration whose messages these options cannot carry: ids of another width
   * than {@code idBits} (every peer would close the connection), or a {@code maxValueBytes} or
   * {@code maxFrameBytes} above the transport's (values the node accepts, or answers it builds,
   * that the transports of the network refuse). {@link TcpTransportOptions.Builder#fromConfig}
   * makes options that fit.
   *
   * @param config the configuration of the node that is to use this transport
   * @throws IllegalArgumentException naming the setting and both values when they do not fit
   */
  @Override
  public void checkCompatible(KadConfig config) {
    Objects.requireNonNull(config, "config");
    if (config.idBits() != options.idBits()) {
      throw incompatible("idBits", config.idBits(), "differs from", options.idBits());
    }
    if (config.maxValueBytes() > options.maxValueBytes()) {
      throw incompatible(
          "maxValueBytes", config.maxValueBytes(), "exceeds", options.maxValueBytes());
    }
    if (config.maxFrameBytes() > options.maxFrameBytes()) {
      throw incompatible(
          "maxFrameBytes", config.maxFrameBytes(), "exceeds", options.maxFrameBytes());
    }
  }

  /**
   * Checks the configuration as {@link #checkCompatible} does, and takes {@code self} as the id of
   * the answers this transport makes itself (a request over {@code maxRequestsPerSecondPerIp}, a
   * sender on another host, a handler's failure): without it those carried an all-zero id, which
   * peers count as a failure of the node they asked, and a rate-limited node was dropped from
   * routing tables.
   *
   * <p>Until the transport has started (or while it may start again after a failed start) another
   * node may take it over: a builder's {@code start()} called again after a failed start draws a
   * new id.
   *
   * @throws IllegalArgumentException when the configuration does not fit, when the options name
   *     another node id, or when the transport is started, or starting, for another node
   */
  @Override
  public synchronized void attach(NodeId self, KadConfig config) {
    Objects.requireNonNull(self, "self");
    checkCompatible(config);
    Optional<NodeId> built = options.nodeId();
    if (built.isPresent() && !built.get().equals(self)) {
      throw new IllegalArgumentException(
          "the node's id "
              + self.toHex()
              + " differs from the nodeId "
              + built.get().toHex()
              + " of transport "
              + options.name()
              + ": set the same id on both, or leave it out of the transport's options");
    }
    if (attached != null && !attached.equals(self) && handler.get() != null) {
      throw new IllegalArgumentException(
          "transport "
              + options.name()
              + " already serves node "
              + attached.toHex()
              + ": each node needs a transport of its own");
    }
    attached = self;
    nodeId = self;
  }

  private IllegalArgumentException incompatible(
      String setting, int nodeValue, String relation, int transportValue) {
    return new IllegalArgumentException(
        "the node's "
            + setting
            + " "
            + nodeValue
            + " "
            + relation
            + " the "
            + setting
            + " "
            + transportValue
            + " of transport "
            + options.name()
            + ": build its options with TcpTransportOptions.builder().fromConfig(config)");
  }

  /**
   * Starts listening and serving inbound requests with {@code handler}.
   *
   * <p>Subscribing binds {@code bindHost:bindPort}; the {@code Mono} completes once the server is
   * listening and {@link #localAddress()} is known. It errors with {@link KadException} when
   * binding fails (the transport can then be started again), {@link IllegalStateException} when the
   * transport was already started and {@link NodeClosedException} after {@link #close()}, also when
   * it closes while binding. Cancelling before the server listens leaves the transport not started
   * (a bind that finishes all the same is closed), so it can be started again; a cancel that
   * crosses the bind leaves it serving only if {@link #localAddress()} answers once the cancel
   * returned, so the canceller can tell whether to close it. The handler is called on an event
   * loop, concurrently for requests of different connections; an error or empty answer from it is
   * sent back as {@code Failure(INTERNAL)}.
   *
   * @param handler answers every inbound request
   * @return completes when serving
   */
  @Override
  public Mono<Void> start(RequestHandler handler) {
    Objects.requireNonNull(handler, "handler");
    return Mono.defer(
        () -> {
          if (closing.get()) {
            return Mono.error(new NodeClosedException(options.name() + " is closed"));
          }
          if (!this.handler.compareAndSet(null, handler)) {
            // Most often one transport handed to two nodes: say so, and which transport it is.
            Address bound = localAddress;
            return Mono.error(
                new IllegalStateException(
                    options.name()
                        + (bound != null ? " at " + bound : "")
                        + " was already started: a transport serves one node, so give each node a"
                        + " transport of its own"));
          }
          // Set by whichever comes first: the bound server, or the subscriber's cancel. Both hold
          // its lock while they act on it, so that a cancel returns only once the start is either
          // published (serving, its address known) or given up (the handler slot free again).
          AtomicBoolean settled = new AtomicBoolean();
          return serverSpec
              .bind()
              .onErrorMap(
                  e ->
                      closing.get()
                          ? closedError()
                          : new KadException(
                              "cannot listen on "
                                  + new Address(options.bindHost(), options.bindPort())
                                  + ": "
                                  + SocketErrors.reason(e),
                              e))
              // Not bound, so not started: a later start() may try again.
              .doOnError(e -> this.handler.compareAndSet(handler, null))
              .flatMap(
                  bound -> {
                    boolean published;
                    synchronized (settled) {
                      if (!settled.compareAndSet(false, true)) {
                        return unwanted(bound);
                      }
                      published = publish(bound);
                    }
                    if (!published) {
                      bound.dispose();
                      return bound.onDispose().then(Mono.error(closedError()));
                    }
                    // Logged once the lock is free: a cancel waits for the publishing alone.
                    logListening(bound);
                    return Mono.<Void>empty();
                  })
              // Cancelled while binding: not started either. A server that binds all the same is
              // disposed when it arrives (unwanted), so the handler is not left claimed by nothing.
              // A cancel that meets the bound server being published waits for it: the start then
              // serves, and its canceller, seeing the address, closes the transport.
              .doOnCancel(
                  () -> {
                    synchronized (settled) {
                      if (settled.compareAndSet(false, true)) {
                        this.handler.compareAndSet(handler, null);
                      }
                    }
                  });
        });
  }

  /** A server bound for a start whose subscriber cancelled meanwhile: no one will use it. */
  private static Mono<Void> unwanted(DisposableServer bound) {
    bound.dispose();
    return Mono.empty();
  }

  /**
   * Publishes the server bound for a start and its address, unless the transport is closing (then
   * the caller disposes it). Called holding the start's lock, which a cancel takes too: a cancel
   * returns before this began (the server is then unwanted) or after it published the address.
   *
   * @return whether the server was published
   */
  private boolean publish(DisposableServer bound) {
    // Published before closing is read, as close() sets closing before shutdown reads server:
    // whichever runs second sees the other, so the server is disposed by one or both.
    this.server = bound;
    if (closing.get()) {
      return false;
    }
    int port = ((InetSocketAddress) bound.address()).getPort();
    this.localAddress =
        options
            .advertisedAddress()
            .map(a -> a.port() == 0 ? new Address(a.host(), port) : a)
            .orElseGet(() -> new Address(options.bindHost(), port));
    return true;
  }

  private void logListening(DisposableServer bound) {
    log.info(
        "{}: listening on {}, advertised as {}, format {}, {}",
        options.name(),
        HostPort.of(bound.address()),
        localAddress,
        options.format(),
        tls().map(Object::toString).orElse("plain TCP (no TLS)"));
  }

  @Override
  public Address localAddress() {
    Address a = localAddress;
    if (a == null) {
      throw new IllegalStateException(options.name() + " is not started");
    }
    return a;
  }

  /**
   * Sends a request to the peer at {@code to} and emits its response.
   *
   * <p>Subscribing reuses the open connection to {@code to} or dials one, then writes the request.
   * The {@code Mono} emits the response (possibly a {@link Response.Failure}) on an event loop, or
   * errors with {@link UnreachableContactException} when the peer cannot be dialed or the
   * connection closes before the answer ({@link IncompatiblePeerException}, not transient, when the
   * peer's settings and this node's do not fit: TLS on one side only, another format, version or id
   * width, a certificate one side does not trust), {@link KadTimeoutException} after {@code
   * requestTimeout} (dialing included, measured on the options' scheduler), {@link
   * dev.kad.api.InvalidMessageException} when the request does not fit in {@code maxFrameBytes},
   * and {@link NodeClosedException} after {@link #close()} (at once, also while the peer is still
   * being dialed or its host name looked up). Cancelling forgets the request; a dial in progress is
   * left to finish for later requests, and the connection it opens, if no request takes it, counts
   * as idle: it is the first to go past {@code maxOutboundConnections} and closes after {@code
   * idleTimeout}.
   *
   * @param to the peer's address
   * @param request the request
   * @return the response
   */
  @Override
  public Mono<Response> send(Address to, Request request) {
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(request, "request");
    // A race rather than timeout(): a connection that closes as the timeout fires (a stopped peer's
    // preface timeout is as long as the request timeout) fails the request on an event loop while
    // the timeout wins on the scheduler, and timeout() hands that loser's error to Reactor's
    // onErrorDropped hook, whose default logs an ERROR with a stack trace. The race ignores it.
    Mono<Response> timedOut =
        requestTimer.then(
            Mono.error(
                () ->
                    new KadTimeoutException(
                        "no answer from "
                            + to
                            + " to "
                            + request.getClass().getSimpleName()
                            + " within "
                            + options.requestTimeout().toMillis()
                            + " ms (requestTimeout)")));
    // The timer first, as timeout() subscribed it.
    return Mono.firstWithSignal(timedOut, attempt(to, request, SEND_AGAIN_TIMES))
        // One operator for both mappings: each is a subscriber set up for every request.
        .onErrorMap(e -> failure(to, e))
        // Over the bound because every dialed connection was busy: this one may now be idle.
        .doFinally(signal -> trimOutbound());
  }

  /**
   * One attempt at sending {@code request}, then up to {@code retries} more on another connection
   * while the peer cannot have seen it. Not {@code retryWhen}: it sets up a companion publisher and
   * sinks for every request, failed or not, which in a profile of the {@code tcp} benchmark took
   * more of the event loops' time than encoding and writing the request.
   */
  private Mono<Response> attempt(Address to, Request request, int retries) {
    Mono<Response> once =
        Mono.defer(
            () -> {
              if (closing.get()) {
                return Mono.error(closedError());
              }
              PeerConnection open = peers.get(to);
              return open != null && open.takesRequests()
                  ? open.request(request)
                  : dialing.computeIfAbsent(to, this::dial).flatMap(pc -> pc.request(request));
            });
    return retries == 0
        ? once
        : once.onErrorResume(PeerConnection::sendAgain, e -> attempt(to, request, retries - 1));
  }

  /** What a failed send reports: a {@link KadException}, the node's closing first of all. */
  private Throwable failure(Address to, Throwable e) {
    if (closing.get() && !(e instanceof NodeClosedException)) {
      return closedError();
    }
    return e instanceof KadException
        ? e
        : new UnreachableContactException("request to " + to + " failed: " + e, e);
  }

  private NodeClosedException closedError() {
    return new NodeClosedException(options.name() + " is closed");
  }

  /**
   * A shared dial: the first subscriber connects, later ones get the same connection. The dial goes
   * on when its senders give up (cancel, time out), for the requests to come; the connection it
   * opens is reserved for the senders waiting for it ({@link PeerConnection#busy}) until it has
   * been handed to them, and then, if none was left to take it, counts as idle: it is the first to
   * be retired past {@code maxOutboundConnections} and is closed after {@code idleTimeout}. The
   * dial fails with {@link NodeClosedException} as soon as the transport closes.
   */
  private Mono<PeerConnection> dial(Address to) {
    AtomicReference<Mono<PeerConnection>> self = new AtomicReference<>();
    AtomicReference<PeerConnection> dialed = new AtomicReference<>();
    Mono<PeerConnection> dial =
        Mono.defer(
                () -> {
                  // A dial that finished between the sender's look at the peers and its turn here
                  // left a connection registered: use it, not a second one.
                  PeerConnection open = peers.get(to);
                  return open != null && open.takesRequests()
                      ? Mono.just(open)
                      : resolver
                          .apply(to)
                          .flatMap(address -> clientFor(to).remoteAddress(() -> address).connect())
                          .map(connection -> connection.channel().attr(PeerConnection.KEY).get())
                          .flatMap(this::handshaken)
                          .doOnNext(
                              pc -> {
                                dialed.set(pc);
                                register(to, pc);
                              });
                })
            .takeUntilOther(closeCalled.asMono())
            .switchIfEmpty(Mono.error(this::closedError))
            .doOnNext(
                pc -> {
                  // Before the shared result reaches anyone: a sender whose request this connection
                  // refuses (retired meanwhile) must find a new dial, not this one again.
                  dialing.remove(to, self.get());
                })
            .onErrorMap(
                e -> !(e instanceof KadException),
                e ->
                    new UnreachableContactException(
                        "cannot connect to " + to + ": " + SocketErrors.reason(e), e))
            .doFinally(
                signal -> {
                  dialing.remove(to, self.get());
                  // After the connection reached the senders waiting for it (they take their
                  // requests as it arrives): when none did, it is idle, maybe past the bound.
                  PeerConnection pc = dialed.get();
                  if (pc != null && pc.dialSettled()) {
                    trimOutbound();
                  }
                })
            .cache();
    self.set(dial);
    return dial;
  }

  /**
   * The dialed connection once its TLS handshake succeeded, or an {@link
   * UnreachableContactException} naming why it failed; the connection itself without TLS. Waiting
   * here keeps a connection that cannot carry requests from being registered for the address, and
   * the requests of the dial from being sent again on new dials that would fail the same way.
   */
  private Mono<PeerConnection> handshaken(PeerConnection pc) {
    SslHandler tls = pc.channel().pipeline().get(SslHandler.class);
    if (tls == null) {
      return Mono.just(pc);
    }
    return Mono.create(
        sink ->
            tls.handshakeFuture()
                .addListener(
                    f -> {
                      if (f.isSuccess()) {
                        sink.success(pc);
                      } else {
                        UnreachableContactException why = pc.unusable(f.cause());
                        sink.error(why != null ? why : TlsFailures.handshakeFailure(pc, f.cause()));
                      }
                    }));
  }

  /**
   * The client for a dial to {@code to}: when a peer's accepted connection claims that address, the
   * dial is also a dial-back that asks the node at {@code to} whether it opened that connection.
   */
  private TcpClient clientFor(Address to) {
    PeerConnection claimant = claims.get(to);
    if (claimant == null || !claimant.takesRequests()) {
      return clientSpec;
    }
    // Bound to the socket the claimant's connection reached here: the node at `to` sent that nonce
    // to whoever it dialed, so the nonce alone would also confirm an impostor it once dialed.
    byte[] echo = Preface.binding(claimant.peerNonce(), claimant.channel().localAddress());
    if (echo == null) {
      return clientSpec;
    }
    return clientSpec.attr(PeerConnection.CHECKS, new PeerConnection.Claim(to, claimant, echo));
  }

  /**
   * Brings the dialed connections in service back within {@code maxOutboundConnections}: while over
   * it, retires the least recently used one with nothing in flight and not reserved by its dial, if
   * there is one (when every one is busy or not yet handed out the bound is exceeded, and a later
   * call trims). Each retirement first takes one off the count with a compare-and-set and then
   * claims the connection with {@link PeerConnection#retire}, so concurrent callers retire exactly
   * the excess, never the same connection twice, and count every connection they close once. A
   * scan, but only while over the bound.
   */
  private void trimOutbound() {
    int max = options.maxOutboundConnections();
    for (int inService = outboundInService.get();
        inService > max;
        inService = outboundInService.get()) {
      PeerConnection victim = leastRecentlyUsedIdle();
      if (victim == null) {
        return;
      }
      if (!outboundInService.compareAndSet(inService, inService - 1)) {
        continue;
      }
      if (!victim.retire()) {
        // Retired or closed meanwhile, and counted off by whoever did that.
        outboundInService.incrementAndGet();
        continue;
      }
      metrics.evicted.increment();
      log.debug("{}: closing {} to stay within maxOutboundConnections", options.name(), victim);
      for (Address a : victim.registrations()) {
        peers.remove(a, victim);
      }
    }
  }

  /**
   * Dialed connections whose dial has yet to hand them out, neither idle nor evictable meanwhile:
   * tests wait for 0 before they count on a dial whose senders left being judged idle.
   */
  int reservedConnections() {
    int n = 0;
    for (PeerConnection pc : connections) {
      if (pc.reserved()) {
        n++;
      }
    }
    return n;
  }

  private PeerConnection leastRecentlyUsedIdle() {
    PeerConnection oldest = null;
    for (PeerConnection pc : connections) {
      if (!pc.inbound()
          && pc.takesRequests()
          && !pc.busy()
          && (oldest == null || pc.lastUsed() - oldest.lastUsed() < 0)) {
        oldest = pc;
      }
    }
    return oldest;
  }

  /** An IP literal needs no lookup; a host name is resolved off the event loops. */
  private static Mono<InetSocketAddress> resolve(Address to) {
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(to.host());
    if (ip != null) {
      return Mono.fromCallable(
          () -> new InetSocketAddress(InetAddress.getByAddress(to.host(), ip), to.port()));
    }
    return Mono.fromCallable(
            () -> new InetSocketAddress(InetAddress.getByName(to.host()), to.port()))
        .subscribeOn(Schedulers.boundedElastic());
  }

  /** Every address of a host name; blocking, so {@link HostLookups} runs it off the event loops. */
  private static Mono<List<InetAddress>> lookUp(String host) {
    return Mono.fromCallable(() -> List.of(InetAddress.getAllByName(host)));
  }

  private void register(Address address, PeerConnection pc) {
    pc.registeredAs(address);
    // A dial-back answered before this ran has registered the connection it confirmed: keep that.
    peers.compute(address, (a, old) -> pc.takesRequests() || old == null ? pc : old);
    if (!pc.takesRequests()) {
      peers.remove(address, pc);
    }
  }

  private void initChannel(Channel channel, boolean inbound, SocketAddress remote) {
    Violation rejected = null;
    String rejectedDetail = null;
    boolean overTotal = false;
    if (inbound) {
      metrics.accepted.increment();
      overTotal = metrics.openInbound.incrementAndGet() > options.maxInboundConnections();
      String source = sourceOf(channel);
      if (source != null) {
        int fromSource = inboundPerSource.merge(source, 1, Integer::sum);
        channel
            .closeFuture()
            .addListener(
                f -> inboundPerSource.computeIfPresent(source, (s, n) -> n > 1 ? n - 1 : null));
        if (fromSource > options.maxInboundConnectionsPerIp()) {
          rejected = Violation.CONNECTION_LIMIT_PER_IP;
          rejectedDetail =
              "maxInboundConnectionsPerIp "
                  + options.maxInboundConnectionsPerIp()
                  + " reached from "
                  + source;
        }
      }
    } else {
      metrics.dialed.increment();
      outboundInService.incrementAndGet();
    }
    metrics.open.incrementAndGet();
    PeerConnection pc =
        new PeerConnection(
            channel,
            inbound,
            codec,
            metrics,
            owner,
            options.maxConcurrentRequestsPerConnection(),
            inbound ? null : newNonce(),
            inbound ? null : channel.attr(PeerConnection.CHECKS).get());
    channel.attr(PeerConnection.KEY).set(pc);
    connections.add(pc);
    if (overTotal && rejected == null && !closing.get() && !makeRoom(pc, EVICTION_ATTEMPTS)) {
      rejected = Violation.CONNECTION_LIMIT;
      rejectedDetail = EVERY_ACCEPTED_BUSY;
    }
    int high = options.maxPendingWriteBytes();
    channel.config().setWriteBufferWaterMark(new WriteBufferWaterMark(high / 2, high));
    ChannelPipeline p = channel.pipeline();
    p.addFirst(
        "kad.frames",
        new FrameDecoder(
            options.format(),
            options.idBits(),
            options.maxFrameBytes(),
            options.connectTimeout().toNanos(),
            metrics,
            pc));
    // Answers written while a read is in progress go out in one write at its end: a peer with many
    // requests in flight costs a system call per read, not one per answer. Writes outside a read
    // (a lookup's requests) are flushed at once, so no request waits.
    p.addFirst("kad.flush", new FlushConsolidationHandler());
    // Nearer the socket than kad.flush, so that its flush of a backlog is not deferred.
    ConnectionGuard guard =
        new ConnectionGuard(
            pc,
            metrics,
            rejected,
            rejectedDetail,
            high,
            options.maxTotalPendingWriteBytes(),
            guards);
    guards.add(guard);
    channel.closeFuture().addListener(f -> guards.remove(guard));
    p.addFirst("kad.guard", guard);
    // Nearest the socket, so that everything above sees plaintext; only with TLS on, so the plain
    // pipeline is what it was. Read once: the material of this connection's whole life, whatever
    // updateTls sets meanwhile.
    TcpTls current = tls;
    if (current != null) {
      p.addFirst(
          "kad.tls",
          current.newHandler(
              channel.alloc(), inbound, remote, TLS_TASKS, options.connectTimeout()));
      p.addAfter("kad.tls", "kad.tls.failures", new TlsFailures(pc, metrics));
      p.addFirst(
          "kad.tls.plaintext",
          new PlaintextKadPeer(pc, metrics, options.format(), options.idBits()));
    }
    // After the frame decoder: only whole messages count as reads, not the bytes of a frame that a
    // peer trickles without ever finishing it.
    p.addAfter(
        "kad.frames", "kad.idle", new IdleClose(pc, metrics, options.idleTimeout().toNanos()));
    if (current == null) {
      channel.closeFuture().addListener(f -> onClosed(pc));
    } else {
      // An alert that ends a TLS session closes the channel before the SslHandler raises it: run
      // after that, so the requests the close fails are told what the alert said.
      channel.closeFuture().addListener(f -> afterThisTask(channel, () -> onClosed(pc)));
    }
    if (closing.get()) {
      pc.closeChannel();
    } else if (!inbound) {
      trimOutbound();
    }
  }

  /**
   * Makes room within {@code maxInboundConnections} for the accepted connection {@code newcomer}:
   * claims the accepted connection quiet the longest (no message either way since, at first, it
   * opened) with nothing in flight either way and no other newcomer's claim on it, and evicts it on
   * its own event loop ({@link #evict}), where no frame of it is being read meanwhile. A scan of
   * the connections, but only when the bound is reached.
   *
   * @param attemptsLeft picks left, this one included, for when a pick turns busy before its loop
   *     evicts it
   * @return false when no accepted connection is quiet: the newcomer is to be refused
   */
  private boolean makeRoom(PeerConnection newcomer, int attemptsLeft) {
    // Each lost claim is another newcomer's win, and takes a connection out of the next scan.
    for (int scan = 0; scan < MAX_EVICTION_SCANS; scan++) {
      PeerConnection quietest = null;
      for (PeerConnection pc : connections) {
        if (pc != newcomer
            && pc.inbound()
            && !pc.evicting()
            && pc.takesRequests()
            && !pc.busy()
            && (quietest == null || pc.lastUsed() - quietest.lastUsed() < 0)) {
          quietest = pc;
        }
      }
      if (quietest == null) {
        return false;
      }
      if (quietest.claimEviction()) {
        PeerConnection victim = quietest;
        afterThisTask(victim.channel(), () -> evict(victim, newcomer, attemptsLeft - 1));
        return true;
      }
    }
    return false;
  }

  /**
   * On {@code victim}'s event loop: closes the connection claimed for {@code newcomer} if it is
   * still quiet ({@link PeerConnection#retire} takes it out of service once; a request of this node
   * that races the close is refused with {@link PeerConnection.Retired} and sent on a new dial).
   * Otherwise gives the claim up and picks again, and once out of picks refuses the newcomer.
   */
  private void evict(PeerConnection victim, PeerConnection newcomer, int attemptsLeft) {
    if (!victim.takesRequests()) {
      // Closing on its own meanwhile (idle, or its peer hung up): that makes the room, and picking
      // another would close a second connection for one newcomer.
      victim.releaseEviction();
      return;
    }
    if (!victim.busy() && victim.retire()) {
      metrics.evictedInbound.increment();
      metrics.warn(
          TransportMetrics.Warning.EVICTED_INBOUND,
          "{}: closing the accepted connection {}, quiet for {} ms, to accept {} within"
              + " maxInboundConnections {}",
          options.name(),
          HostPort.of(victim.remote()),
          (System.nanoTime() - victim.lastUsed()) / 1_000_000,
          HostPort.of(newcomer.remote()),
          options.maxInboundConnections());
      for (Address a : victim.registrations()) {
        peers.remove(a, victim);
      }
      return;
    }
    victim.releaseEviction();
    if (attemptsLeft > 0 && !closing.get() && makeRoom(newcomer, attemptsLeft)) {
      return;
    }
    afterThisTask(
        newcomer.channel(),
        () -> {
          metrics.violation(Violation.CONNECTION_LIMIT, newcomer.remote(), EVERY_ACCEPTED_BUSY);
          newcomer.closeChannel();
        });
  }

  private static void afterThisTask(Channel channel, Runnable action) {
    try {
      channel.eventLoop().execute(action);
    } catch (RejectedExecutionException e) {
      action.run(); // the loop is shutting down: nothing else runs on it any more
    }
  }

  /**
   * What {@code maxInboundConnectionsPerIp} counts a peer's connection against: its IPv4 address,
   * or its IPv6 /64 (a host is usually given a whole /64, so counting its addresses would not bound
   * it), as {@code 192.0.2.1} or {@code 2001:db8:0:1::/64}. A link-local IPv6 address counts on its
   * own, since every host on the link shares {@code fe80::/64}; an IPv4-mapped IPv6 address is its
   * IPv4 address. Peers on this host (a loopback address, or the address the connection reached)
   * are not counted unless {@code limitLocal}.
   *
   * @return the source, or {@code null} when the peer is not counted
   */
  /**
   * The source {@code channel}'s peer counts as for every per-source bound (connections, request
   * rate, host-name look-ups), or null for a peer on this host that they exempt.
   */
  private String sourceOf(Channel channel) {
    return inboundSource(
        channel.remoteAddress(), channel.localAddress(), options.perIpLimitForLocalPeers());
  }

  static String inboundSource(SocketAddress remote, SocketAddress local, boolean limitLocal) {
    if (!(remote instanceof InetSocketAddress r) || r.getAddress() == null) {
      return null;
    }
    InetAddress ip = r.getAddress();
    if (!limitLocal && isLocal(ip, local)) {
      return null;
    }
    byte[] b = unmapped(ip.getAddress());
    if (b.length != 16 || ip.isLinkLocalAddress()) {
      return NetUtil.bytesToIpAddress(b);
    }
    return String.format(
        "%x:%x:%x:%x::/64",
        ((b[0] & 0xff) << 8) | (b[1] & 0xff),
        ((b[2] & 0xff) << 8) | (b[3] & 0xff),
        ((b[4] & 0xff) << 8) | (b[5] & 0xff),
        ((b[6] & 0xff) << 8) | (b[7] & 0xff));
  }

  /**
   * Whether {@code ip} is on this host, as the per-IP bounds and the sender check tell: a loopback
   * address, or the address {@code local} (the connection's end on this host) has.
   */
  static boolean isLocal(InetAddress ip, SocketAddress local) {
    return ip.isLoopbackAddress()
        || (local instanceof InetSocketAddress l
            && l.getAddress() != null
            && Arrays.equals(unmapped(ip.getAddress()), unmapped(l.getAddress().getAddress())));
  }

  /**
   * Whether a request on a connection from {@code remote} to {@code local} may claim the IP {@code
   * claimed} for its sender: the same IP as the connection's remote one, an IPv6 address in the
   * same /64 as a global one (a desktop dials from a temporary privacy address and advertises its
   * stable one; the per-source bounds take a /64 as one host too), or both on this host ({@link
   * #isLocal}). An IPv4-mapped IPv6 address is its IPv4 address. A connection without an IP address
   * passes, having nothing to compare.
   */
  static boolean senderMatches(byte[] claimed, SocketAddress remote, SocketAddress local) {
    if (!(remote instanceof InetSocketAddress r) || r.getAddress() == null) {
      return true;
    }
    InetAddress from = r.getAddress();
    byte[] ip = unmapped(claimed);
    byte[] fromIp = unmapped(from.getAddress());
    if (Arrays.equals(ip, fromIp)) {
      return true;
    }
    // Every host on a link has fe80::/64, and ::/64 holds loopback: only a global /64 is one host.
    if (ip.length == 16
        && fromIp.length == 16
        && !from.isLinkLocalAddress()
        && !from.isLoopbackAddress()
        && Arrays.equals(ip, 0, 8, fromIp, 0, 8)) {
      return true;
    }
    InetAddress claimedIp;
    try {
      claimedIp = InetAddress.getByAddress(ip);
    } catch (UnknownHostException e) {
      return false; // only for a length other than 4 or 16
    }
    return isLocal(from, local) && isLocal(claimedIp, local);
  }

  /** The IPv4 address of an IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}); others as given. */
  static byte[] unmapped(byte[] ip) {
    if (ip.length != 16 || (ip[10] & 0xff) != 0xff || (ip[11] & 0xff) != 0xff) {
      return ip;
    }
    for (int i = 0; i < 10; i++) {
      if (ip[i] != 0) {
        return ip;
      }
    }
    return Arrays.copyOfRange(ip, 12, 16);
  }

  /**
   * A generator that draws nonces on the event loops without I/O: the JDK's default reads
   * /dev/urandom on every call, a DRBG only when it is seeded, here, off the loops.
   */
  private static SecureRandom seededRandom() {
    SecureRandom random;
    try {
      random = SecureRandom.getInstance("DRBG");
    } catch (NoSuchAlgorithmException e) {
      random = new SecureRandom();
    }
    random.nextBytes(new byte[Preface.NONCE_BYTES]);
    return random;
  }

  private byte[] newNonce() {
    byte[] nonce = new byte[Preface.NONCE_BYTES];
    nonces.nextBytes(nonce);
    return nonce;
  }

  private void onClosed(PeerConnection pc) {
    connections.remove(pc);
    Address claimed = pc.claimed();
    if (claimed != null) {
      claims.remove(claimed, pc);
    }
    metrics.open.decrementAndGet();
    if (pc.inbound()) {
      metrics.openInbound.decrementAndGet();
    } else if (pc.leaveService()) {
      outboundInService.decrementAndGet();
    }
    for (Address a : pc.registrations()) {
      peers.remove(a, pc);
    }
    pc.onChannelClosed();
    log.debug("{}: connection {} closed", options.name(), pc);
  }

  private Publisher<Void> serve(NettyInbound in) {
    AtomicReference<PeerConnection> pc = new AtomicReference<>();
    in.withConnection(c -> pc.set(c.channel().attr(PeerConnection.KEY).get()));
    PeerConnection connection = pc.get();
    return connection == null ? Mono.empty() : connection.serve(in.receiveObject());
  }

  private final PeerConnection.Owner owner =
      new PeerConnection.Owner() {
        /**
         * {@inheritDoc}
         *
         * <p>A handler that answers at once (a {@code Mono.fromSupplier} or {@code Mono.just}, as
         * the engine's does) is called here and its answer returned as {@code Mono.just}, which the
         * connection writes without setting up operators: per request, those cost more than the
         * engine's handling of a FindNode.
         */
        @Override
        public Mono<Response> answer(Request request) {
          RequestHandler h = handler.get();
          if (h == null) {
            return Mono.just(internalFailure("not started"));
          }
          Mono<Response> answer;
          try {
            answer = Objects.requireNonNull(h.handle(request), "the handler's answer");
            if (answer instanceof Callable<?> now) {
              Object response = now.call();
              return Mono.just(
                  response != null
                      ? (Response) response
                      : handlerFailed(request, new IllegalStateException("no response")));
            }
          } catch (Throwable e) {
            Exceptions.throwIfJvmFatal(e);
            return Mono.just(handlerFailed(request, Exceptions.unwrap(e)));
          }
          return answer
              .switchIfEmpty(Mono.error(() -> new IllegalStateException("no response")))
              .onErrorResume(e -> Mono.just(handlerFailed(request, e)));
        }

        /**
         * {@inheritDoc}
         *
         * <p>A request from a source over {@code maxRequestsPerSecondPerIp} is answered with {@code
         * Failure(RATE_LIMITED)}. The connection's bucket is looked up at its first request, when
         * both its ends are known whichever side dialed, and given back when it closes.
         */
        @Override
        public Optional<Response> refuse(PeerConnection connection, Request request) {
          if (rates == null) {
            return Optional.empty();
          }
          if (!connection.rateKnown()) {
            Channel channel = connection.channel();
            String source = sourceOf(channel);
            RequestRates.Bucket bucket = source == null ? null : rates.opened(source);
            connection.rate(bucket);
            if (bucket != null) {
              channel.closeFuture().addListener(f -> rates.closed(bucket, channel.eventLoop()));
            }
          }
          RequestRates.Bucket bucket = connection.rate();
          if (bucket == null || bucket.tryAcquire()) {
            return Optional.empty();
          }
          metrics.rateLimited.increment();
          String message =
              "more than "
                  + rates.perSecond()
                  + " requests a second from "
                  + bucket.source
                  + " (maxRequestsPerSecondPerIp)";
          if (bucket.firstRefusal()) {
            metrics.warn(
                TransportMetrics.Warning.RATE_LIMITED,
                "{}: answering requests from {} with RATE_LIMITED: {}; logged once per source",
                options.name(),
                HostPort.of(connection.remote()),
                message);
          } else {
            log.debug(
                "{}: {} from {} is over the rate",
                options.name(),
                request.getClass().getSimpleName(),
                HostPort.of(connection.remote()));
          }
          return Optional.of(failure(Response.Code.RATE_LIMITED, message));
        }

        /**
         * {@inheritDoc}
         *
         * <p>With {@code checkSenderAddress} on, on either kind of connection (what a peer claims
         * is what it writes, whoever dialed): an IP literal is judged at once; a host name by its
         * addresses, which {@link HostLookups} keeps for the whole transport a while, or looks up
         * off the event loops, a few at a time (none free: {@code Failure(RATE_LIMITED)}). A
         * look-up's verdict comes back on the connection's loop.
         */
        @Override
        public Mono<Response> checkSender(PeerConnection connection, Request request) {
          if (!options.checkSenderAddress()) {
            return Mono.empty();
          }
          Address claimed = request.sender().address();
          Channel channel = connection.channel();
          byte[] ip = NetUtil.createByteArrayFromIpAddressString(claimed.host());
          if (ip != null) {
            return senderMatches(ip, channel.remoteAddress(), channel.localAddress())
                ? Mono.empty()
                : Mono.just(mismatch(connection, claimed));
          }
          Set<String> claimedHosts = connection.claimedHosts();
          if (!claimedHosts.contains(claimed.host()) && claimedHosts.size() >= MAX_CLAIMED_HOSTS) {
            return Mono.just(
                spoofed(
                    connection,
                    "sender claims "
                        + claimed
                        + " but requests on the connection from "
                        + remoteIp(connection)
                        + " already claimed "
                        + MAX_CLAIMED_HOSTS
                        + " other hosts"));
          }
          Optional<Mono<List<InetAddress>>> addresses =
              hostLookups.addresses(claimed.host(), sourceOf(channel));
          if (addresses.isEmpty()) {
            return Mono.just(noLookUp(connection, claimed));
          }
          claimedHosts.add(claimed.host());
          Mono<List<InetAddress>> found = addresses.get();
          if (found instanceof Fuseable.ScalarCallable<?> known) {
            List<?> now;
            try {
              now = (List<?>) known.call();
            } catch (Exception e) {
              throw Exceptions.propagate(e); // not from Mono.just, whose call() throws nothing
            }
            return anyMatches(now, channel)
                ? Mono.empty()
                : Mono.just(mismatch(connection, claimed));
          }
          // Waits at most connectTimeout; the look-up itself runs on to its end, and is kept.
          return found
              .map(now -> anyMatches(now, channel))
              .timeout(options.connectTimeout(), options.scheduler())
              .onErrorReturn(false)
              .publishOn(Schedulers.fromExecutor(channel.eventLoop()))
              .flatMap(
                  matches -> matches ? Mono.empty() : Mono.just(mismatch(connection, claimed)));
        }

        /** Whether any of a claimed host's {@code addresses} matches {@code channel}. */
        private boolean anyMatches(List<?> addresses, Channel channel) {
          for (Object a : addresses) {
            if (senderMatches(
                ((InetAddress) a).getAddress(), channel.remoteAddress(), channel.localAddress())) {
              return true;
            }
          }
          return false;
        }

        private Response noLookUp(PeerConnection connection, Address claimed) {
          metrics.rateLimited.increment();
          String message =
              "no look-up of "
                  + claimed.host()
                  + ": "
                  + MAX_LOOKUPS_IN_FLIGHT
                  + " host names are being looked up, or "
                  + HostLookups.PER_SOURCE
                  + " for this peer's address (checkSenderAddress); claim an IP literal or try"
                  + " later";
          metrics.warn(
              TransportMetrics.Warning.RATE_LIMITED,
              "{}: answering a request from {} with RATE_LIMITED: {}",
              options.name(),
              HostPort.of(connection.remote()),
              message);
          return failure(Response.Code.RATE_LIMITED, message);
        }

        private Response mismatch(PeerConnection connection, Address claimed) {
          return spoofed(
              connection,
              "sender claims "
                  + claimed
                  + " but the connection comes from "
                  + remoteIp(connection));
        }

        private Response spoofed(PeerConnection connection, String message) {
          metrics.spoofedSenders.increment();
          if (connection.firstSpoof()) {
            metrics.warn(
                TransportMetrics.Warning.SPOOFED_SENDER,
                "{}: answering requests from {} with INVALID: {}; logged once per connection",
                options.name(),
                HostPort.of(connection.remote()),
                message);
          } else {
            log.debug("{}: {}", options.name(), message);
          }
          return failure(Response.Code.INVALID, message);
        }

        private Response handlerFailed(Request request, Throwable e) {
          metrics.handlerFailures.increment();
          metrics.warn(
              TransportMetrics.Warning.HANDLER_FAILURE,
              "{}: request handler failed on {} from {}",
              options.name(),
              request.getClass().getSimpleName(),
              request.sender(),
              e);
          return internalFailure("request handler failed");
        }

        @Override
        public void learned(PeerConnection connection, Contact sender) {
          if (!connection.inbound() || !connection.claimSender()) {
            return;
          }
          Address advertised = sender.address();
          if (!sameIp(advertised.host(), connection.remote())) {
            return;
          }
          // Not reused yet: another process on that IP could claim the address. The next dial to
          // it asks the node there whether this connection is its own.
          connection.claimed(advertised);
          claims.put(advertised, connection);
          if (!connection.takesRequests()) {
            claims.remove(advertised, connection);
          }
        }

        @Override
        public boolean dialedWith(byte[] echo) {
          for (PeerConnection pc : connections) {
            if (!pc.inbound()
                && pc.takesRequests()
                && pc.binding() != null
                && MessageDigest.isEqual(pc.binding(), echo)) {
              return true;
            }
          }
          return false;
        }

        @Override
        public void claimChecked(PeerConnection dialBack, boolean confirmed) {
          PeerConnection.Claim claim = dialBack.checking();
          PeerConnection claimant = claim.claimant();
          Address address = claim.address();
          claims.remove(address, claimant);
          if (!claimant.takesRequests()) {
            return;
          }
          if (!confirmed) {
            metrics.claimsRefuted.increment();
            metrics.warn(
                TransportMetrics.Warning.REFUTED_CLAIM,
                "{}: the peer at {} claimed address {}, and the node there did not confirm"
                    + " it (another process, or a connection it is closing); requests to {} use"
                    + " a connection dialed to it",
                options.name(),
                HostPort.of(claimant.remote()),
                address,
                address);
            return;
          }
          // One connection to the peer: the one it opened, from now on both ways.
          metrics.claimsConfirmed.increment();
          claimant.registeredAs(address);
          peers.put(address, claimant);
          if (!claimant.takesRequests()) {
            peers.remove(address, claimant);
            return;
          }
          if (dialBack.retire()) {
            outboundInService.decrementAndGet();
          }
          peers.remove(address, dialBack);
        }
      };

  /** The IP a connection comes from, as text. */
  private static String remoteIp(PeerConnection connection) {
    return connection.remote() instanceof InetSocketAddress r && r.getAddress() != null
        ? NetUtil.toAddressString(r.getAddress())
        : String.valueOf(connection.remote());
  }

  /** Whether {@code host} is an IP literal equal to the remote address of a connection. */
  private static boolean sameIp(String host, SocketAddress remote) {
    byte[] ip = NetUtil.createByteArrayFromIpAddressString(host);
    return ip != null
        && remote instanceof InetSocketAddress r
        && r.getAddress() != null
        && Arrays.equals(ip, r.getAddress().getAddress());
  }

  private Response.Failure internalFailure(String message) {
    return failure(Response.Code.INTERNAL, message);
  }

  /** A refusal the transport answers itself, from the node it serves. */
  private Response.Failure failure(Response.Code code, String message) {
    Address a = localAddress;
    return new Response.Failure(
        new Contact(nodeId, a != null ? a : new Address(options.bindHost(), options.bindPort())),
        code,
        message);
  }

  /**
   * Sources holding a bucket of {@code maxRequestsPerSecondPerIp} now: tests wait for 0 once their
   * connections closed and the buckets refilled.
   */
  int rateLimitedSources() {
    return rates == null ? 0 : rates.size();
  }

  /**
   * A snapshot of this transport's counters: open connections, pending requests, and how many
   * connections were closed for each kind of protocol violation.
   *
   * @return the counters now
   */
  public TcpTransportStats stats() {
    long pending = 0;
    for (PeerConnection pc : connections) {
      pending += pc.pendingRequests();
    }
    return metrics.snapshot(pending);
  }

  /**
   * Stops the transport and releases everything it holds.
   *
   * <p>Subscribing stops accepting connections, fails every pending request with {@link
   * NodeClosedException} (those still waiting for a dial or a host-name lookup too, without waiting
   * for it), closes every connection and shuts its own event loops down (shared ones keep running);
   * the {@code Mono} completes when all of that is done. Requests sent afterwards fail with {@link
   * NodeClosedException}. Closing again returns the same completion; a close whose subscriber
   * cancelled is finished by the next {@code close()}.
   *
   * @return completes when everything is released
   */
  @Override
  public Mono<Void> close() {
    return Mono.defer(
        () -> {
          closing.set(true);
          // Fails, at once, the senders waiting for a dial: one still looking a host name up would
          // otherwise wait for the name server, or for requestTimeout, after the node closed. Not
          // emitted means emitted already, or being emitted by a concurrent close().
          closeCalled.tryEmitEmpty();
          return shutdown;
        });
  }

  private Mono<Void> shutdown() {
    Mono<Void> stopServer =
        Mono.defer(
            () -> {
              DisposableServer s = server;
              if (s == null) {
                return Mono.empty();
              }
              s.dispose();
              return s.onDispose();
            });
    Mono<Void> closeConnections =
        Mono.defer(
            () -> {
              NodeClosedException cause = closedError();
              List<Mono<Void>> closed = new ArrayList<>();
              for (PeerConnection pc : connections) {
                closed.add(pc.close(cause));
              }
              return Mono.when(closed);
            });
    Mono<Void> releaseLoops =
        Mono.defer(
            () ->
                options.eventLoops().isPresent()
                    ? Mono.empty()
                    : loops.disposeLater(Duration.ZERO, Duration.ofSeconds(5)));
    return stopServer
        .then(closeConnections)
        .doFinally(s -> hostLookups.dispose())
        .then(releaseLoops)
        .doOnSuccess(
            v -> {
              // A transport that never listened (its start failed) has no lifecycle to report:
              // the failure itself is what its owner tells the user.
              if (localAddress != null) {
                // The address too: several transports of one process share the default name.
                log.info("{}: closed, no longer at {}", options.name(), localAddress);
              } else {
                log.debug("{}: closed before it listened", options.name());
              }
            });
  }

  @Override
  public String toString() {
    Address a = localAddress;
    return "TcpTransport[" + options.name() + (a != null ? " " + a : "") + "]";
  }
}
