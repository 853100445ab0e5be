package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.MaintenanceJob;
import dev.kad.api.NodeId;
import dev.kad.reactor.metrics.NodeMetrics;
import dev.kad.transport.tcp.TcpTransportOptions;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.Errors;
import org.springframework.validation.Validator;

/**
 * The {@code kad.*} properties. Defaults are {@link KadConfig#defaults()} and those of {@link
 * TcpTransportOptions}, written out as literals so the generated metadata shows them to IDEs (tests
 * keep them equal); the pending-write bounds are unset by default, since the transport's own grow
 * with {@code max-frame-bytes}. Values are checked by the engine's and transport's builders, so a
 * bad one fails start-up with a message naming it.
 *
 * <p>The properties validate themselves when they are bound (Spring Boot uses a properties object
 * that is a {@link Validator}): each bad value is reported as a field error of its own property,
 * {@code kad.port must be in [0, 65535] but was 99999}, which Spring Boot's failure analysis prints
 * with the property's origin, instead of the engine's or transport's name for the setting.
 */
@ConfigurationProperties(prefix = "kad")
public class KadProperties implements Validator {

  /** Any dialable address, to ask the transport whether a host needs one. */
  private static final Address ADVERTISE_PROBE = Address.parse("127.0.0.1:0");

  /** A camel-case word, as the engine names its settings in messages. */
  private static final Pattern SETTING = Pattern.compile("\\b[a-z]+(?:[A-Z][a-z0-9]*)+\\b");

  /** The settings this class binds, by field name. */
  private static final Set<String> FIELDS =
      Arrays.stream(KadProperties.class.getDeclaredFields())
          .filter(f -> !Modifier.isStatic(f.getModifiers()))
          .map(Field::getName)
          .collect(Collectors.toUnmodifiableSet());

  /** Whether to create a node at all. */
  private boolean enabled = true;

  /** Width of node ids and keys: 160 or 256. */
  private int idBits = 160;

  /**
   * This node's id in hex (40 digits for 160 id bits, 64 for 256). Unset, each start picks a random
   * one; set it to keep the node's place in the key space across restarts.
   */
  private String nodeId;

  /** Bucket size and replication factor. */
  private int k = 20;

  /** Lookup requests in flight at once. */
  private int alpha = 3;

  /** Whether buckets off the own-id path may split too (Kademlia §4.2). */
  private boolean relaxedSplit = false;

  /** The most contacts each bucket keeps in reserve for when one of its contacts fails. */
  private int replacementCacheSize = 20;

  /**
   * A full bucket's least recently seen contact heard from within this time is not pinged when a
   * newcomer arrives.
   */
  private Duration pingGrace = Duration.ofMinutes(1);

  /** Consecutive failed requests after which a contact is removed, at least 2. */
  private int maxFailures = 5;

  /** The most contacts of one /24 (IPv4) or /48 (IPv6) subnet in one bucket; 0 for no limit. */
  private int maxPerSubnet = 0;

  /**
   * The most contacts of one public IP address (an IPv4 address, or an IPv6 /64) in one bucket; 0
   * for no limit. Loopback, private, carrier-grade NAT, link-local and unique-local addresses and
   * host names are not counted.
   */
  private int maxPerIp = 2;

  /** Host to bind the TCP transport to. */
  private String host = "127.0.0.1";

  /** Port to bind to; 0 picks a free port. */
  private int port = 0;

  /** Address other nodes dial, HOST:PORT, when it differs from the bound one. */
  private String advertise;

  /** Addresses (HOST:PORT) of nodes to join through at start-up. */
  private List<String> bootstrap = new ArrayList<>();

  /** Wire format: json, cbor or smile. */
  private String format = "json";

  /** Time after which a lookup request stalls and frees its slot. */
  private Duration softTimeout = Duration.ofMillis(500);

  /** Time after which a request fails. */
  private Duration hardTimeout = Duration.ofSeconds(5);

  /** Largest value payload accepted: a size such as 16KB, or a number of bytes. */
  private DataSize maxValueBytes = DataSize.ofKilobytes(16);

  /** Most values one key holds. */
  private int maxValuesPerKey = 64;

  /**
   * Most bytes this node stores, each value counting its payload plus 128 bytes: a size such as
   * 256MB, or a number of bytes.
   */
  private DataSize maxStoredBytes = DataSize.ofMegabytes(256);

  /** Largest message accepted: a size such as 64KB, or a number of bytes. */
  private DataSize maxFrameBytes = DataSize.ofKilobytes(64);

  /**
   * File where the node keeps the values it stores for the network, so that they survive a restart
   * (created when missing; one node per file). Unset: values are kept in memory only.
   */
  private Path storeFile;

  /** How long a stored value lives unless republished. */
  private Duration expireAfter = Duration.ofHours(24);

  /** A bucket not looked up within this time is refreshed. */
  private Duration refreshInterval = Duration.ofHours(1);

  /** How often held values are re-stored at the k closest nodes. */
  private Duration replicateInterval = Duration.ofHours(1);

  /** How often this node re-puts its own values; at most half of expire-after apart. */
  private Duration republishInterval = Duration.ofHours(24);

  /** The largest random delay added to each maintenance job's start. */
  private Duration jobJitter = Duration.ofMinutes(1);

  /** Whether the maintenance jobs run. */
  private boolean maintenance = true;

  /**
   * Which maintenance jobs run when maintenance is on: refresh, liveness, expiry, replicate,
   * republish.
   */
  private Set<MaintenanceJob> jobs = EnumSet.allOf(MaintenanceJob.class);

  /** How often expired values and subscriptions are dropped. */
  private Duration expiryInterval = Duration.ofMinutes(1);

  /** How long a watch subscription lasts before renewal. */
  private Duration subscriptionTtl = Duration.ofMinutes(10);

  /**
   * The most watchers this node keeps for one key; one public IP (whatever its ports) holds at most
   * a quarter of them.
   */
  private int maxSubscribersPerKey = 64;

  /**
   * The most keys one watcher may subscribe to at this node, whatever ids it uses: one public IP
   * from all its ports, or one private or loopback address; a watch refused at every storage node
   * reads its values at each retry instead of being pushed them.
   */
  private int maxSubscriptionsPerPeer = 1024;

  /**
   * Whether the node is a client that queries the network without being part of it: the nodes it
   * asks answer it but never add it to their routing tables (for applications that only look up,
   * get, put and watch, or that are not reachable from the network).
   */
  private boolean clientMode = false;

  /**
   * How long dialing a peer may take, and how long a peer that connected may take to send its
   * preface before its connection is closed.
   */
  private Duration connectTimeout = Duration.ofSeconds(5);

  /** How long a TCP connection may go without traffic before it is closed. */
  private Duration idleTimeout = Duration.ofMinutes(5);

  /** The most TCP connections accepted from peers; more are closed at once. */
  private int maxInboundConnections = 1024;

  /**
   * The most TCP connections accepted from one IPv4 address or IPv6 /64; more are closed at once.
   * Peers on this host (a loopback address, or the address they connected to) are not counted
   * unless per-ip-limit-for-local-peers.
   */
  private int maxInboundConnectionsPerIp = 32;

  /**
   * Whether max-inbound-connections-per-ip and max-requests-per-second-per-ip also count peers on
   * this host (a loopback address, or the address they connected to): set it when other users of
   * this host are not trusted.
   */
  private boolean perIpLimitForLocalPeers = false;

  /**
   * The most requests a second taken from one IPv4 address or IPv6 /64, with a burst of one
   * second's worth; more are answered RATE_LIMITED without reaching the node. 0 turns the bound
   * off. Peers on this host (a loopback address, or the address they connected to) are not counted
   * unless per-ip-limit-for-local-peers.
   */
  private int maxRequestsPerSecondPerIp = 1000;

  /**
   * Whether a request, on a connection either side opened, must claim, as its sender's address, a
   * host whose IP is the one its connection comes from (for IPv6, one in the same /64; or both on
   * this host); other requests are answered INVALID. The port cannot be checked. Off by default:
   * behind NAT, with a container's published port or on a multi-homed host a legitimate peer's
   * connection may come from another address than the one it advertises.
   */
  private boolean checkSenderAddress = false;

  /**
   * Whether the transport runs on Linux's native epoll transport where Netty finds it usable (NIO
   * elsewhere); false runs it on NIO everywhere.
   */
  private boolean nativeTransport = true;

  /**
   * The TCP connections this node keeps dialed to peers; dialing one more first closes the least
   * recently used idle one.
   */
  private int maxOutboundConnections = 512;

  /**
   * Inbound requests handled at once per TCP connection; while this many are unanswered, the
   * connection is not read.
   */
  private int maxConcurrentRequestsPerConnection = 256;

  /**
   * Unwritten outbound bytes of one TCP connection past which its peer, which does not read, is
   * disconnected: a size such as 1MB, or a number of bytes; at least 2 * (max-frame-bytes + 1KB).
   * Unset: 1MB, or that least value when it is more.
   */
  private DataSize maxPendingWriteBytes;

  /**
   * Unwritten outbound bytes of all TCP connections together past which a connection whose peer
   * does not read is closed when it writes: a size such as 64MB, or a number of bytes; at least 2 *
   * (max-frame-bytes + 1KB). Unset: 64MB, or max-pending-write-bytes when that is more.
   */
  private DataSize maxTotalPendingWriteBytes;

  /** TLS for every connection of the TCP transport. */
  private final Tls tls = new Tls();

  /** The node's meters. */
  private final Metrics metrics = new Metrics();

  /** The node's health indicator. */
  private final Health health = new Health();

  /**
   * The engine configuration these properties describe.
   *
   * @return the checked configuration
   * @throws IllegalArgumentException naming the first bad value
   */
  public KadConfig toConfig() {
    return KadConfig.builder()
        .idBits(idBits)
        .k(k)
        .alpha(alpha)
        .relaxedSplit(relaxedSplit)
        .replacementCacheSize(replacementCacheSize)
        .pingGrace(pingGrace)
        .maxFailures(maxFailures)
        .maxPerSubnet(maxPerSubnet)
        .maxPerIp(maxPerIp)
        .softTimeout(softTimeout)
        .hardTimeout(hardTimeout)
        .maxValueBytes(intBytes("maxValueBytes", maxValueBytes))
        .maxValuesPerKey(maxValuesPerKey)
        .maxStoredBytes(maxStoredBytes.toBytes())
        .maxFrameBytes(intBytes("maxFrameBytes", maxFrameBytes))
        .expireAfter(expireAfter)
        .refreshInterval(refreshInterval)
        .replicateInterval(replicateInterval)
        .republishInterval(republishInterval)
        .jobJitter(jobJitter)
        .maintenance(maintenance)
        .jobs(jobs)
        .expiryInterval(expiryInterval)
        .subscriptionTtl(subscriptionTtl)
        .maxSubscribersPerKey(maxSubscribersPerKey)
        .maxSubscriptionsPerPeer(maxSubscriptionsPerPeer)
        .clientMode(clientMode)
        .build();
  }

  /**
   * The node's id: {@code node-id} when set, otherwise a random one.
   *
   * @param config the configuration whose {@code idBits} the id must have
   * @param random where a random id comes from
   * @return the id
   * @throws IllegalArgumentException naming {@code node-id} when it is not hex of the width
   */
  public NodeId nodeId(KadConfig config, RandomGenerator random) {
    if (nodeId == null || nodeId.isBlank()) {
      return NodeId.random(config.idBits(), random);
    }
    NodeId id;
    try {
      id = NodeId.parse(nodeId.strip());
    } catch (IllegalArgumentException e) {
      // The parser names the value "node id"; said of the property, that read "kad.node-id id".
      String message = String.valueOf(e.getMessage());
      throw new IllegalArgumentException(
          message.startsWith("node id ")
              ? "kad.node-id " + message.substring("node id ".length())
              : "kad.node-id: " + message,
          e);
    }
    if (id.bits() != config.idBits()) {
      throw new IllegalArgumentException(
          "kad.node-id must have "
              + config.idBits() / 4
              + " hex digits for id-bits "
              + config.idBits()
              + " but was '"
              + nodeId
              + "'");
    }
    return id;
  }

  /**
   * The bootstrap addresses, parsed. Blank entries (a trailing comma in {@code
   * KAD_BOOTSTRAP=a:7000,}) are left out.
   *
   * @return the addresses
   * @throws IllegalArgumentException naming an address that does not parse
   */
  public List<Address> bootstrapAddresses() {
    return bootstrap.stream().filter(a -> a != null && !a.isBlank()).map(Address::parse).toList();
  }

  @Override
  public boolean supports(Class<?> type) {
    return KadProperties.class.isAssignableFrom(type);
  }

  /**
   * Checks every value on its own, then the engine settings together, rejecting each bad one under
   * its property's name.
   */
  @Override
  public void validate(Object target, Errors errors) {
    KadProperties p = (KadProperties) target;
    KadConfig.Builder engine = KadConfig.builder();
    check(errors, "idBits", p.idBits, v -> engine.idBits(v));
    check(errors, "k", p.k, v -> engine.k(v));
    check(errors, "alpha", p.alpha, v -> engine.alpha(v));
    check(errors, "replacementCacheSize", p.replacementCacheSize, engine::replacementCacheSize);
    check(errors, "pingGrace", p.pingGrace, engine::pingGrace);
    check(errors, "maxFailures", p.maxFailures, engine::maxFailures);
    check(errors, "maxPerSubnet", p.maxPerSubnet, engine::maxPerSubnet);
    check(errors, "maxPerIp", p.maxPerIp, engine::maxPerIp);
    check(errors, "softTimeout", p.softTimeout, engine::softTimeout);
    check(errors, "hardTimeout", p.hardTimeout, engine::hardTimeout);
    check(
        errors,
        "maxValueBytes",
        p.maxValueBytes,
        v -> engine.maxValueBytes(intBytes("maxValueBytes", v)));
    check(errors, "maxValuesPerKey", p.maxValuesPerKey, engine::maxValuesPerKey);
    check(errors, "maxStoredBytes", p.maxStoredBytes, v -> engine.maxStoredBytes(v.toBytes()));
    check(
        errors,
        "maxFrameBytes",
        p.maxFrameBytes,
        v -> engine.maxFrameBytes(intBytes("maxFrameBytes", v)));
    check(errors, "expireAfter", p.expireAfter, engine::expireAfter);
    check(errors, "refreshInterval", p.refreshInterval, engine::refreshInterval);
    check(errors, "replicateInterval", p.replicateInterval, engine::replicateInterval);
    check(errors, "republishInterval", p.republishInterval, engine::republishInterval);
    check(errors, "jobJitter", p.jobJitter, engine::jobJitter);
    check(errors, "jobs", p.jobs, engine::jobs);
    if (p.maintenance && p.jobs != null && p.jobs.isEmpty()) {
      // An empty kad.jobs= (a blank environment variable, say) would stop every job unsaid.
      errors.rejectValue(
          "jobs",
          "kad.invalid",
          "kad.jobs is empty, which would run no maintenance job: list the jobs to run (refresh,"
              + " liveness, expiry, replicate, republish), or set kad.maintenance=false to run"
              + " none");
    }
    check(errors, "expiryInterval", p.expiryInterval, engine::expiryInterval);
    check(errors, "subscriptionTtl", p.subscriptionTtl, engine::subscriptionTtl);
    check(errors, "maxSubscribersPerKey", p.maxSubscribersPerKey, engine::maxSubscribersPerKey);
    check(
        errors,
        "maxSubscriptionsPerPeer",
        p.maxSubscriptionsPerPeer,
        engine::maxSubscriptionsPerPeer);
    TcpTransportOptions.Builder transport = TcpTransportOptions.builder();
    check(errors, "host", p.host, transport::bindHost);
    check(errors, "port", p.port, transport::bindPort);
    check(errors, "connectTimeout", p.connectTimeout, transport::connectTimeout);
    check(errors, "idleTimeout", p.idleTimeout, transport::idleTimeout);
    check(
        errors, "maxInboundConnections", p.maxInboundConnections, transport::maxInboundConnections);
    check(
        errors,
        "maxInboundConnectionsPerIp",
        p.maxInboundConnectionsPerIp,
        transport::maxInboundConnectionsPerIp);
    check(
        errors,
        "maxRequestsPerSecondPerIp",
        p.maxRequestsPerSecondPerIp,
        transport::maxRequestsPerSecondPerIp);
    check(
        errors,
        "maxOutboundConnections",
        p.maxOutboundConnections,
        transport::maxOutboundConnections);
    check(
        errors,
        "maxConcurrentRequestsPerConnection",
        p.maxConcurrentRequestsPerConnection,
        transport::maxConcurrentRequestsPerConnection);
    // Unset, the bounds are the transport's, which grow with max-frame-bytes.
    if (p.maxPendingWriteBytes != null) {
      check(
          errors,
          "maxPendingWriteBytes",
          p.maxPendingWriteBytes,
          v -> transport.maxPendingWriteBytes(intBytes("maxPendingWriteBytes", v)));
      checkAgainstFrame(
          errors,
          "maxPendingWriteBytes",
          p,
          probe ->
              probe.maxPendingWriteBytes(intBytes("maxPendingWriteBytes", p.maxPendingWriteBytes)));
    }
    if (p.maxTotalPendingWriteBytes != null) {
      check(
          errors,
          "maxTotalPendingWriteBytes",
          p.maxTotalPendingWriteBytes,
          v -> transport.maxTotalPendingWriteBytes(v.toBytes()));
      checkAgainstFrame(
          errors,
          "maxTotalPendingWriteBytes",
          p,
          probe -> probe.maxTotalPendingWriteBytes(p.maxTotalPendingWriteBytes.toBytes()));
    }
    if (p.advertise != null && !p.advertise.isBlank()) {
      check(errors, "advertise", p.advertise, v -> transport.advertisedAddress(Address.parse(v)));
    } else if (!errors.hasFieldErrors("host") && needsAdvertise(p.host)) {
      // The transport would refuse it only when the node's beans are made, naming its settings.
      errors.rejectValue(
          "advertise",
          "kad.missing",
          "kad.advertise must be set when kad.host is the wildcard '"
              + p.host
              + "': other nodes cannot dial it");
    }
    check(errors, "format", p.format, KadAutoConfiguration::format);
    for (int i = 0; i < p.bootstrap.size(); i++) {
      String address = p.bootstrap.get(i);
      if (address != null && !address.isBlank()) {
        check(errors, "bootstrap[" + i + "]", address, KadProperties::seed);
      }
    }
    p.metrics.tags.forEach(
        (key, value) -> {
          String field = "metrics.tags[" + key + "]";
          if (Metrics.RESERVED_TAG_KEYS.contains(key)) {
            errors.rejectValue(
                field,
                "kad.invalid",
                "kad.metrics.tags must not use the key '"
                    + key
                    + "': kad's meters set type, kind and outcome themselves");
          } else if (value == null || value.isBlank()) {
            errors.rejectValue(
                field, "kad.invalid", "kad.metrics.tags." + key + " must not be blank");
          }
        });
    if (p.health.silenceThreshold != null) {
      check(
          errors,
          "health.silenceThreshold",
          p.health.silenceThreshold,
          v -> KadNodeLifecycle.checkSilenceThreshold("kad.health.silence-threshold", v));
    }
    checkValueFitsFrame(errors, p);
    if (errors.hasErrors()) {
      return;
    }
    // Each value is good on its own: what is left are rules between them.
    try {
      KadConfig config = p.toConfig();
      if (p.nodeId != null && !p.nodeId.isBlank()) {
        check(errors, "nodeId", p.nodeId, v -> p.nodeId(config, RandomGenerator.getDefault()));
      }
    } catch (IllegalArgumentException e) {
      errors.reject(
          "kad.invalid",
          "kad.* settings disagree: " + inPropertyNames(String.valueOf(e.getMessage())));
    }
  }

  /**
   * The engine's rule that a signed value of {@code max-value-bytes} fits one message of {@code
   * max-frame-bytes} beside k contacts, reported under {@code max-value-bytes} with the largest
   * size that fits: the engine's own message names only one bound at a time (first that the value
   * is at most the frame, then that it does not fit), so a user following the first would meet the
   * second.
   */
  private static void checkValueFitsFrame(Errors errors, KadProperties p) {
    for (String field : List.of("maxValueBytes", "maxFrameBytes", "k", "idBits")) {
      if (errors.hasFieldErrors(field)) {
        return;
      }
    }
    int frame = intBytes("maxFrameBytes", p.maxFrameBytes);
    long value = p.maxValueBytes.toBytes();
    if (value <= frame && fits(frame, p.k, p.idBits, (int) value)) {
      // The usual case, one build: the search for the largest size is for a message only.
      return;
    }
    int largest = largestValueBytes(frame, p.k, p.idBits);
    // None fits: k contacts fill the frame, which the engine's own message says.
    if (largest < 1 || value <= largest) {
      return;
    }
    errors.rejectValue(
        "maxValueBytes",
        "kad.invalid",
        "kad.max-value-bytes must be at most "
            + largest
            + " bytes for kad.max-frame-bytes ("
            + readable(p.maxFrameBytes)
            + ") but was "
            + readable(p.maxValueBytes)
            + ": a signed value, encoded, must fit one message beside k = "
            + p.k
            + " contacts; raise kad.max-frame-bytes for larger values");
  }

  /** A size as it would be written: {@code 64KB}, {@code 1MB}, {@code 1000B}. */
  static String readable(DataSize size) {
    long bytes = size.toBytes();
    if (bytes != 0 && bytes % (1 << 20) == 0) {
      return bytes / (1 << 20) + "MB";
    }
    if (bytes != 0 && bytes % 1024 == 0) {
      return bytes / 1024 + "KB";
    }
    return bytes + "B";
  }

  /**
   * The largest value payload the engine accepts with this frame size, k and id width, found by
   * asking the engine's own rule, so that the two never disagree; 0 when none fits.
   */
  static int largestValueBytes(int maxFrameBytes, int k, int idBits) {
    int lo = 0;
    int hi = maxFrameBytes;
    while (lo < hi) {
      int mid = (int) (((long) lo + hi + 1) / 2);
      if (fits(maxFrameBytes, k, idBits, mid)) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  private static boolean fits(int maxFrameBytes, int k, int idBits, int valueBytes) {
    return builds(
        KadConfig.builder()
            .idBits(idBits)
            .k(k)
            .maxFrameBytes(maxFrameBytes)
            .maxValueBytes(valueBytes)
            .maxStoredBytes(Long.MAX_VALUE));
  }

  private static boolean builds(KadConfig.Builder config) {
    try {
      config.build();
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Whether the transport refuses {@code host} unless an address to advertise is set (a wildcard:
   * 0.0.0.0, ::), asked of the transport itself so that the two never disagree.
   */
  private static boolean needsAdvertise(String host) {
    return !builds(TcpTransportOptions.builder().bindHost(host))
        && builds(TcpTransportOptions.builder().bindHost(host).advertisedAddress(ADVERTISE_PROBE));
  }

  private static boolean builds(TcpTransportOptions.Builder options) {
    try {
      options.build();
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * The transport's rule between a pending-write bound and {@code max-frame-bytes} (room for two
   * frames), applied once both values are good on their own and reported under the bound.
   */
  private static void checkAgainstFrame(
      Errors errors, String field, KadProperties p, Consumer<TcpTransportOptions.Builder> bound) {
    if (errors.hasFieldErrors(field) || errors.hasFieldErrors("maxFrameBytes")) {
      return;
    }
    check(
        errors,
        field,
        p.maxFrameBytes,
        frame -> {
          // Only the frame size and the bound differ from the defaults; a value of 1 byte fits any
          // frame, so no other rule can refuse the probe.
          TcpTransportOptions.Builder probe =
              TcpTransportOptions.builder()
                  .maxFrameBytes(intBytes("maxFrameBytes", frame))
                  .maxValueBytes(1);
          bound.accept(probe);
          try {
            probe.build();
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                String.valueOf(e.getMessage()).replace("maxFrameBytes", "kad.max-frame-bytes"), e);
          }
        });
  }

  /** A size the engine takes as an {@code int} of bytes. */
  static int intBytes(String setting, DataSize size) {
    long bytes = size.toBytes();
    if (bytes > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(
          setting + " must be at most " + Integer.MAX_VALUE + " bytes but was " + size);
    }
    return (int) bytes;
  }

  /** A setting's check, which throws {@link IllegalArgumentException} for a bad value. */
  private interface Check<T> {
    void accept(T value);
  }

  /** Parses a bootstrap address, refusing one no node can dial, as the engine's bootstrap does. */
  private static void seed(String text) {
    KadNodeLifecycle.checkSeed(Address.parse(text), text);
  }

  private static <T> void check(Errors errors, String field, T value, Check<T> setter) {
    String property = property(field);
    if (value == null) {
      errors.rejectValue(field, "kad.missing", property + " must be set");
      return;
    }
    try {
      setter.accept(value);
    } catch (IllegalArgumentException | NullPointerException e) {
      errors.rejectValue(field, "kad.invalid", named(property, String.valueOf(e.getMessage())));
    }
  }

  /** The property a field binds: {@code maxValueBytes} is {@code kad.max-value-bytes}. */
  private static String property(String field) {
    return "kad." + field.replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
  }

  /**
   * A message about several settings with each one this class binds under its property's name:
   * {@code maxValueBytes must be in [1, 65536]} becomes {@code kad.max-value-bytes must be ...}, so
   * that nothing reads as a setting the user never wrote. Words that name no property stay.
   */
  static String inPropertyNames(String message) {
    return SETTING
        .matcher(message)
        .replaceAll(
            m ->
                Matcher.quoteReplacement(
                    FIELDS.contains(m.group()) ? property(m.group()) : m.group()));
  }

  /**
   * The message of a refused value with the property's name in place of the setting's: {@code
   * bindPort must be ...} becomes {@code kad.port must be ...}.
   */
  private static String named(String property, String message) {
    if (message.startsWith(property)) {
      return message;
    }
    int space = message.indexOf(' ');
    if (space > 0 && message.substring(0, space).matches("[A-Za-z]+")) {
      return property + message.substring(space);
    }
    return property + ": " + message;
  }

  public boolean isEnabled() {
    return enabled;
  }

  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  public String getNodeId() {
    return nodeId;
  }

  public void setNodeId(String nodeId) {
    this.nodeId = nodeId;
  }

  public int getIdBits() {
    return idBits;
  }

  public void setIdBits(int idBits) {
    this.idBits = idBits;
  }

  public int getK() {
    return k;
  }

  public void setK(int k) {
    this.k = k;
  }

  public int getAlpha() {
    return alpha;
  }

  public void setAlpha(int alpha) {
    this.alpha = alpha;
  }

  public boolean isRelaxedSplit() {
    return relaxedSplit;
  }

  public void setRelaxedSplit(boolean relaxedSplit) {
    this.relaxedSplit = relaxedSplit;
  }

  public int getReplacementCacheSize() {
    return replacementCacheSize;
  }

  public void setReplacementCacheSize(int replacementCacheSize) {
    this.replacementCacheSize = replacementCacheSize;
  }

  public Duration getPingGrace() {
    return pingGrace;
  }

  public void setPingGrace(Duration pingGrace) {
    this.pingGrace = pingGrace;
  }

  public int getMaxFailures() {
    return maxFailures;
  }

  public void setMaxFailures(int maxFailures) {
    this.maxFailures = maxFailures;
  }

  public int getMaxPerSubnet() {
    return maxPerSubnet;
  }

  public void setMaxPerSubnet(int maxPerSubnet) {
    this.maxPerSubnet = maxPerSubnet;
  }

  public int getMaxPerIp() {
    return maxPerIp;
  }

  public void setMaxPerIp(int maxPerIp) {
    this.maxPerIp = maxPerIp;
  }

  public String getHost() {
    return host;
  }

  public void setHost(String host) {
    this.host = host;
  }

  public int getPort() {
    return port;
  }

  public void setPort(int port) {
    this.port = port;
  }

  public String getAdvertise() {
    return advertise;
  }

  public void setAdvertise(String advertise) {
    this.advertise = advertise;
  }

  public List<String> getBootstrap() {
    return bootstrap;
  }

  public void setBootstrap(List<String> bootstrap) {
    this.bootstrap = bootstrap;
  }

  public String getFormat() {
    return format;
  }

  public void setFormat(String format) {
    this.format = format;
  }

  public Duration getSoftTimeout() {
    return softTimeout;
  }

  public void setSoftTimeout(Duration softTimeout) {
    this.softTimeout = softTimeout;
  }

  public Duration getHardTimeout() {
    return hardTimeout;
  }

  public void setHardTimeout(Duration hardTimeout) {
    this.hardTimeout = hardTimeout;
  }

  public DataSize getMaxValueBytes() {
    return maxValueBytes;
  }

  public void setMaxValueBytes(DataSize maxValueBytes) {
    this.maxValueBytes = maxValueBytes;
  }

  public int getMaxValuesPerKey() {
    return maxValuesPerKey;
  }

  public void setMaxValuesPerKey(int maxValuesPerKey) {
    this.maxValuesPerKey = maxValuesPerKey;
  }

  public DataSize getMaxStoredBytes() {
    return maxStoredBytes;
  }

  public void setMaxStoredBytes(DataSize maxStoredBytes) {
    this.maxStoredBytes = maxStoredBytes;
  }

  public Path getStoreFile() {
    return storeFile;
  }

  public void setStoreFile(Path storeFile) {
    this.storeFile = storeFile;
  }

  public DataSize getMaxFrameBytes() {
    return maxFrameBytes;
  }

  public void setMaxFrameBytes(DataSize maxFrameBytes) {
    this.maxFrameBytes = maxFrameBytes;
  }

  public Duration getExpireAfter() {
    return expireAfter;
  }

  public void setExpireAfter(Duration expireAfter) {
    this.expireAfter = expireAfter;
  }

  public Duration getRefreshInterval() {
    return refreshInterval;
  }

  public void setRefreshInterval(Duration refreshInterval) {
    this.refreshInterval = refreshInterval;
  }

  public Duration getReplicateInterval() {
    return replicateInterval;
  }

  public void setReplicateInterval(Duration replicateInterval) {
    this.replicateInterval = replicateInterval;
  }

  public Duration getRepublishInterval() {
    return republishInterval;
  }

  public void setRepublishInterval(Duration republishInterval) {
    this.republishInterval = republishInterval;
  }

  public Duration getJobJitter() {
    return jobJitter;
  }

  public void setJobJitter(Duration jobJitter) {
    this.jobJitter = jobJitter;
  }

  public Set<MaintenanceJob> getJobs() {
    return jobs;
  }

  public void setJobs(Set<MaintenanceJob> jobs) {
    this.jobs = jobs;
  }

  public Duration getExpiryInterval() {
    return expiryInterval;
  }

  public void setExpiryInterval(Duration expiryInterval) {
    this.expiryInterval = expiryInterval;
  }

  public boolean isMaintenance() {
    return maintenance;
  }

  public void setMaintenance(boolean maintenance) {
    this.maintenance = maintenance;
  }

  public Duration getSubscriptionTtl() {
    return subscriptionTtl;
  }

  public void setSubscriptionTtl(Duration subscriptionTtl) {
    this.subscriptionTtl = subscriptionTtl;
  }

  public int getMaxSubscribersPerKey() {
    return maxSubscribersPerKey;
  }

  public void setMaxSubscribersPerKey(int maxSubscribersPerKey) {
    this.maxSubscribersPerKey = maxSubscribersPerKey;
  }

  public int getMaxSubscriptionsPerPeer() {
    return maxSubscriptionsPerPeer;
  }

  public void setMaxSubscriptionsPerPeer(int maxSubscriptionsPerPeer) {
    this.maxSubscriptionsPerPeer = maxSubscriptionsPerPeer;
  }

  public boolean isClientMode() {
    return clientMode;
  }

  public void setClientMode(boolean clientMode) {
    this.clientMode = clientMode;
  }

  public Duration getConnectTimeout() {
    return connectTimeout;
  }

  public void setConnectTimeout(Duration connectTimeout) {
    this.connectTimeout = connectTimeout;
  }

  public Duration getIdleTimeout() {
    return idleTimeout;
  }

  public void setIdleTimeout(Duration idleTimeout) {
    this.idleTimeout = idleTimeout;
  }

  public int getMaxInboundConnections() {
    return maxInboundConnections;
  }

  public void setMaxInboundConnections(int maxInboundConnections) {
    this.maxInboundConnections = maxInboundConnections;
  }

  public int getMaxInboundConnectionsPerIp() {
    return maxInboundConnectionsPerIp;
  }

  public void setMaxInboundConnectionsPerIp(int maxInboundConnectionsPerIp) {
    this.maxInboundConnectionsPerIp = maxInboundConnectionsPerIp;
  }

  public int getMaxRequestsPerSecondPerIp() {
    return maxRequestsPerSecondPerIp;
  }

  public void setMaxRequestsPerSecondPerIp(int maxRequestsPerSecondPerIp) {
    this.maxRequestsPerSecondPerIp = maxRequestsPerSecondPerIp;
  }

  public boolean isCheckSenderAddress() {
    return checkSenderAddress;
  }

  public void setCheckSenderAddress(boolean checkSenderAddress) {
    this.checkSenderAddress = checkSenderAddress;
  }

  public boolean isPerIpLimitForLocalPeers() {
    return perIpLimitForLocalPeers;
  }

  public void setPerIpLimitForLocalPeers(boolean perIpLimitForLocalPeers) {
    this.perIpLimitForLocalPeers = perIpLimitForLocalPeers;
  }

  public boolean isNativeTransport() {
    return nativeTransport;
  }

  public void setNativeTransport(boolean nativeTransport) {
    this.nativeTransport = nativeTransport;
  }

  public int getMaxOutboundConnections() {
    return maxOutboundConnections;
  }

  public void setMaxOutboundConnections(int maxOutboundConnections) {
    this.maxOutboundConnections = maxOutboundConnections;
  }

  public int getMaxConcurrentRequestsPerConnection() {
    return maxConcurrentRequestsPerConnection;
  }

  public void setMaxConcurrentRequestsPerConnection(int maxConcurrentRequestsPerConnection) {
    this.maxConcurrentRequestsPerConnection = maxConcurrentRequestsPerConnection;
  }

  public DataSize getMaxPendingWriteBytes() {
    return maxPendingWriteBytes;
  }

  public void setMaxPendingWriteBytes(DataSize maxPendingWriteBytes) {
    this.maxPendingWriteBytes = maxPendingWriteBytes;
  }

  public DataSize getMaxTotalPendingWriteBytes() {
    return maxTotalPendingWriteBytes;
  }

  public void setMaxTotalPendingWriteBytes(DataSize maxTotalPendingWriteBytes) {
    this.maxTotalPendingWriteBytes = maxTotalPendingWriteBytes;
  }

  public Tls getTls() {
    return tls;
  }

  public Metrics getMetrics() {
    return metrics;
  }

  /** The {@code kad.tls.*} properties. */
  public static class Tls {

    /**
     * The SSL bundle (spring.ssl.bundle.jks.NAME or spring.ssl.bundle.pem.NAME) whose key store
     * holds this node's key and certificate and whose trust store the certificates it trusts,
     * usually the cluster's CA. Set, every TCP connection in and out is TLS, with no plaintext
     * fallback, so every node of a network sets it; unset or blank, the transport is plain TCP.
     */
    private String bundle;

    /**
     * Whether peers that connect must present a certificate the bundle's trust store accepts
     * (mutual TLS): only holders of such a certificate can join. False encrypts, and lets peers
     * check this node, but accepts any peer.
     */
    private boolean requireClientAuth = true;

    /**
     * Whether a dialed peer's certificate must name the host or IP it was dialed by, as a subject
     * alternative name. Off, any holder of a trusted certificate may answer at any address; on,
     * each node's certificate must name its advertised address.
     */
    private boolean endpointIdentification = false;

    /**
     * The bundle's name, or empty when TLS is off.
     *
     * @return the trimmed name, empty when unset or blank
     */
    public Optional<String> bundleName() {
      return bundle == null || bundle.isBlank() ? Optional.empty() : Optional.of(bundle.trim());
    }

    public String getBundle() {
      return bundle;
    }

    public void setBundle(String bundle) {
      this.bundle = bundle;
    }

    public boolean isRequireClientAuth() {
      return requireClientAuth;
    }

    public void setRequireClientAuth(boolean requireClientAuth) {
      this.requireClientAuth = requireClientAuth;
    }

    public boolean isEndpointIdentification() {
      return endpointIdentification;
    }

    public void setEndpointIdentification(boolean endpointIdentification) {
      this.endpointIdentification = endpointIdentification;
    }
  }

  public Health getHealth() {
    return health;
  }

  /** The {@code kad.health.*} properties. */
  public static class Health {

    /**
     * How long a node that knows contacts may hear from no other node (no answer, no request)
     * before its health is down: its link is down or every node it knows is gone. The first node of
     * its network (no kad.bootstrap, or one of its own seeds) stays up, waiting for peers, since
     * they join through it. A joined node silent that long also bootstraps again through
     * kad.bootstrap, with back-off, until a seed answers or it is back in its network. Unset: twice
     * refresh-interval (2h by default, at least 1m) when the refresh or liveness job runs, since an
     * idle healthy node reaches out only that often; otherwise no check. 0 turns the check off;
     * otherwise at least 1m.
     */
    private Duration silenceThreshold;

    public Duration getSilenceThreshold() {
      return silenceThreshold;
    }

    public void setSilenceThreshold(Duration silenceThreshold) {
      this.silenceThreshold = silenceThreshold;
    }

    /**
     * The threshold for a node of {@code config}: the property when set, else {@link
     * KadHealthIndicator#defaultSilenceThreshold(KadConfig)}.
     *
     * @param config the node's configuration
     * @return the threshold, zero for none
     */
    public Duration silenceThreshold(KadConfig config) {
      return silenceThreshold != null
          ? silenceThreshold
          : KadHealthIndicator.defaultSilenceThreshold(config);
    }
  }

  /** The {@code kad.metrics.*} properties. */
  public static class Metrics {

    /** The tag keys kad's meters set themselves, which {@code tags} must not use. */
    static final Set<String> RESERVED_TAG_KEYS = NodeMetrics.RESERVED_TAG_KEYS;

    /**
     * Tags added to every kad meter of this node, such as node=a: needed only to tell apart several
     * nodes reporting to one registry (the application's common tags tell applications apart).
     */
    private Map<String, String> tags = new LinkedHashMap<>();

    public Map<String, String> getTags() {
      return tags;
    }

    public void setTags(Map<String, String> tags) {
      this.tags = tags;
    }
  }
}
