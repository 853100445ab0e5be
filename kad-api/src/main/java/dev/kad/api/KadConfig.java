package dev.kad.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The settings of one node. The defaults are the Kademlia paper's: k = 20, alpha = 3, values expire
 * after 24 h, buckets are refreshed and values replicated every hour, and a publisher republishes
 * its values every {@code min(republishInterval, expireAfter / 2)}: 12 h with the defaults
 * (republishInterval 24 h).
 *
 * <p>Instances are immutable and always valid: build them with {@link #builder()}, whose setters
 * reject a bad value at once with a message naming it, and whose {@link Builder#build()} checks the
 * settings against each other.
 *
 * @param idBits the width of node ids and keys, 160 or 256
 * @param k the bucket size and replication factor
 * @param alpha the number of lookup requests in flight at once
 * @param relaxedSplit whether buckets off the own-id path may split too (Kademlia §4.2)
 * @param replacementCacheSize the bound on each bucket's replacement cache
 * @param pingGrace a full bucket's least-recently-seen contact heard from within this time is not
 *     pinged when a newcomer arrives
 * @param maxFailures consecutive failed requests after which a contact is removed, at least 2
 * @param maxPerSubnet the most contacts of one /24 (IPv4) or /48 (IPv6) subnet in one bucket, 0 for
 *     no limit
 * @param maxPerIp the most contacts of one public IP address (an IPv4 address, or an IPv6 /64) in
 *     one bucket, 0 for no limit; loopback, private, carrier-grade NAT, link-local and unique-local
 *     addresses and host names are not counted
 * @param softTimeout the time after which a lookup request is stalled and frees its slot
 * @param hardTimeout the time after which a request fails
 * @param expireAfter how long a stored value lives unless republished
 * @param refreshInterval a bucket not looked up within this time is refreshed
 * @param replicateInterval how often held values are re-stored at the k closest nodes
 * @param republishInterval how often a publisher re-puts its own values, at most half of {@code
 *     expireAfter} apart
 * @param jobJitter the largest random delay added to each maintenance job's first run (at most half
 *     the job's period is used, so a first run comes within 1.5 periods)
 * @param maintenance whether the maintenance jobs run at all
 * @param jobs which maintenance jobs run when {@code maintenance} is on
 * @param expiryInterval how often expired values and subscriptions are dropped
 * @param maxValueBytes the largest value payload accepted
 * @param maxValuesPerKey the most values one key holds
 * @param maxStoredBytes the most bytes one node stores in all, each value counted as its payload
 *     plus {@link #STORED_VALUE_OVERHEAD}
 * @param maxFrameBytes the largest message a transport accepts
 * @param subscriptionTtl how long a subscription made by {@code watch} lasts before renewal
 * @param maxSubscribersPerKey the most subscribers a storage node keeps for one key, of which one
 *     public IP (an IPv4 address or IPv6 /64, whatever its ports) holds at most a quarter (at least
 *     one)
 * @param maxSubscriptionsPerPeer the most subscriptions one subscribing node may hold at a storage
 *     node: one public IP from all its ports, or one private or loopback address, whatever ids it
 *     claims
 * @param clientMode whether the node is a client: it marks every request it sends as {@linkplain
 *     dev.kad.api.message.Request#fromClient() from a client}, so that receivers answer it but
 *     never add it to their routing tables, and it never counts itself among the nodes that store a
 *     key
 */
public record KadConfig(
    int idBits,
    int k,
    int alpha,
    boolean relaxedSplit,
    int replacementCacheSize,
    Duration pingGrace,
    int maxFailures,
    int maxPerSubnet,
    int maxPerIp,
    Duration softTimeout,
    Duration hardTimeout,
    Duration expireAfter,
    Duration refreshInterval,
    Duration replicateInterval,
    Duration republishInterval,
    Duration jobJitter,
    boolean maintenance,
    Set<MaintenanceJob> jobs,
    Duration expiryInterval,
    int maxValueBytes,
    int maxValuesPerKey,
    long maxStoredBytes,
    int maxFrameBytes,
    Duration subscriptionTtl,
    int maxSubscribersPerKey,
    int maxSubscriptionsPerPeer,
    boolean clientMode) {

  /**
   * Bytes each stored value counts against {@link #maxStoredBytes()} on top of its payload: about
   * what a node keeps with it (ids, seq, expiry, keys, bookkeeping).
   */
  public static final int STORED_VALUE_OVERHEAD = 128;

  /**
   * How much later than {@link #expireAfter()} from now a value received may expire, for the
   * publisher's clock running ahead; a value set to live longer is refused, so that nothing a peer
   * stores outlives {@code expireAfter} without being stored again.
   */
  public static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(5);

  /**
   * The longest duration any setting may have, 36,500 days (about a century). The engine hands its
   * durations to schedulers in nanoseconds and adds them to instants; a longer one (say {@code
   * ChronoUnit.FOREVER.getDuration()}) would overflow there and fail the node at run time, so it is
   * refused here. To switch a job off, leave it out of {@link #jobs()}.
   */
  public static final Duration MAX_DURATION = Duration.ofDays(36_500);

  /**
   * The shortest {@code expireAfter}, {@code refreshInterval}, {@code replicateInterval}, {@code
   * republishInterval} and {@code expiryInterval} accepted: they set the periods of the maintenance
   * jobs.
   */
  public static final Duration MIN_PERIOD = Duration.ofMillis(1);

  /** A contact's share of a message besides its id and host: port, field names, punctuation. */
  private static final int CONTACT_FIELDS_WIRE_BYTES = 40;

  /**
   * A contact's share of a message besides its id, as {@link #keyWireBudget()} reckons it: a host
   * of up to 60 characters. An answer whose contacts have longer hosts lists fewer of them ({@link
   * #contactsThatFit}).
   */
  private static final int CONTACT_WIRE_BYTES = CONTACT_FIELDS_WIRE_BYTES + 60;

  /**
   * The most {@link #contactWireBytes} gives for any contact: the longest host and the widest id.
   */
  private static final long MAX_CONTACT_WIRE_BYTES =
      CONTACT_FIELDS_WIRE_BYTES + Address.MAX_HOST_LENGTH + base64(KadId.BITS_256 / 8);

  /** A message's share besides its values and contacts: request id, type, sender, key. */
  private static final int MESSAGE_WIRE_BYTES = 512;

  /** A value's share of a message besides its byte strings: field names, numbers, punctuation. */
  private static final int VALUE_WIRE_BYTES = 200;

  /** An Ed25519 public key (X.509, 44 bytes) and signature (64 bytes), as base64. */
  private static final int SIGNATURE_WIRE_BYTES = 60 + 88;

  /**
   * Checks every setting, as the builder does.
   *
   * @param idBits the width of node ids and keys, 160 or 256
   * @param k the bucket size and replication factor
   * @param alpha the number of lookup requests in flight at once
   * @param relaxedSplit whether buckets off the own-id path may split too (Kademlia §4.2)
   * @param replacementCacheSize the bound on each bucket's replacement cache
   * @param pingGrace a full bucket's least-recently-seen contact heard from within this time is not
   *     pinged when a newcomer arrives
   * @param maxFailures consecutive failed requests after which a contact is removed, at least 2
   * @param maxPerSubnet the most contacts of one /24 (IPv4) or /48 (IPv6) subnet in one bucket, 0
   *     for no limit
   * @param maxPerIp the most contacts of one public IP address (an IPv4 address, or an IPv6 /64) in
   *     one bucket, 0 for no limit
   * @param softTimeout the time after which a lookup request is stalled and frees its slot
   * @param hardTimeout the time after which a request fails
   * @param expireAfter how long a stored value lives unless republished
   * @param refreshInterval a bucket not looked up within this time is refreshed
   * @param replicateInterval how often held values are re-stored at the k closest nodes
   * @param republishInterval how often a publisher re-puts its own values, at most half of {@code
   *     expireAfter} apart
   * @param jobJitter the largest random delay added to each maintenance job's first run (at most
   *     half the job's period is used, so a first run comes within 1.5 periods)
   * @param maintenance whether the maintenance jobs run at all
   * @param jobs which maintenance jobs run when {@code maintenance} is on
   * @param expiryInterval how often expired values and subscriptions are dropped
   * @param maxValueBytes the largest value payload accepted
   * @param maxValuesPerKey the most values one key holds
   * @param maxStoredBytes the most bytes one node stores in all, each value counted as its payload
   *     plus {@link #STORED_VALUE_OVERHEAD}
   * @param maxFrameBytes the largest message a transport accepts
   * @param subscriptionTtl how long a subscription made by {@code watch} lasts before renewal
   * @param maxSubscribersPerKey the most subscribers a storage node keeps for one key, of which one
   *     public IP (an IPv4 address or IPv6 /64, whatever its ports) holds at most a quarter (at
   *     least one)
   * @param maxSubscriptionsPerPeer the most subscriptions one subscribing node may hold here: one
   *     public IP from all its ports, or one private or loopback address, whatever ids it claims
   * @param clientMode whether the node is a client that queries the network without being part of
   *     it
   * @throws IllegalArgumentException when a setting is out of range or two contradict
   * @throws NullPointerException when a duration is null
   */
  public KadConfig {
    checkBits(idBits);
    checkRange("k", k, 1, 256);
    checkRange("alpha", alpha, 1, 64);
    checkRange("replacementCacheSize", replacementCacheSize, 0, 1024);
    checkNonNegative("pingGrace", pingGrace);
    checkRange("maxFailures", maxFailures, 2, 1000);
    checkRange("maxPerSubnet", maxPerSubnet, 0, 256);
    checkRange("maxPerIp", maxPerIp, 0, 256);
    checkPositive("softTimeout", softTimeout);
    checkPositive("hardTimeout", hardTimeout);
    checkPeriod("expireAfter", expireAfter);
    checkPeriod("refreshInterval", refreshInterval);
    checkPeriod("replicateInterval", replicateInterval);
    checkPeriod("republishInterval", republishInterval);
    checkNonNegative("jobJitter", jobJitter);
    Objects.requireNonNull(jobs, "jobs");
    jobs = jobs.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(jobs));
    checkPeriod("expiryInterval", expiryInterval);
    checkRange("maxFrameBytes", maxFrameBytes, 1024, 64 * 1024 * 1024);
    checkRange("maxValueBytes", maxValueBytes, 1, maxFrameBytes);
    checkRange("maxValuesPerKey", maxValuesPerKey, 1, 1_000_000);
    if (maxStoredBytes < (long) maxValueBytes + STORED_VALUE_OVERHEAD) {
      throw new IllegalArgumentException(
          "maxStoredBytes must be at least maxValueBytes + "
              + STORED_VALUE_OVERHEAD
              + " ("
              + ((long) maxValueBytes + STORED_VALUE_OVERHEAD)
              + ") but was "
              + maxStoredBytes);
    }
    long budget = keyWireBudget(maxFrameBytes, k, idBits);
    long largest = valueWireBytes(maxValueBytes, idBits, true);
    if (largest > budget) {
      throw new IllegalArgumentException(
          "maxValueBytes "
              + maxValueBytes
              + " does not fit one message: a signed value that size takes up to "
              + largest
              + " bytes encoded, and maxFrameBytes "
              + maxFrameBytes
              + " leaves "
              + budget
              + " for a key's values next to k = "
              + k
              + " contacts: "
              + fitting(budget, maxFrameBytes, idBits));
    }
    checkPositive("subscriptionTtl", subscriptionTtl);
    checkRange("maxSubscribersPerKey", maxSubscribersPerKey, 1, 1_000_000);
    checkRange("maxSubscriptionsPerPeer", maxSubscriptionsPerPeer, 1, 1_000_000);
    if (softTimeout.compareTo(hardTimeout) > 0) {
      throw new IllegalArgumentException(
          "softTimeout must not exceed hardTimeout (" + hardTimeout + ") but was " + softTimeout);
    }
  }

  /**
   * The latest expiry a value received at {@code now} may have: {@link #expireAfter()} plus {@link
   * #MAX_CLOCK_SKEW}. Nodes refuse a value set to expire later.
   *
   * @param now when the value is received or put
   * @return the latest expiry accepted
   */
  public Instant latestExpiry(Instant now) {
    return now.plus(expireAfter).plus(MAX_CLOCK_SKEW);
  }

  /**
   * The most bytes the values of one key may take in a message: what {@code maxFrameBytes} leaves
   * next to k contacts in an answer to FindValue. A node refuses to store a value that would take
   * its key's values over this, so that every key it holds can be read in one answer, and every
   * Store of a key's values fits one message. Reckoned for the widest format (JSON, base64).
   *
   * @return the budget in bytes
   */
  public long keyWireBudget() {
    return keyWireBudget(maxFrameBytes, k, idBits);
  }

  /**
   * The most bytes {@code value} takes in a message in any wire format (JSON's base64 is the
   * widest), counted against {@link #keyWireBudget()}.
   *
   * @param value the value
   * @return the bytes, an upper bound
   */
  public long valueWireBytes(Value value) {
    // Value admits only Ed25519 lengths for a key and signature (44 and 64 bytes).
    return VALUE_WIRE_BYTES
        + base64(value.size())
        + base64(value.publisher().bits() / 8)
        + (value.isSigned() ? SIGNATURE_WIRE_BYTES : 0);
  }

  /**
   * The most bytes {@code contact} takes in a message in any wire format: its id, host and port
   * with their field names.
   *
   * @param contact the contact
   * @return the bytes, an upper bound
   */
  public long contactWireBytes(Contact contact) {
    return CONTACT_FIELDS_WIRE_BYTES
        + contact.address().host().length()
        + base64(contact.id().bits() / 8);
  }

  /**
   * The first of {@code contacts} that fit one message beside {@code values}: all of them, unless
   * their hosts are longer than {@link #keyWireBudget()} reckons with (60 characters; a host may
   * have up to {@value Address#MAX_HOST_LENGTH}) and the values leave too little room. A node
   * answering a find lists its closest contacts first, so it drops the farthest: without that, a
   * few contacts with long hosts put the answer for a full key over {@code maxFrameBytes}, and the
   * key could not be read there.
   *
   * @param contacts the contacts, closest first
   * @param values the values the message carries, each within {@link #keyWireBudget()} together
   * @return {@code contacts} itself when all fit, else its longest prefix that does
   */
  public List<Contact> contactsThatFit(List<Contact> contacts, List<Value> values) {
    long room = (long) maxFrameBytes - MESSAGE_WIRE_BYTES;
    for (Value v : values) {
      room -= valueWireBytes(v);
    }
    if (room >= contacts.size() * MAX_CONTACT_WIRE_BYTES) {
      // All fit whatever their hosts: reading each host cost every answer a cache miss or two.
      return contacts;
    }
    for (int i = 0; i < contacts.size(); i++) {
      room -= contactWireBytes(contacts.get(i));
      if (room < 0) {
        return List.copyOf(contacts.subList(0, i));
      }
    }
    return contacts;
  }

  private static long keyWireBudget(int maxFrameBytes, int k, int idBits) {
    return (long) maxFrameBytes
        - MESSAGE_WIRE_BYTES
        - (long) k * (CONTACT_WIRE_BYTES + base64(idBits / 8));
  }

  private static long valueWireBytes(int payload, int idBits, boolean signed) {
    return VALUE_WIRE_BYTES
        + base64(payload)
        + base64(idBits / 8)
        + (signed ? SIGNATURE_WIRE_BYTES : 0);
  }

  /** What to do when a signed value of maxValueBytes does not fit {@code budget}. */
  private static String fitting(long budget, int maxFrameBytes, int idBits) {
    // base64(p) = 4 * ceil(p / 3) grows with p: the largest p whose encoding fits the room left.
    long room = budget - valueWireBytes(0, idBits, true);
    long largest = Math.min(maxFrameBytes, 3 * (room / 4));
    return largest < 1
        ? "no value fits; raise maxFrameBytes or lower k"
        : "at most " + largest + " fits; raise maxFrameBytes for larger values";
  }

  private static long base64(int bytes) {
    return 4L * ((bytes + 2) / 3);
  }

  /**
   * The paper's defaults for a 160-bit id space.
   *
   * @return the default configuration
   */
  public static KadConfig defaults() {
    return builder().build();
  }

  /**
   * A builder starting from the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder starting from this configuration.
   *
   * @return a new builder holding these settings
   */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.idBits = idBits;
    b.k = k;
    b.alpha = alpha;
    b.relaxedSplit = relaxedSplit;
    b.replacementCacheSize = replacementCacheSize;
    b.pingGrace = pingGrace;
    b.maxFailures = maxFailures;
    b.maxPerSubnet = maxPerSubnet;
    b.maxPerIp = maxPerIp;
    b.softTimeout = softTimeout;
    b.hardTimeout = hardTimeout;
    b.expireAfter = expireAfter;
    b.refreshInterval = refreshInterval;
    b.replicateInterval = replicateInterval;
    b.republishInterval = republishInterval;
    b.jobJitter = jobJitter;
    b.maintenance = maintenance;
    b.jobs = jobs;
    b.expiryInterval = expiryInterval;
    b.maxValueBytes = maxValueBytes;
    b.maxValuesPerKey = maxValuesPerKey;
    b.maxStoredBytes = maxStoredBytes;
    b.maxFrameBytes = maxFrameBytes;
    b.subscriptionTtl = subscriptionTtl;
    b.maxSubscribersPerKey = maxSubscribersPerKey;
    b.maxSubscriptionsPerPeer = maxSubscriptionsPerPeer;
    b.clientMode = clientMode;
    return b;
  }

  private static void checkBits(int bits) {
    if (bits != KadId.BITS_160 && bits != KadId.BITS_256) {
      throw new IllegalArgumentException("idBits must be 160 or 256 but was " + bits);
    }
  }

  private static int checkRange(String name, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          name + " must be in [" + min + ", " + max + "] but was " + value);
    }
    return value;
  }

  private static Duration checkPositive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive but was " + value);
    }
    return checkNotTooLong(name, value);
  }

  /**
   * A duration that sets a maintenance job's period: at least {@link #MIN_PERIOD}. Nanoseconds were
   * accepted, and a job's period (a sixth of {@code refreshInterval}, half {@code expireAfter})
   * came out as zero: the job ran without pause.
   */
  private static Duration checkPeriod(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.compareTo(MIN_PERIOD) < 0) {
      throw new IllegalArgumentException(
          name + " must be at least " + MIN_PERIOD + " but was " + value);
    }
    return checkNotTooLong(name, value);
  }

  private static Duration checkNonNegative(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative but was " + value);
    }
    return checkNotTooLong(name, value);
  }

  private static Duration checkNotTooLong(String name, Duration value) {
    if (value.compareTo(MAX_DURATION) > 0) {
      throw new IllegalArgumentException(
          name + " must be at most " + MAX_DURATION + " but was " + value);
    }
    return value;
  }

  /** Collects settings; each setter rejects a bad value at once. Not thread-safe. */
  public static final class Builder {
    private int idBits = KadId.BITS_160;
    private int k = 20;
    private int alpha = 3;
    private boolean relaxedSplit = false;
    private int replacementCacheSize = 20;
    private Duration pingGrace = Duration.ofMinutes(1);
    private int maxFailures = 5;
    private int maxPerSubnet = 0;
    private int maxPerIp = 2;
    private Duration softTimeout = Duration.ofMillis(500);
    private Duration hardTimeout = Duration.ofSeconds(5);
    private Duration expireAfter = Duration.ofHours(24);
    private Duration refreshInterval = Duration.ofHours(1);
    private Duration replicateInterval = Duration.ofHours(1);
    private Duration republishInterval = Duration.ofHours(24);
    private Duration jobJitter = Duration.ofMinutes(1);
    private boolean maintenance = true;
    private Set<MaintenanceJob> jobs = EnumSet.allOf(MaintenanceJob.class);
    private Duration expiryInterval = Duration.ofMinutes(1);
    private int maxValueBytes = 16 * 1024;
    private int maxValuesPerKey = 64;
    private long maxStoredBytes = 256L * 1024 * 1024;
    private int maxFrameBytes = 64 * 1024;
    private Duration subscriptionTtl = Duration.ofMinutes(10);
    private int maxSubscribersPerKey = 64;
    private int maxSubscriptionsPerPeer = 1024;
    private boolean clientMode = false;

    private Builder() {}

    /**
     * Sets the id width.
     *
     * @param idBits 160 or 256
     * @return this builder
     * @throws IllegalArgumentException for any other width
     */
    public Builder idBits(int idBits) {
      checkBits(idBits);
      this.idBits = idBits;
      return this;
    }

    /**
     * Sets the bucket size and replication factor.
     *
     * @param k in [1, 256]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder k(int k) {
      this.k = checkRange("k", k, 1, 256);
      return this;
    }

    /**
     * Sets the lookup parallelism.
     *
     * @param alpha in [1, 64]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder alpha(int alpha) {
      this.alpha = checkRange("alpha", alpha, 1, 64);
      return this;
    }

    /**
     * Lets buckets off the own-id path split too (Kademlia §4.2).
     *
     * @param relaxedSplit whether to split relaxed
     * @return this builder
     */
    public Builder relaxedSplit(boolean relaxedSplit) {
      this.relaxedSplit = relaxedSplit;
      return this;
    }

    /**
     * Sets the bound on each bucket's replacement cache.
     *
     * @param size in [0, 1024]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder replacementCacheSize(int size) {
      this.replacementCacheSize = checkRange("replacementCacheSize", size, 0, 1024);
      return this;
    }

    /**
     * Sets the time within which a heard-from contact is not pinged.
     *
     * @param pingGrace not negative
     * @return this builder
     * @throws IllegalArgumentException when negative or over {@link #MAX_DURATION}
     */
    public Builder pingGrace(Duration pingGrace) {
      this.pingGrace = checkNonNegative("pingGrace", pingGrace);
      return this;
    }

    /**
     * Sets the consecutive failures after which a contact is removed. At least 2: a failure counts
     * only when the network was heard from since the contact's previous one, which keeps an offline
     * node's table, and with 1 the first failure of each contact would empty it.
     *
     * @param maxFailures in [2, 1000]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxFailures(int maxFailures) {
      this.maxFailures = checkRange("maxFailures", maxFailures, 2, 1000);
      return this;
    }

    /**
     * Sets the most contacts of one subnet in one bucket.
     *
     * @param maxPerSubnet in [0, 256], 0 for no limit
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxPerSubnet(int maxPerSubnet) {
      this.maxPerSubnet = checkRange("maxPerSubnet", maxPerSubnet, 0, 256);
      return this;
    }

    /**
     * Sets the most contacts of one public IP address in one bucket (2 by default), as mainline
     * BitTorrent nodes keep one per IP (libtorrent's {@code dht_restrict_routing_ips}, BEP 42): a
     * peer on one host cannot take most places of a bucket by claiming made-up ids at many ports,
     * each a distinct address. An IPv4 address counts as one IP, and so does an IPv6 /64 (a host is
     * usually given a whole /64), as the TCP transport's per-IP bounds count a source. Only public
     * addresses count: loopback (127.0.0.0/8, ::1), private (10.0.0.0/8, 172.16.0.0/12,
     * 192.168.0.0/16), carrier-grade NAT (100.64.0.0/10), link-local (169.254.0.0/16, fe80::/10)
     * and unique-local (fc00::/7) addresses, their IPv4-mapped forms, and host names (never looked
     * up) are exempt, so a cluster on one host or one private network keeps every place. A contact
     * over the limit is refused, not cached, a replacement over it is not promoted, and a bucket's
     * replacement cache keeps only the newest {@code maxPerIp} of one IP.
     *
     * @param maxPerIp in [0, 256], 0 for no limit
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxPerIp(int maxPerIp) {
      this.maxPerIp = checkRange("maxPerIp", maxPerIp, 0, 256);
      return this;
    }

    /**
     * Sets the time after which a lookup request is stalled.
     *
     * @param softTimeout positive, at most the hard timeout (checked by {@link #build()})
     * @return this builder
     * @throws IllegalArgumentException when not positive or over {@link #MAX_DURATION}
     */
    public Builder softTimeout(Duration softTimeout) {
      this.softTimeout = checkPositive("softTimeout", softTimeout);
      return this;
    }

    /**
     * Sets the time after which a request fails.
     *
     * @param hardTimeout positive
     * @return this builder
     * @throws IllegalArgumentException when not positive or over {@link #MAX_DURATION}
     */
    public Builder hardTimeout(Duration hardTimeout) {
      this.hardTimeout = checkPositive("hardTimeout", hardTimeout);
      return this;
    }

    /**
     * Sets how long a stored value lives.
     *
     * @param expireAfter at least {@link #MIN_PERIOD}
     * @return this builder
     * @throws IllegalArgumentException when under {@link #MIN_PERIOD} or over {@link #MAX_DURATION}
     */
    public Builder expireAfter(Duration expireAfter) {
      this.expireAfter = checkPeriod("expireAfter", expireAfter);
      return this;
    }

    /**
     * Sets the bucket refresh interval.
     *
     * @param refreshInterval at least {@link #MIN_PERIOD}
     * @return this builder
     * @throws IllegalArgumentException when under {@link #MIN_PERIOD} or over {@link #MAX_DURATION}
     */
    public Builder refreshInterval(Duration refreshInterval) {
      this.refreshInterval = checkPeriod("refreshInterval", refreshInterval);
      return this;
    }

    /**
     * Sets the replication interval.
     *
     * @param replicateInterval at least {@link #MIN_PERIOD}
     * @return this builder
     * @throws IllegalArgumentException when under {@link #MIN_PERIOD} or over {@link #MAX_DURATION}
     */
    public Builder replicateInterval(Duration replicateInterval) {
      this.replicateInterval = checkPeriod("replicateInterval", replicateInterval);
      return this;
    }

    /**
     * Sets the republish interval.
     *
     * @param republishInterval at least {@link #MIN_PERIOD}
     * @return this builder
     * @throws IllegalArgumentException when under {@link #MIN_PERIOD} or over {@link #MAX_DURATION}
     */
    public Builder republishInterval(Duration republishInterval) {
      this.republishInterval = checkPeriod("republishInterval", republishInterval);
      return this;
    }

    /**
     * Sets the largest random delay added to each maintenance job's first run. A job uses at most
     * half its period of it, so its first run comes within 1.5 periods: republish then always runs
     * before values put at start expire, whatever the jitter.
     *
     * @param jobJitter not negative
     * @return this builder
     * @throws IllegalArgumentException when negative or over {@link #MAX_DURATION}
     */
    public Builder jobJitter(Duration jobJitter) {
      this.jobJitter = checkNonNegative("jobJitter", jobJitter);
      return this;
    }

    /**
     * Turns the maintenance jobs on or off.
     *
     * @param maintenance whether they run
     * @return this builder
     */
    public Builder maintenance(boolean maintenance) {
      this.maintenance = maintenance;
      return this;
    }

    /**
     * Chooses which maintenance jobs run (all by default) when maintenance is on.
     *
     * @param jobs the jobs to run
     * @return this builder
     * @throws NullPointerException when {@code jobs} is null
     */
    public Builder jobs(Set<MaintenanceJob> jobs) {
      this.jobs = Set.copyOf(Objects.requireNonNull(jobs, "jobs"));
      return this;
    }

    /**
     * Sets how often expired values and subscriptions are dropped (they are never served after
     * their expiry either way).
     *
     * @param expiryInterval at least {@link #MIN_PERIOD}
     * @return this builder
     * @throws IllegalArgumentException when under {@link #MIN_PERIOD} or over {@link #MAX_DURATION}
     */
    public Builder expiryInterval(Duration expiryInterval) {
      this.expiryInterval = checkPeriod("expiryInterval", expiryInterval);
      return this;
    }

    /**
     * Sets the largest value payload accepted.
     *
     * @param maxValueBytes in [1, maxFrameBytes], and a signed value that size must fit {@link
     *     #keyWireBudget()} (both checked by {@link #build()})
     * @return this builder
     * @throws IllegalArgumentException when not positive
     */
    public Builder maxValueBytes(int maxValueBytes) {
      this.maxValueBytes = checkRange("maxValueBytes", maxValueBytes, 1, Integer.MAX_VALUE);
      return this;
    }

    /**
     * Sets the most values one key holds.
     *
     * @param maxValuesPerKey in [1, 1000000]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxValuesPerKey(int maxValuesPerKey) {
      this.maxValuesPerKey = checkRange("maxValuesPerKey", maxValuesPerKey, 1, 1_000_000);
      return this;
    }

    /**
     * Sets the most bytes one node stores: each value counts its payload plus {@link
     * #STORED_VALUE_OVERHEAD} for what is kept with it, so that empty values cannot fill memory for
     * free.
     *
     * @param maxStoredBytes positive, at least maxValueBytes + STORED_VALUE_OVERHEAD (checked by
     *     {@link #build()})
     * @return this builder
     * @throws IllegalArgumentException when not positive
     */
    public Builder maxStoredBytes(long maxStoredBytes) {
      if (maxStoredBytes <= 0) {
        throw new IllegalArgumentException(
            "maxStoredBytes must be positive but was " + maxStoredBytes);
      }
      this.maxStoredBytes = maxStoredBytes;
      return this;
    }

    /**
     * Sets the largest message a transport accepts.
     *
     * @param maxFrameBytes in [1024, 67108864]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxFrameBytes(int maxFrameBytes) {
      this.maxFrameBytes = checkRange("maxFrameBytes", maxFrameBytes, 1024, 64 * 1024 * 1024);
      return this;
    }

    /**
     * Sets how long a watch subscription lasts before renewal.
     *
     * @param subscriptionTtl positive
     * @return this builder
     * @throws IllegalArgumentException when not positive or over {@link #MAX_DURATION}
     */
    public Builder subscriptionTtl(Duration subscriptionTtl) {
      this.subscriptionTtl = checkPositive("subscriptionTtl", subscriptionTtl);
      return this;
    }

    /**
     * Sets the most subscribers a storage node keeps for one key (64 by default). A key holds one
     * subscription per address, and one public IP (an IPv4 address, or an IPv6 /64, whatever its
     * ports: the key {@link KadConfig#maxPerIp()} counts by) holds at most a quarter of its places,
     * {@code max(1, maxSubscribersPerKey / 4)}, 16 by default: a host can claim any port of its
     * own, even with the TCP transport's sender check on, and 64 made-up ports of one host took
     * every place of a key. Further Subscribes from that IP to the key are refused, while its
     * subscriptions held are renewed. Loopback, private, carrier-grade NAT, link-local and
     * unique-local addresses are exempt from the share, as from {@code maxPerIp}, so a local
     * cluster's nodes each take a place.
     *
     * @param maxSubscribersPerKey in [1, 1000000]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxSubscribersPerKey(int maxSubscribersPerKey) {
      this.maxSubscribersPerKey =
          checkRange("maxSubscribersPerKey", maxSubscribersPerKey, 1, 1_000_000);
      return this;
    }

    /**
     * Sets the most subscriptions one subscribing node may hold at this node (1024 by default): a
     * storage node refuses a peer's further subscriptions, so one peer cannot take the whole
     * registry (it holds 65,536 subscriptions in all, so at the default one peer takes at most 1/64
     * of it). A public address counts by its IP, as {@link KadConfig#maxPerIp()} does (an IPv4
     * address, or an IPv6 /64), whatever its ports and ids: a host can claim any port of its own,
     * even with the TCP transport's sender check on, and counted per address 64 made-up ports of
     * one host filled the registry. A loopback, private, carrier-grade NAT, link-local or
     * unique-local address counts on its own (host and port), so the nodes of a local cluster on
     * one host each have this room. Either way a peer claiming a watcher's id from elsewhere cannot
     * use up that watcher's room, and ids made up at one address or IP share its room;
     * subscriptions held are renewed at the bound.
     *
     * <p>In a small network the same k nodes store every key, so a node's watches of distinct keys
     * all count against this bound at each of them: a gateway watching more keys than this is
     * refused everywhere for the rest, whose watches then read their values at each retry round (at
     * most a minute apart) instead of being pushed changes at once. The default was 64, which a
     * gateway reached with its 65th key; 1024 matches the bound the web example puts on the watch
     * streams it keeps open ({@code kad.web.max-watches}); gateways behind one public IP (a NAT)
     * share it. The total, not this bound, is what bounds memory: a peer with many IPs (an IPv6
     * /56, many IPv4 addresses) passes this one.
     *
     * @param maxSubscriptionsPerPeer in [1, 1000000]
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder maxSubscriptionsPerPeer(int maxSubscriptionsPerPeer) {
      this.maxSubscriptionsPerPeer =
          checkRange("maxSubscriptionsPerPeer", maxSubscriptionsPerPeer, 1, 1_000_000);
      return this;
    }

    /**
     * Makes the node a client (off by default), as libp2p's DHT client mode and BitTorrent's
     * read-only nodes (BEP 43): for applications and short-lived processes that look up, get, put
     * and watch without serving the network. Every request it sends is marked {@linkplain
     * dev.kad.api.message.Request#fromClient() from a client}; receivers answer it as any other
     * request but never add it to their routing tables or replacement caches, so nobody sends it
     * lookups or values to store once it is gone. It keeps a routing table of its own from the
     * answers it receives, republishes the values it puts, and its watches receive pushes (a
     * subscription is not a routing-table entry). It stores a put's value only at other nodes,
     * never counting itself among the key's k closest.
     *
     * @param clientMode whether the node is a client
     * @return this builder
     */
    public Builder clientMode(boolean clientMode) {
      this.clientMode = clientMode;
      return this;
    }

    /**
     * Builds the configuration, checking the settings against each other.
     *
     * @return the configuration
     * @throws IllegalArgumentException when settings contradict (soft timeout over hard timeout,
     *     value limit over frame limit or too large for one answer next to k contacts, store limit
     *     under value limit plus {@link #STORED_VALUE_OVERHEAD})
     */
    public KadConfig build() {
      return new KadConfig(
          idBits,
          k,
          alpha,
          relaxedSplit,
          replacementCacheSize,
          pingGrace,
          maxFailures,
          maxPerSubnet,
          maxPerIp,
          softTimeout,
          hardTimeout,
          expireAfter,
          refreshInterval,
          replicateInterval,
          republishInterval,
          jobJitter,
          maintenance,
          jobs,
          expiryInterval,
          maxValueBytes,
          maxValuesPerKey,
          maxStoredBytes,
          maxFrameBytes,
          subscriptionTtl,
          maxSubscribersPerKey,
          maxSubscriptionsPerPeer,
          clientMode);
    }
  }
}
