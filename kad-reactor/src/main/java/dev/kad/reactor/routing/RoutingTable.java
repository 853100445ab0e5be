package dev.kad.reactor.routing;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadId;
import dev.kad.api.NodeId;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.reactor.routing.Bucket.Entry;
import dev.kad.reactor.routing.Insertion.Kind;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.random.RandomGenerator;

/**
 * The k-buckets of one node (Kademlia §2.2, §2.4), as plain Java: no I/O, no Reactor. The node
 * feeds it every contact it hears from and every failed request, and pings the contacts it is
 * told to ping.
 *
 * <p>Buckets partition the id space into prefix ranges kept in ascending order. The bucket
 * holding the node's own id splits when full; with {@link KadConfig#relaxedSplit()} any bucket
 * whose depth is not a multiple of {@value #SPLIT_BASE} splits too (§4.2).
 *
 * <p>Thread-safe. Writers take a short lock without I/O; readers see an immutable state
 * published through a volatile field, so they never lock and never see a half-made change.
 */
public final class RoutingTable {

  /** How precisely the table keeps "last seen" for a contact already at its bucket's tail. */
  static final Duration SEEN_RESOLUTION = Duration.ofSeconds(1);

  /** The b of Kademlia §4.2: relaxed splitting stops at depths that are multiples of it. */
  public static final int SPLIT_BASE = 5;

  private final NodeId self;
  private final KadConfig config;
  private final Clock clock;
  private final Object lock = new Object();

  /** Counts answers and inbound requests: a failure only counts after one (see failed()). */
  private long successEpoch;

  private volatile Bucket[] buckets;

  /**
   * Creates an empty table: one bucket covering the whole space.
   *
   * @param self the owning node's id
   * @param config k, replacement cache size, ping grace, max failures and subnet limit
   * @param clock the node's clock
   */
  public RoutingTable(NodeId self, KadConfig config, Clock clock) {
    this.self = Objects.requireNonNull(self, "self");
    this.config = Objects.requireNonNull(config, "config");
    this.clock = Objects.requireNonNull(clock, "clock");
    if (self.bits() != config.idBits()) {
      throw new IllegalArgumentException(
          "self id must have idBits " + config.idBits() + " but had " + self.bits());
    }
    this.buckets =
        new Bucket[] {new Bucket(new byte[self.bits() / 8], 0, List.of(), List.of(), clock.instant())};
  }

  /**
   * The owning node's id.
   *
   * @return the id
   */
  public NodeId self() {
    return self;
  }

  /**
   * Records that {@code contact} was heard from (an inbound request or an answer): moves it
   * to the tail of its bucket, adds it, or keeps it in the replacement cache of a full bucket.
   *
   * @param contact the contact heard from
   * @return what was done, and which contact to ping when a full bucket's oldest is due
   * @throws IllegalArgumentException when the contact's id has another width
   */
  public Insertion seen(Contact contact) {
    Objects.requireNonNull(contact, "contact");
    checkWidth(contact.id());
    if (contact.id().equals(self)) {
      return Insertion.of(Kind.SELF);
    }
    Instant now = clock.instant();
    synchronized (lock) {
      successEpoch++;
      while (true) {
        Bucket[] current = buckets;
        int index = indexOf(current, contact.id());
        Bucket bucket = current[index];
        int known = bucket.indexOf(contact.id());
        if (known >= 0) {
          Entry entry0 = bucket.entries.get(known);
          if (known == bucket.entries.size() - 1
              && entry0.failures() == 0
              && !entry0.pinging()
              && Duration.between(entry0.lastSeen(), now).compareTo(SEEN_RESOLUTION) < 0) {
            // Already the most recently seen, and just now: nothing to change.
            return Insertion.of(Kind.REFRESHED);
          }
          List<Entry> entries = copyWithRoom(bucket.entries);
          Entry entry = entries.remove(known);
          entries.add(entry.seen(now));
          publish(current, index, bucket.withEntries(entries));
          return Insertion.of(Kind.REFRESHED);
        }
        if (violatesSubnetLimit(bucket, contact)) {
          return Insertion.of(Kind.REJECTED_SUBNET);
        }
        if (!bucket.isFull(config.k())) {
          List<Entry> entries = copyWithRoom(bucket.entries);
          entries.add(new Entry(contact, now, 0, successEpoch, false));
          Bucket updated = bucket.withEntries(entries);
          if (containsId(bucket.replacements, contact.id())) {
            updated = updated.withReplacements(without(bucket.replacements, contact.id()));
          }
          publish(current, index, updated);
          return Insertion.of(Kind.ADDED);
        }
        if (canSplit(bucket)) {
          Bucket[] halves = bucket.split();
          Bucket[] next = new Bucket[current.length + 1];
          System.arraycopy(current, 0, next, 0, index);
          next[index] = halves[0];
          next[index + 1] = halves[1];
          System.arraycopy(current, index + 1, next, index + 2, current.length - index - 1);
          buckets = next;
          continue;
        }
        return cache(current, index, bucket, contact, now);
      }
    }
  }

  private Insertion cache(Bucket[] current, int index, Bucket bucket, Contact contact, Instant now) {
    List<Contact> cache = without(bucket.replacements, contact.id());
    if (config.replacementCacheSize() > 0) {
      cache.add(contact);
      while (cache.size() > config.replacementCacheSize()) {
        cache.remove(0);
      }
    }
    Entry oldest = bucket.entries.get(0);
    boolean due =
        !oldest.pinging()
            && Duration.between(oldest.lastSeen(), now).compareTo(config.pingGrace()) >= 0;
    List<Entry> entries = bucket.entries;
    if (due) {
      entries = new ArrayList<>(entries);
      entries.set(
          0,
          new Entry(
              oldest.contact(),
              oldest.lastSeen(),
              oldest.failures(),
              oldest.failureEpoch(),
              true));
    }
    publish(current, index, bucket.withEntries(entries).withReplacements(cache));
    return new Insertion(Kind.CACHED, due ? Optional.of(oldest.contact()) : Optional.empty());
  }

  /**
   * Reports the outcome of a ping asked for by {@link #seen(Contact)}. An answer keeps the
   * contact (moved to the tail); no answer evicts it and promotes the newest replacement.
   *
   * @param contact the pinged contact
   * @param answered whether it answered
   */
  public void pingResult(Contact contact, boolean answered) {
    if (answered) {
      seen(contact);
    } else {
      synchronized (lock) {
        evict(contact.id());
      }
    }
  }

  /**
   * Records a failed request to {@code id}. After {@link KadConfig#maxFailures()} failures in
   * a row the contact is removed and the newest replacement takes its place. A failure counts
   * only when something was heard from the network since the contact's previous counted
   * failure, so a node that has lost all connectivity does not wipe its own table.
   *
   * @param id the contact that did not answer
   * @return true when the contact was removed
   */
  public boolean failed(NodeId id) {
    Objects.requireNonNull(id, "id");
    synchronized (lock) {
      Bucket[] current = buckets;
      int index = indexOf(current, id);
      Bucket bucket = current[index];
      int at = bucket.indexOf(id);
      if (at < 0) {
        List<Contact> cache = without(bucket.replacements, id);
        if (cache.size() != bucket.replacements.size()) {
          publish(current, index, bucket.withReplacements(cache));
        }
        return false;
      }
      Entry e = bucket.entries.get(at);
      if (e.failures() > 0 && e.failureEpoch() == successEpoch) {
        return false;
      }
      int failures = e.failures() + 1;
      if (failures >= config.maxFailures()) {
        evict(id);
        return true;
      }
      List<Entry> entries = copyWithRoom(bucket.entries);
      entries.set(
          at, new Entry(e.contact(), e.lastSeen(), failures, successEpoch, e.pinging()));
      publish(current, index, bucket.withEntries(entries));
      return false;
    }
  }

  /**
   * Removes a contact outright, promoting the newest replacement of its bucket.
   *
   * @param id the contact's id
   * @return true when it was in the table
   */
  public boolean remove(NodeId id) {
    synchronized (lock) {
      return evict(id);
    }
  }

  private boolean evict(NodeId id) {
    Bucket[] current = buckets;
    int index = indexOf(current, id);
    Bucket bucket = current[index];
    int at = bucket.indexOf(id);
    if (at < 0) {
      return false;
    }
    List<Entry> entries = copyWithRoom(bucket.entries);
    entries.remove(at);
    List<Contact> cache = new ArrayList<>(bucket.replacements);
    if (!cache.isEmpty()) {
      Contact promoted = cache.remove(cache.size() - 1);
      entries.add(new Entry(promoted, clock.instant(), 0, successEpoch, false));
    }
    publish(current, index, bucket.withEntries(entries).withReplacements(cache));
    return true;
  }

  /**
   * Notes that a lookup targeted {@code target}, so its bucket needs no refresh for a while.
   *
   * @param target the id looked up
   */
  public void touch(KadId target) {
    checkWidth(target);
    Instant now = clock.instant();
    synchronized (lock) {
      Bucket[] current = buckets;
      int index = indexOf(current, target);
      publish(current, index, current[index].touched(now));
    }
  }

  /**
   * Random ids, one in each bucket not touched within {@code interval}: the targets of a
   * bucket refresh.
   *
   * @param interval how recent a touch must be to skip the bucket
   * @param random the node's random source
   * @return one id per stale bucket
   */
  public List<NodeId> staleBucketTargets(Duration interval, RandomGenerator random) {
    Instant cutoff = clock.instant().minus(interval);
    List<NodeId> targets = new ArrayList<>();
    for (Bucket b : buckets) {
      if (!b.touchedAt.isAfter(cutoff)) {
        targets.add(randomIn(b, random));
      }
    }
    return targets;
  }

  /**
   * Random ids, one in each bucket farther from this node than its closest neighbour: what
   * bootstrap refreshes after looking up its own id.
   *
   * @param random the node's random source
   * @return the refresh targets, farthest bucket first
   */
  public List<NodeId> bucketsBeyondClosestNeighbour(RandomGenerator random) {
    Bucket[] current = buckets;
    List<Contact> nearest = closest(self, 1);
    byte[] neighbour =
        nearest.isEmpty() ? new byte[self.bits() / 8] : self.distance(nearest.get(0).id()).toBytes();
    List<NodeId> targets = new ArrayList<>();
    for (Bucket b : current) {
      if (Arrays.compareUnsigned(rangeKey(b, self), neighbour) > 0) {
        targets.add(randomIn(b, random));
      }
    }
    return targets;
  }

  private NodeId randomIn(Bucket b, RandomGenerator random) {
    byte[] bytes = new byte[self.bits() / 8];
    random.nextBytes(bytes);
    int full = b.depth >>> 3;
    System.arraycopy(b.low, 0, bytes, 0, full);
    int rest = b.depth & 7;
    if (rest != 0) {
      int mask = (0xff << (8 - rest)) & 0xff;
      bytes[full] = (byte) ((b.low[full] & mask) | (bytes[full] & ~mask));
    }
    return NodeId.of(bytes);
  }

  /**
   * The {@code n} known contacts closest to {@code target}, nearest first. Visits buckets in
   * order of their distance range from the target (XOR maps each prefix range onto one
   * disjoint range of distances), so it sorts only the buckets it needs.
   *
   * @param target the id to measure from
   * @param n how many at most
   * @return the closest contacts, nearest first
   */
  public List<Contact> closest(KadId target, int n) {
    checkWidth(target);
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative but was " + n);
    }
    Bucket[] current = buckets;
    boolean[] taken = new boolean[current.length];
    long targetPrefix = Bucket.prefixOf(target);
    List<Contact> out = new ArrayList<>(Math.min(n, 64));
    while (out.size() < n) {
      // The nearest bucket not taken yet: a few linear scans beat sorting every bucket.
      int next = -1;
      for (int i = 0; i < current.length; i++) {
        if (!taken[i]
            && !current[i].entries.isEmpty()
            && (next < 0 || compareRanges(current[i], current[next], target) < 0)) {
          next = i;
        }
      }
      if (next < 0) {
        break;
      }
      taken[next] = true;
      addNearestFirst(current[next].entries, target, targetPrefix, n - out.size(), out);
    }
    return out;
  }

  /**
   * Appends up to {@code limit} of {@code entries}, nearest to {@code target} first. Sorts on
   * the first 64 bits of the XOR distance and falls back to the full comparison on a tie.
   */
  private static void addNearestFirst(
      List<Entry> entries, KadId target, long targetPrefix, int limit, List<Contact> out) {
    int size = entries.size();
    long[] keys = new long[size];
    Contact[] contacts = new Contact[size];
    for (int i = 0; i < size; i++) {
      Entry e = entries.get(i);
      Contact c = e.contact();
      long key = e.prefix() ^ targetPrefix;
      // Insertion sort: buckets hold at most k contacts.
      int j = i - 1;
      while (j >= 0 && closer(key, c, keys[j], contacts[j], target)) {
        keys[j + 1] = keys[j];
        contacts[j + 1] = contacts[j];
        j--;
      }
      keys[j + 1] = key;
      contacts[j + 1] = c;
    }
    for (int i = 0; i < size && i < limit; i++) {
      out.add(contacts[i]);
    }
  }

  private static boolean closer(long key, Contact c, long otherKey, Contact other, KadId target) {
    int cmp = Long.compareUnsigned(key, otherKey);
    return cmp < 0 || cmp == 0 && target.compareDistance(c.id(), other.id()) < 0;
  }

  /** Orders two buckets by the distance ranges {@code target} XOR maps them to. */
  private static int compareRanges(Bucket a, Bucket b, KadId target) {
    for (int i = 0; i < a.low.length; i++) {
      int x = rangeByte(a, target, i);
      int y = rangeByte(b, target, i);
      if (x != y) {
        return Integer.compare(x, y);
      }
    }
    return 0;
  }

  private static int rangeByte(Bucket b, KadId target, int i) {
    int full = b.depth >>> 3;
    if (i < full) {
      return (b.low[i] ^ target.byteAt(i)) & 0xff;
    }
    if (i == full && (b.depth & 7) != 0) {
      int mask = (0xff << (8 - (b.depth & 7))) & 0xff;
      return ((b.low[i] ^ target.byteAt(i)) & mask) & 0xff;
    }
    return 0;
  }

  /** The low end of the distances from {@code target} to ids in {@code b}. */
  private static byte[] rangeKey(Bucket b, KadId target) {
    byte[] key = new byte[b.low.length];
    int full = b.depth >>> 3;
    for (int i = 0; i < full; i++) {
      key[i] = (byte) (b.low[i] ^ target.byteAt(i));
    }
    int rest = b.depth & 7;
    if (rest != 0) {
      int mask = (0xff << (8 - rest)) & 0xff;
      key[full] = (byte) ((b.low[full] ^ target.byteAt(full)) & mask);
    }
    return key;
  }

  /**
   * When a bucket contact was last heard from.
   *
   * @param id the contact's id
   * @return the instant, or empty when it is not a bucket contact
   */
  public Optional<Instant> lastSeen(NodeId id) {
    Bucket[] current = buckets;
    Bucket b = current[indexOf(current, id)];
    int at = b.indexOf(id);
    return at < 0 ? Optional.empty() : Optional.of(b.entries.get(at).lastSeen());
  }

  /**
   * Whether the table knows {@code id} as a bucket contact.
   *
   * @param id the id
   * @return true when it is in a bucket (not only in a replacement cache)
   */
  public boolean contains(NodeId id) {
    Bucket[] current = buckets;
    return current[indexOf(current, id)].indexOf(id) >= 0;
  }

  /**
   * The number of contacts in all buckets.
   *
   * @return the size
   */
  public int size() {
    int n = 0;
    for (Bucket b : buckets) {
      n += b.entries.size();
    }
    return n;
  }

  /**
   * The number of buckets.
   *
   * @return at least 1
   */
  public int bucketCount() {
    return buckets.length;
  }

  /**
   * An immutable copy of the table, buckets ordered from the farthest range to the one
   * holding this node.
   *
   * @return the snapshot
   */
  public RoutingTableSnapshot snapshot() {
    Bucket[] current = buckets;
    Integer[] order = new Integer[current.length];
    for (int i = 0; i < current.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> compareRanges(current[b], current[a], self));
    List<RoutingTableSnapshot.Bucket> out = new ArrayList<>(current.length);
    for (int i : order) {
      Bucket b = current[i];
      List<Contact> contacts = b.entries.stream().map(Entry::contact).toList();
      out.add(new RoutingTableSnapshot.Bucket(b.low(), b.depth, contacts, b.replacements));
    }
    return new RoutingTableSnapshot(self, out);
  }

  private boolean canSplit(Bucket bucket) {
    if (bucket.depth >= self.bits()) {
      return false;
    }
    return bucket.covers(self) || (config.relaxedSplit() && bucket.depth % SPLIT_BASE != 0);
  }

  private boolean violatesSubnetLimit(Bucket bucket, Contact contact) {
    int limit = config.maxPerSubnet();
    if (limit == 0) {
      return false;
    }
    String subnet = Subnets.of(contact.address());
    int same = 0;
    for (Entry e : bucket.entries) {
      if (Subnets.of(e.contact().address()).equals(subnet)) {
        same++;
      }
    }
    return same >= limit;
  }

  private void publish(Bucket[] current, int index, Bucket replacement) {
    Bucket[] next = current.clone();
    next[index] = replacement;
    buckets = next;
  }

  /** A mutable copy with room for one more, so adding does not grow the array. */
  private static <T> List<T> copyWithRoom(List<T> list) {
    List<T> copy = new ArrayList<>(list.size() + 1);
    copy.addAll(list);
    return copy;
  }

  private static boolean containsId(List<Contact> contacts, NodeId id) {
    for (Contact c : contacts) {
      if (c.id().equals(id)) {
        return true;
      }
    }
    return false;
  }

  private static List<Contact> without(List<Contact> contacts, NodeId id) {
    List<Contact> out = new ArrayList<>(contacts.size() + 1);
    for (Contact c : contacts) {
      if (!c.id().equals(id)) {
        out.add(c);
      }
    }
    return out;
  }

  /** The bucket covering {@code id}: the last one whose low end is not above it. */
  private static int indexOf(Bucket[] current, KadId id) {
    int lo = 0;
    int hi = current.length - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (compareToLow(id, current[mid].low) >= 0) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  private static int compareToLow(KadId id, byte[] low) {
    for (int i = 0; i < low.length; i++) {
      int c = Integer.compare(id.byteAt(i) & 0xff, low[i] & 0xff);
      if (c != 0) {
        return c;
      }
    }
    return 0;
  }

  private void checkWidth(KadId id) {
    Objects.requireNonNull(id, "id");
    if (id.bits() != self.bits()) {
      throw new IllegalArgumentException(
          "id must have " + self.bits() + " bits but had " + id.bits() + ": " + id);
    }
  }
}
