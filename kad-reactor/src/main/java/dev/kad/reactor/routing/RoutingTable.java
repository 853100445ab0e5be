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
 * feeds it every contact it hears from and every failed request, and pings the contacts it is told
 * to ping.
 *
 * <p>Buckets partition the id space into prefix ranges kept in ascending order. The bucket holding
 * the node's own id splits when full; with {@link KadConfig#relaxedSplit()} any bucket whose depth
 * is not a multiple of {@value #SPLIT_BASE} splits too (§4.2).
 *
 * <p>Thread-safe. Writers take a short lock without I/O; readers see an immutable state published
 * through a volatile field, so they never lock and never see a half-made change.
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
   * @param config k, replacement cache size, ping grace, max failures, IP and subnet limits
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
    this.buckets = new Bucket[] {new Bucket(new byte[self.bits() / 8], 0, clock.instant())};
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
   * Records that {@code contact} was heard from (an inbound request, which claims its address; an
   * answer, proven at the address dialed, goes to {@link #answered(Contact)}): moves it to the tail
   * of its bucket, adds it, or keeps it in the replacement cache of a full bucket. A known id heard
   * from at another address than the table's changes nothing, in a bucket or in a replacement
   * cache: the table keeps the first address until it fails and is removed. An address (host and
   * port) holds one id per bucket, its contacts and replacement cache together: a new id at an
   * address another id holds in the bucket it lands in is refused ({@link
   * Kind#REJECTED_ADDRESS_TAKEN}), so a peer making up ids at one address takes one place per
   * bucket at most.
   *
   * @param contact the contact heard from
   * @return what was done, and which contact to ping when a full bucket's oldest is due
   * @throws IllegalArgumentException when the contact's id has another width
   */
  public Insertion seen(Contact contact) {
    return seen(contact, true, false);
  }

  /**
   * Records that {@code contact} answered at its address, which this node dialed: as {@link
   * #seen(Contact)}, but the address is proven to serve this id now, so another id holding it in
   * the contact's bucket (a node restarted there with a new id) is not there any more and is
   * dropped, without a replacement promoted in its place: the contact takes it. A message that only
   * claims the address, an inbound request, goes to {@link #seen(Contact)}.
   *
   * @param contact the contact that answered, at the address dialed
   * @return what was done, and which contact to ping when a full bucket's oldest is due
   * @throws IllegalArgumentException when the contact's id has another width
   */
  public Insertion answered(Contact contact) {
    return seen(contact, true, true);
  }

  /**
   * As {@link #seen(Contact)}; with {@code mayPing} false a full bucket's oldest is never marked as
   * being pinged, for a caller that has nobody to send that ping; with {@code proven} true as
   * {@link #answered(Contact)}.
   */
  private Insertion seen(Contact contact, boolean mayPing, boolean proven) {
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
          Entry entry = bucket.entry(known);
          Contact held = entry.contact();
          // Mostly the very contact held (answers pass the held objects around): comparing the
          // references reads nothing more of either.
          if (held != contact && !held.address().equals(contact.address())) {
            // The id keeps its first address: a peer cannot take it over by claiming it from
            // elsewhere. Nor does a message from elsewhere show that address alive: it would reset
            // the failures of a node that moved, which then never left the table to rejoin at
            // its new address, and let anyone keep a dead contact in the table.
            return Insertion.of(Kind.OTHER_ADDRESS);
          }
          if (known == bucket.size() - 1
              && entry.failures() == 0
              && !entry.pinging()
              && Duration.between(entry.lastSeen(), now).compareTo(SEEN_RESOLUTION) < 0) {
            // Already the most recently seen, and just now: nothing to change.
            return Insertion.of(Kind.REFRESHED);
          }
          publish(current, index, bucket.movedToTail(known, entry.seen(now)));
          return Insertion.of(Kind.REFRESHED);
        }
        int cached = bucket.replacements().indexOf(contact.id());
        if (cached >= 0 && !bucket.replacements().get(cached).address().equals(contact.address())) {
          // A replacement keeps its first address, as a bucket's contact does: a peer claiming a
          // waiting id from its own address would otherwise be promoted, or added, under that id.
          // Nor does the claim count as news of a newcomer that makes the oldest due for a ping.
          return Insertion.of(Kind.OTHER_ADDRESS);
        }
        if (!Subnets.dialable(contact.address())) {
          return Insertion.of(Kind.REJECTED_ADDRESS);
        }
        boolean full = bucket.isFull(config.k());
        // A full bucket that splits is not where the contact lands: the limits count the half it
        // falls in, which may hold none of its subnet, nor its address.
        if (!full || !canSplit(bucket)) {
          int holder = bucket.members().indexOfOtherAt(contact.address(), contact.id());
          int waiting =
              holder >= 0
                  ? -1
                  : bucket.replacements().indexOfOtherAt(contact.address(), contact.id());
          if (holder >= 0 || waiting >= 0) {
            if (!proven) {
              // Another id holds the address here: a peer making up ids at one address (one that
              // never answers) would take every free place and every replacement, and each answer
              // naming them would cost a timeout. The holder is neither refreshed nor failed.
              return Insertion.of(Kind.REJECTED_ADDRESS_TAKEN);
            }
            // The address answered as this id: the holder is not there (a restart with a new id).
            // Dropped without a promotion, so the contact takes its place.
            publish(
                current,
                index,
                holder >= 0
                    ? bucket.minus(holder)
                    : bucket.withReplacements(bucket.replacements().minus(waiting)));
            continue;
          }
          if (violatesIpLimit(bucket, contact)) {
            if (!proven) {
              return Insertion.of(Kind.REJECTED_IP);
            }
            // An answer proves the address, while a member at its IP may be a claim nobody
            // proved: made-up ids at two other ports of a host would otherwise keep the host's
            // real node out for good. The least recently seen of them makes room, without a
            // promotion, so the contact takes its place.
            String ip = Subnets.limitedIp(contact.address());
            publish(current, index, bucket.minus(firstAtIp(bucket.members(), ip)));
            continue;
          }
          if (violatesSubnetLimit(bucket, contact)) {
            return Insertion.of(Kind.REJECTED_SUBNET);
          }
        }
        if (!full) {
          Bucket updated = bucket.plus(new Entry(contact, now, 0, successEpoch, false));
          if (cached >= 0) {
            updated = updated.withReplacements(bucket.replacements().minus(cached));
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
        return cache(current, index, bucket, contact, now, mayPing);
      }
    }
  }

  private Insertion cache(
      Bucket[] current, int index, Bucket bucket, Contact contact, Instant now, boolean mayPing) {
    Entry oldest = bucket.entry(0);
    boolean due =
        mayPing
            && !oldest.pinging()
            && Duration.between(oldest.lastSeen(), now).compareTo(config.pingGrace()) >= 0;
    Bucket updated = bucket;
    // Already the newest replacement: caching it again changes nothing.
    if (!bucket.replacements().endsWith(contact)) {
      updated = updated.withReplacements(newest(bucket.replacements(), contact));
    }
    if (due) {
      updated = updated.with(0, oldest.pinged());
    }
    if (updated != bucket) {
      publish(current, index, updated);
    }
    return due
        ? new Insertion(Kind.CACHED, Optional.of(oldest.contact()))
        : Insertion.of(Kind.CACHED);
  }

  /**
   * The cache with {@code contact} as its newest, the oldest dropped beyond its size. It holds at
   * most {@link KadConfig#maxPerIp()} contacts of one public IP: a newer one of that IP takes the
   * place of the oldest of them, not of the oldest of all, so one host claiming made-up ids at many
   * ports cannot push every other replacement out.
   */
  private ContactArray newest(ContactArray cache, Contact contact) {
    if (config.replacementCacheSize() == 0) {
      return cache;
    }
    int limit = config.maxPerIp();
    if (limit > 0 && cache.size() >= limit && cache.indexOf(contact.id()) < 0) {
      String ip = Subnets.limitedIp(contact.address());
      if (ip != null && countAtIp(cache, ip) >= limit) {
        cache = cache.minus(firstAtIp(cache, ip));
      }
    }
    return cache.withNewest(contact, config.replacementCacheSize());
  }

  /**
   * Reports the outcome of a ping asked for by {@link #seen(Contact)}. An answer keeps the contact
   * (moved to the tail); no answer evicts it and promotes the newest replacement, unless the
   * contact was heard from while the ping was out (a lost answer does not outweigh a request it
   * sent).
   *
   * @param contact the pinged contact
   * @param answered whether it answered
   * @return whether the contact was evicted, and the replacement promoted in its place
   */
  public Removal pingResult(Contact contact, boolean answered) {
    if (answered) {
      // No probe follows from a probe's answer: the caller has no ping to send for it. When the
      // contact left its bucket while the ping was out (failures) and the bucket filled up again,
      // it comes back as a newcomer; asking for a ping of the new oldest here marked that contact
      // as being pinged with no ping ever sent, and its bucket probed nobody from then on.
      seen(contact, false, true);
      return Removal.NONE;
    }
    synchronized (lock) {
      Bucket[] current = buckets;
      Bucket bucket = current[indexOf(current, contact.id())];
      int at = bucket.indexOf(contact.id());
      // Heard from since the ping was asked for, seen() cleared the flag.
      if (at >= 0 && bucket.entry(at).pinging()) {
        return evict(contact.id());
      }
      return Removal.NONE;
    }
  }

  /**
   * Reports that a ping asked for by {@link #seen(Contact)} was not sent: the contact stays as it
   * was, neither seen nor failed, and the next newcomer to its full bucket asks for the ping again.
   *
   * @param contact the contact that was to be pinged
   */
  public void pingNotSent(Contact contact) {
    synchronized (lock) {
      Bucket[] current = buckets;
      int index = indexOf(current, contact.id());
      Bucket bucket = current[index];
      int at = bucket.indexOf(contact.id());
      if (at >= 0 && bucket.entry(at).pinging()) {
        publish(current, index, bucket.with(at, bucket.entry(at).unpinged()));
      }
    }
  }

  /**
   * Records a failed request to {@code contact}. After {@link KadConfig#maxFailures()} failures in
   * a row the contact is removed and the newest replacement takes its place. A failure counts only
   * when something was heard from the network since the contact's previous counted failure, so a
   * node that has lost all connectivity does not wipe its own table.
   *
   * <p>A failure counts only at the address the table holds for the id (in a bucket or in the
   * replacement cache): a peer that answers with a known id at a dead address would otherwise have
   * the good contact evicted by requests that never went to it.
   *
   * @param contact the contact that did not answer: its id and the address that was dialed
   * @return whether the contact was removed, and the replacement promoted in its place
   */
  public Removal failed(Contact contact) {
    Objects.requireNonNull(contact, "contact");
    NodeId id = contact.id();
    synchronized (lock) {
      Bucket[] current = buckets;
      int index = indexOf(current, id);
      Bucket bucket = current[index];
      int at = bucket.indexOf(id);
      if (at < 0) {
        ContactArray cache = bucket.replacements();
        int cached = cache.indexOf(id);
        if (cached >= 0 && cache.get(cached).address().equals(contact.address())) {
          publish(current, index, bucket.withReplacements(cache.minus(cached)));
        }
        return Removal.NONE;
      }
      Entry e = bucket.entry(at);
      if (!e.contact().address().equals(contact.address())) {
        // Another address failed, not the one the table holds (see seen(): OTHER_ADDRESS).
        return Removal.NONE;
      }
      if (e.failures() > 0 && e.failureEpoch() == successEpoch) {
        return Removal.NONE;
      }
      if (e.failures() + 1 >= config.maxFailures()) {
        return evict(id);
      }
      publish(current, index, bucket.with(at, e.failed(successEpoch)));
      return Removal.NONE;
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
      return evict(id).removed();
    }
  }

  private Removal evict(NodeId id) {
    Bucket[] current = buckets;
    int index = indexOf(current, id);
    Bucket bucket = current[index];
    int at = bucket.indexOf(id);
    if (at < 0) {
      return Removal.NONE;
    }
    Bucket updated = bucket.minus(at);
    ContactArray cache = bucket.replacements();
    // The newest replacement the IP and subnet limits admit: the cache was filled against the
    // bucket as it was then, so an IP or a subnet may have filled up since.
    Removal removal = Removal.REMOVED;
    for (int i = cache.size() - 1; i >= 0; i--) {
      Contact promoted = cache.get(i);
      if (!violatesIpLimit(updated, promoted) && !violatesSubnetLimit(updated, promoted)) {
        updated =
            updated
                .plus(new Entry(promoted, clock.instant(), 0, successEpoch, false))
                .withReplacements(cache.minus(i));
        removal = new Removal(true, Optional.of(promoted));
        break;
      }
    }
    publish(current, index, updated);
    return removal;
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
   * Random ids, one in each bucket not touched within {@code interval}: the targets of a bucket
   * refresh.
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
        nearest.isEmpty()
            ? new byte[self.bits() / 8]
            : self.distance(nearest.get(0).id()).toBytes();
    List<Bucket> beyond = new ArrayList<>();
    for (Bucket b : current) {
      if (Arrays.compareUnsigned(rangeKey(b, self), neighbour) > 0) {
        beyond.add(b);
      }
    }
    // Farthest first, as promised: the buckets are in the order of their prefixes, which is not
    // their order of distance from this node (for an id starting with a 0 bit, it is the reverse).
    beyond.sort((a, b) -> compareRanges(b, a, self));
    List<NodeId> targets = new ArrayList<>(beyond.size());
    for (Bucket b : beyond) {
      targets.add(randomIn(b, random));
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
   * The {@code n} known contacts closest to {@code target}, nearest first. Visits buckets in order
   * of their distance range from the target (XOR maps each prefix range onto one disjoint range of
   * distances), so it sorts only the buckets it needs.
   *
   * @param target the id to measure from
   * @param n how many at most
   * @return the closest contacts, nearest first
   */
  public List<Contact> closest(KadId target, int n) {
    // This node is never in its own table: leaving it out leaves nothing out.
    return closest(target, n, self);
  }

  /**
   * The {@code n} known contacts closest to {@code target} but {@code excluded}, nearest first:
   * what a find-node answer carries, which never names the node that asked.
   *
   * @param target the id to measure from
   * @param n how many at most
   * @param excluded an id left out
   * @return the closest contacts, nearest first
   */
  public List<Contact> closest(KadId target, int n, NodeId excluded) {
    checkWidth(target);
    Objects.requireNonNull(excluded, "excluded");
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative but was " + n);
    }
    Bucket[] current = buckets;
    boolean[] taken = new boolean[current.length];
    long targetPrefix = target.highBits();
    List<Contact> out = new ArrayList<>(Math.min(n, 64));
    // The insertion sort's places, shared by the buckets visited: a bucket holds at most k.
    int places = Math.min(n, config.k());
    long[] keys = new long[places];
    int[] order = new int[places];
    long[] ranges = rangePrefixes(current, targetPrefix);
    while (out.size() < n) {
      // The nearest bucket not taken yet: a few linear scans beat sorting every bucket.
      int next = -1;
      for (int i = 0; i < current.length; i++) {
        if (!taken[i]
            && !current[i].isEmpty()
            && (next < 0
                || (ranges != null
                    ? Long.compareUnsigned(ranges[i], ranges[next]) < 0
                    : compareRanges(current[i], current[next], target) < 0))) {
          next = i;
        }
      }
      if (next < 0) {
        break;
      }
      taken[next] = true;
      addNearestFirst(
          current[next].members(),
          target,
          targetPrefix,
          excluded,
          n - out.size(),
          keys,
          order,
          out);
    }
    return out;
  }

  /**
   * Appends the {@code limit} of {@code contacts} nearest to {@code target} but {@code excluded},
   * nearest first. An insertion sort into at most {@code limit} places (buckets hold at most k
   * contacts) on the first 64 bits of the XOR distance, with the full comparison on a tie. {@code
   * keys} and {@code order} are scratch space for at least that many places.
   */
  private static void addNearestFirst(
      ContactArray contacts,
      KadId target,
      long targetPrefix,
      NodeId excluded,
      int limit,
      long[] keys,
      int[] order,
      List<Contact> out) {
    int size = contacts.size();
    int places = Math.min(size, limit);
    int kept = 0;
    long excludedPrefix = excluded.highBits();
    for (int i = 0; i < size; i++) {
      if (contacts.prefix(i) == excludedPrefix && contacts.get(i).id().equals(excluded)) {
        continue;
      }
      long key = contacts.prefix(i) ^ targetPrefix;
      int j;
      if (kept < places) {
        j = kept++ - 1;
      } else if (closer(contacts, target, key, i, keys[places - 1], order[places - 1])) {
        j = places - 2; // the farthest kept one drops out
      } else {
        continue;
      }
      while (j >= 0 && closer(contacts, target, key, i, keys[j], order[j])) {
        keys[j + 1] = keys[j];
        order[j + 1] = order[j];
        j--;
      }
      keys[j + 1] = key;
      order[j + 1] = i;
    }
    for (int i = 0; i < kept; i++) {
      out.add(contacts.get(order[i]));
    }
  }

  /** Whether contact {@code a} (distance prefix {@code keyA}) is nearer than contact {@code b}. */
  private static boolean closer(
      ContactArray contacts, KadId target, long keyA, int a, long keyB, int b) {
    int cmp = Long.compareUnsigned(keyA, keyB);
    return cmp < 0
        || cmp == 0 && target.compareDistance(contacts.get(a).id(), contacts.get(b).id()) < 0;
  }

  /**
   * The first 64 bits of the lowest distance from the target to each bucket's range, or null when a
   * bucket is deeper than 64 bits. Those bits order buckets as {@link #compareRanges} does, since a
   * range's lowest distance has only zeros beyond the bucket's depth, and each bucket's are read
   * once instead of at every comparison of a scan.
   */
  private static long[] rangePrefixes(Bucket[] buckets, long targetPrefix) {
    long[] ranges = new long[buckets.length];
    for (int i = 0; i < buckets.length; i++) {
      Bucket b = buckets[i];
      if (b.depth > Long.SIZE) {
        return null;
      }
      long mask = b.depth == 0 ? 0 : -1L << (Long.SIZE - b.depth);
      ranges[i] = (b.lowHigh ^ targetPrefix) & mask;
    }
    return ranges;
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
    return at < 0 ? Optional.empty() : Optional.of(b.entry(at).lastSeen());
  }

  /**
   * Whether a bucket holds {@code contact}'s id at another address than {@code contact}'s: the id's
   * first address, which the table keeps while another claims it.
   *
   * @param contact an id and the address it claims
   * @return true when the id is a bucket contact at another address
   */
  public boolean holdsElsewhere(Contact contact) {
    Bucket[] current = buckets;
    Bucket b = current[indexOf(current, contact.id())];
    int at = b.indexOf(contact.id());
    return at >= 0 && !b.entry(at).contact().address().equals(contact.address());
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
      n += b.size();
    }
    return n;
  }

  /**
   * How many contacts the table holds at each bucket index as seen from this node (the highest bit
   * of {@code self XOR id}, {@link KadId#bucketIndex}), whatever buckets it has split into.
   *
   * @return an array of {@code idBits} counts, index 0 the closest
   */
  public int[] contactsPerBucketIndex() {
    int bits = self.bits();
    int[] counts = new int[bits];
    long own = self.highBits();
    for (Bucket b : buckets) {
      ContactArray members = b.members();
      for (int i = 0; i < members.size(); i++) {
        // From the ids' first 64 bits, kept beside the contacts, unless those equal this node's:
        // reading every contact's id cost a hand-over plan most of its time (cache misses).
        long x = members.prefix(i) ^ own;
        int index =
            x != 0
                ? bits - 1 - Long.numberOfLeadingZeros(x)
                : self.bucketIndex(members.get(i).id());
        counts[index]++;
      }
    }
    return counts;
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
   * An immutable copy of the table, buckets ordered from the farthest range to the one holding this
   * node.
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
      out.add(
          new RoutingTableSnapshot.Bucket(
              b.low(), b.depth, b.contacts(), b.replacements().asList()));
    }
    return new RoutingTableSnapshot(self, out);
  }

  private boolean canSplit(Bucket bucket) {
    if (bucket.depth >= self.bits()) {
      return false;
    }
    return bucket.covers(self) || (config.relaxedSplit() && bucket.depth % SPLIT_BASE != 0);
  }

  /**
   * Whether the bucket holds {@link KadConfig#maxPerIp()} contacts at the contact's public IP
   * already. Every insertion into a bucket that does not split passes here, mostly with addresses
   * the limit exempts (the simulated network's, a local cluster's): those return before any member
   * is read.
   */
  private boolean violatesIpLimit(Bucket bucket, Contact contact) {
    int limit = config.maxPerIp();
    if (limit == 0 || bucket.size() < limit) {
      return false;
    }
    String ip = Subnets.limitedIp(contact.address());
    return ip != null && countAtIp(bucket.members(), ip) >= limit;
  }

  /** How many of {@code contacts} are at the public IP {@code ip} ({@link Subnets#limitedIp}). */
  private static int countAtIp(ContactArray contacts, String ip) {
    int same = 0;
    for (int i = 0; i < contacts.size(); i++) {
      if (Subnets.atIp(ip, contacts.get(i).address())) {
        same++;
      }
    }
    return same;
  }

  /**
   * The first, least recently seen, of {@code contacts} at the public IP {@code ip}, which the
   * caller has counted there.
   */
  private static int firstAtIp(ContactArray contacts, String ip) {
    for (int i = 0; i < contacts.size(); i++) {
      if (Subnets.atIp(ip, contacts.get(i).address())) {
        return i;
      }
    }
    throw new IllegalStateException("no contact at " + ip + " though the IP limit was reached");
  }

  private boolean violatesSubnetLimit(Bucket bucket, Contact contact) {
    int limit = config.maxPerSubnet();
    if (limit == 0) {
      return false;
    }
    String subnet = Subnets.of(contact.address());
    int same = 0;
    for (int i = 0; i < bucket.size(); i++) {
      if (Subnets.of(bucket.members().get(i).address()).equals(subnet)) {
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
