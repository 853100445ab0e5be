package dev.kad.reactor.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.reactor.routing.Insertion.Kind;
import java.math.BigInteger;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

class RoutingTableProperties {

  @Property(tries = 200)
  void closestMatchesABruteForceSortOfTheTable(
      @ForAll long seed,
      @ForAll @IntRange(min = 0, max = 400) int contacts,
      @ForAll @IntRange(min = 1, max = 40) int n,
      @ForAll boolean relaxed,
      @ForAll boolean nearSelf) {
    SplittableRandom rng = new SplittableRandom(seed);
    NodeId self = NodeId.random(rng);
    RoutingTable table =
        new RoutingTable(
            self, KadConfig.builder().k(8).relaxedSplit(relaxed).build(), new TestClock());
    for (int i = 0; i < contacts; i++) {
      // Half the ids share long prefixes with self, so deep buckets exist.
      NodeId id =
          rng.nextBoolean() ? NodeId.random(rng) : self.randomInBucket(rng.nextInt(160), rng);
      table.seen(new Contact(id, new Address("10.0." + (i >> 8) + "." + (i & 0xff), 1)));
    }
    NodeId target = nearSelf ? self.randomInBucket(rng.nextInt(160), rng) : NodeId.random(rng);
    List<Contact> all = new ArrayList<>(table.snapshot().contacts());
    all.sort(Comparator.comparing(c -> target.distance(c.id())));
    List<Contact> expected = all.subList(0, Math.min(n, all.size()));
    assertThat(table.closest(target, n)).containsExactlyElementsOf(expected);
    int[] perIndex = new int[self.bits()];
    for (Contact c : all) {
      perIndex[self.bucketIndex(c.id())]++;
    }
    assertThat(table.contactsPerBucketIndex()).containsExactly(perIndex);
  }

  @Property(tries = 100)
  void tableInvariantsHoldAfterAnySequenceOfEvents(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 600) int events) {
    SplittableRandom rng = new SplittableRandom(seed);
    NodeId self = NodeId.random(rng);
    KadConfig config = KadConfig.builder().k(4).replacementCacheSize(2).maxFailures(2).build();
    TestClock clock = new TestClock();
    RoutingTable table = new RoutingTable(self, config, clock);
    List<Contact> pool = new ArrayList<>();
    for (int i = 0; i < 60; i++) {
      pool.add(
          // Some ids share an address: one node restarted with new ids, or made-up ones.
          new Contact(
              self.randomInBucket(150 + rng.nextInt(10), rng),
              new Address("h" + (i < 40 ? i : rng.nextInt(40)), 1)));
    }
    for (int i = 0; i < events; i++) {
      Contact c = pool.get(rng.nextInt(pool.size()));
      switch (rng.nextInt(4)) {
        case 0, 1 ->
            (rng.nextBoolean() ? table.seen(c) : table.answered(c))
                .toPing()
                .ifPresent(p -> table.pingResult(p, rng.nextBoolean()));
        case 2 -> table.failed(c);
        default -> clock.advance(java.time.Duration.ofSeconds(rng.nextInt(120)));
      }
    }
    assertInvariants(table, self, config);
  }

  /**
   * Made-up ids at many ports of a few public IPs, heard from, answering, failing and removed: no
   * bucket ever holds more than {@code maxPerIp} of one IP, neither by insertion nor by the
   * promotion of a replacement cached while its IP had room. Promotions are rare in the model
   * property above; here a third of the events remove or fail a contact the table holds.
   */
  @Property(tries = 150)
  void noBucketEverHoldsMoreContactsOfOnePublicIpThanTheLimit(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 3) int maxPerIp,
      @ForAll @IntRange(min = 1, max = 5) int k) {
    SplittableRandom rng = new SplittableRandom(seed);
    NodeId self = NodeId.random(rng);
    KadConfig config =
        KadConfig.builder().k(k).replacementCacheSize(3).maxFailures(2).maxPerIp(maxPerIp).build();
    TestClock clock = new TestClock();
    RoutingTable table = new RoutingTable(self, config, clock);
    List<Contact> pool = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      int ip = 1 + rng.nextInt(2);
      Address address =
          switch (rng.nextInt(4)) {
            case 0 -> new Address("2001:db8:0:" + ip + "::" + (i + 1), 4000);
            case 1 -> new Address("10.0.0." + ip, 4000 + i);
            default -> new Address("203.0.113." + ip, 4000 + i);
          };
      pool.add(new Contact(self.randomInBucket(156 + rng.nextInt(4), rng), address));
    }
    int steps = 50 + rng.nextInt(300);
    for (int step = 0; step < steps; step++) {
      Contact c = pool.get(rng.nextInt(pool.size()));
      List<Contact> held = table.snapshot().contacts();
      Contact member = held.isEmpty() ? c : held.get(rng.nextInt(held.size()));
      switch (rng.nextInt(6)) {
        case 0, 1 ->
            (rng.nextBoolean() ? table.seen(c) : table.answered(c))
                .toPing()
                .ifPresent(p -> table.pingResult(p, rng.nextBoolean()));
        case 2 -> table.remove(member.id());
        case 3 -> table.failed(member);
        default -> clock.advance(Duration.ofSeconds(rng.nextInt(90)));
      }
      for (var bucket : table.snapshot().buckets()) {
        Map<String, Integer> perIp = new HashMap<>();
        for (Contact held2 : bucket.contacts()) {
          String host = held2.address().host();
          if (host.startsWith("203.")) {
            perIp.merge(host, 1, Integer::sum);
          } else if (host.startsWith("2001:")) {
            perIp.merge(host.substring(0, host.indexOf("::")), 1, Integer::sum);
          }
        }
        assertThat(perIp.values())
            .as("per IP in %s", bucket.contacts())
            .allMatch(n -> n <= maxPerIp);
      }
    }
    assertInvariants(table, self, config);
  }

  static void assertInvariants(RoutingTable table, NodeId self, KadConfig config) {
    var snapshot = table.snapshot();
    Set<NodeId> seen = new HashSet<>();
    for (var bucket : snapshot.buckets()) {
      assertThat(bucket.contacts()).hasSizeLessThanOrEqualTo(config.k());
      assertThat(bucket.replacements()).hasSizeLessThanOrEqualTo(config.replacementCacheSize());
      for (Contact c : bucket.contacts()) {
        assertThat(seen.add(c.id())).as("contact %s appears once", c.id()).isTrue();
        assertThat(c.id()).isNotEqualTo(self);
        assertThat(bucket.prefix().commonPrefixLength(c.id()))
            .isGreaterThanOrEqualTo(bucket.depth());
      }
      for (Contact c : bucket.replacements()) {
        assertThat(bucket.contacts()).doesNotContain(c);
      }
      Set<Address> addresses = new HashSet<>();
      for (Contact c : bucket.contacts()) {
        assertThat(addresses.add(c.address())).as("one id at %s in its bucket", c).isTrue();
      }
      for (Contact c : bucket.replacements()) {
        assertThat(addresses.add(c.address())).as("one id at %s in its bucket", c).isTrue();
      }
    }
    assertThat(table.size()).isEqualTo(seen.size());
  }

  /**
   * The table against a plain model of its javadoc and DESIGN.md's routing-table rules, step by
   * step: random contacts heard from or answering (some at a second address, some new ids at
   * another's address, some undialable, this node itself), pings asked for and answered, lost or
   * never sent, failures, removals, touches and a clock moving on. Every step compares what each
   * call returns, every bucket's contacts and replacements in order, last-seen times, closest() and
   * the refresh targets.
   */
  @Property(tries = 120)
  void behavesLikeAModelOfBucketsReplacementsPingsAndFailures(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 5) int k,
      @ForAll @IntRange(min = 0, max = 3) int cacheSize,
      @ForAll @IntRange(min = 2, max = 3) int maxFailures,
      @ForAll @IntRange(min = 0, max = 3) int maxPerSubnet,
      @ForAll @IntRange(min = 0, max = 3) int maxPerIp,
      @ForAll @IntRange(min = 1, max = 8) int subnets,
      @ForAll boolean relaxed) {
    SplittableRandom rng = new SplittableRandom(seed);
    NodeId self = NodeId.random(rng);
    KadConfig config =
        KadConfig.builder()
            .k(k)
            .replacementCacheSize(cacheSize)
            .maxFailures(maxFailures)
            .maxPerSubnet(maxPerSubnet)
            .maxPerIp(maxPerIp)
            .relaxedSplit(relaxed)
            .pingGrace(Duration.ofSeconds(30))
            .build();
    TestClock clock = new TestClock();
    RoutingTable table = new RoutingTable(self, config, clock);
    Model model = new Model(self, config, clock);
    Pool pool = Pool.random(self, subnets, rng);
    // Pings the table asked for and nobody reported on yet.
    List<Contact> pings = new ArrayList<>();
    // Drawn here: jqwik draws small numbers far more often, and short runs seldom fill a bucket.
    int steps = 50 + rng.nextInt(350);
    // Each try weighs the operations its own way: some fill buckets, some churn through them.
    int[] weights = {
      1 + rng.nextInt(10), rng.nextInt(5), rng.nextInt(7), rng.nextInt(3), 1 + rng.nextInt(3), 1
    };
    for (int step = 0; step < steps; step++) {
      int op = pick(weights, rng);
      if (op == 0) {
        Contact c = pool.any(rng);
        boolean answered = rng.nextInt(3) == 0;
        Insertion got = answered ? table.answered(c) : table.seen(c);
        assertThat(got)
            .as("%s(%s)", answered ? "answered" : "seen", c)
            .isEqualTo(model.seen(c, true, answered));
        got.toPing().ifPresent(pings::add);
      } else if (op == 1) {
        if (!pings.isEmpty()) {
          Contact p = pings.remove(rng.nextInt(pings.size()));
          switch (rng.nextInt(3)) {
            case 0 ->
                assertThat(table.pingResult(p, true))
                    .as("answered ping of %s", p)
                    .isEqualTo(model.pingResult(p, true));
            case 1 ->
                assertThat(table.pingResult(p, false))
                    .as("lost ping of %s", p)
                    .isEqualTo(model.pingResult(p, false));
            default -> {
              table.pingNotSent(p);
              model.pingNotSent(p);
            }
          }
        }
      } else if (op == 2) {
        // Mostly a contact the table holds: most of the pool is not in it.
        List<Contact> held = model.contacts();
        Contact c =
            held.isEmpty() || rng.nextInt(4) == 0
                ? pool.any(rng)
                : held.get(rng.nextInt(held.size()));
        assertThat(table.failed(c)).as("failed(%s)", c).isEqualTo(model.failed(c));
      } else if (op == 3) {
        NodeId id = pool.any(rng).id();
        assertThat(table.remove(id)).as("remove(%s)", id).isEqualTo(model.remove(id));
      } else if (op == 4) {
        // Across the ping grace, and within the table's one-second resolution of "last seen".
        clock.advance(
            rng.nextBoolean()
                ? Duration.ofSeconds(rng.nextInt(45))
                : Duration.ofMillis(rng.nextInt(1500)));
      } else {
        NodeId target =
            rng.nextBoolean() ? pool.any(rng).id() : self.randomInBucket(Pool.index(rng), rng);
        table.touch(target);
        model.touch(target);
        Duration interval = Duration.ofSeconds(rng.nextInt(90));
        List<NodeId> targets = table.staleBucketTargets(interval, rng);
        List<Model.MBucket> stale = model.stale(interval);
        assertThat(targets).as("one refresh target per stale bucket").hasSameSizeAs(stale);
        for (int i = 0; i < targets.size(); i++) {
          assertThat(stale.get(i).covers(targets.get(i)))
              .as("target %s in stale bucket %s", targets.get(i), i)
              .isTrue();
        }
        List<NodeId> beyond = table.bucketsBeyondClosestNeighbour(rng);
        List<Model.MBucket> farther = model.beyondClosestNeighbour();
        assertThat(beyond).as("one bootstrap target per bucket beyond").hasSameSizeAs(farther);
        for (int i = 0; i < beyond.size(); i++) {
          assertThat(farther.get(i).covers(beyond.get(i)))
              .as("bootstrap target %s in bucket %s beyond the closest, farthest first", i, beyond)
              .isTrue();
        }
      }
      model.compare(table, pool, rng);
    }
  }

  /** An index drawn with the given weights. */
  private static int pick(int[] weights, SplittableRandom rng) {
    int r = rng.nextInt(java.util.Arrays.stream(weights).sum());
    int i = 0;
    while (r >= weights[i]) {
      r -= weights[i++];
    }
    return i;
  }

  /** Contacts to hear from: ids at many depths, a few at a second address or undialable. */
  private record Pool(NodeId self, List<Contact> contacts) {

    static Pool random(NodeId self, int subnets, SplittableRandom rng) {
      List<Contact> contacts = new ArrayList<>();
      int n = 6 + rng.nextInt(36);
      for (int i = 0; i < n; i++) {
        // As random ids are, half in the farthest bucket, a quarter in the next, and so on: full
        // buckets, and a few deep ones so that relaxed splits happen.
        NodeId id = self.randomInBucket(index(rng), rng);
        contacts.add(new Contact(id, address(i, subnets, rng)));
        if (rng.nextInt(5) == 0) {
          contacts.add(new Contact(id, address(1000 + i, subnets, rng)));
        }
        // Another id at an address of the pool: a node restarted with a new id, or made up.
        if (i > 0 && rng.nextInt(4) == 0) {
          Address taken = contacts.get(rng.nextInt(contacts.size())).address();
          contacts.add(new Contact(self.randomInBucket(index(rng), rng), taken));
        }
      }
      contacts.add(new Contact(self, new Address("10.0.0.250", 4000)));
      return new Pool(self, contacts);
    }

    /**
     * An address in one of a few private /24s (some spelled as IPv4-mapped IPv6), a name, unusable,
     * or one of two public IPv4 addresses or two IPv6 /64s, each at many ports.
     */
    private static Address address(int i, int subnets, SplittableRandom rng) {
      int subnet = rng.nextInt(subnets);
      String host = "10.0." + subnet + "." + (i & 0xff);
      // Four public IPs in two subnets, so that buckets often meet several contacts of one.
      int ip = 1 + rng.nextInt(2);
      return switch (rng.nextInt(16)) {
        case 0 -> new Address("node-" + i + ".example", 4000);
        case 1 -> new Address("::ffff:" + host, 4000);
        case 2 -> new Address(host, 0);
        case 3 -> new Address(rng.nextBoolean() ? "0.0.0.0" : "224.0.0." + (i & 0xff), 4000);
        case 4, 5, 6, 7 -> new Address("198.51.100." + ip, 4000 + i);
        case 8 -> new Address("::ffff:198.51.100." + ip, 5000 + i);
        case 9, 10 -> new Address("2001:db8:1:" + ip + "::" + (i + 1), 4000);
        default -> new Address(host, 4000);
      };
    }

    Contact any(SplittableRandom rng) {
      return contacts.get(rng.nextInt(contacts.size()));
    }

    /** A bucket index from this node: 159 half the time, 158 a quarter, ... down to 146. */
    static int index(SplittableRandom rng) {
      return 159 - Math.min(Integer.numberOfTrailingZeros(rng.nextInt() | 1 << 13), 13);
    }
  }

  /** The rules as lists: buckets by prefix, contacts least recently seen first. */
  private static final class Model {

    static final class MEntry {
      final Contact contact;
      Instant lastSeen;
      int failures;
      long failureEpoch;
      boolean pinging;

      MEntry(Contact contact, Instant lastSeen, long epoch) {
        this.contact = contact;
        this.lastSeen = lastSeen;
        this.failureEpoch = epoch;
      }
    }

    static final class MBucket {
      final NodeId low;
      final int depth;
      final List<MEntry> entries = new ArrayList<>();
      final List<Contact> replacements = new ArrayList<>();
      Instant touchedAt;

      MBucket(NodeId low, int depth, Instant touchedAt) {
        this.low = low;
        this.depth = depth;
        this.touchedAt = touchedAt;
      }

      boolean covers(NodeId id) {
        return depth == 0 || low.commonPrefixLength(id) >= depth;
      }

      int indexOf(NodeId id) {
        for (int i = 0; i < entries.size(); i++) {
          if (entries.get(i).contact.id().equals(id)) {
            return i;
          }
        }
        return -1;
      }

      int cachedIndexOf(NodeId id) {
        for (int i = 0; i < replacements.size(); i++) {
          if (replacements.get(i).id().equals(id)) {
            return i;
          }
        }
        return -1;
      }
    }

    final NodeId self;
    final KadConfig config;
    final TestClock clock;
    final List<MBucket> buckets = new ArrayList<>();
    long epoch;

    Model(NodeId self, KadConfig config, TestClock clock) {
      this.self = self;
      this.config = config;
      this.clock = clock;
      buckets.add(new MBucket(NodeId.of(new byte[20]), 0, clock.instant()));
    }

    MBucket bucketOf(NodeId id) {
      MBucket found = null;
      for (MBucket b : buckets) {
        if (b.covers(id)) {
          assertThat(found).as("buckets overlap at %s", id).isNull();
          found = b;
        }
      }
      assertThat(found).as("no bucket covers %s", id).isNotNull();
      return found;
    }

    Insertion seen(Contact c, boolean mayPing, boolean proven) {
      if (c.id().equals(self)) {
        return new Insertion(Kind.SELF, Optional.empty());
      }
      Instant now = clock.instant();
      epoch++;
      while (true) {
        MBucket b = bucketOf(c.id());
        int at = b.indexOf(c.id());
        if (at >= 0) {
          MEntry e = b.entries.get(at);
          if (!e.contact.address().equals(c.address())) {
            return new Insertion(Kind.OTHER_ADDRESS, Optional.empty());
          }
          boolean fresh =
              at == b.entries.size() - 1
                  && e.failures == 0
                  && !e.pinging
                  && Duration.between(e.lastSeen, now).compareTo(Duration.ofSeconds(1)) < 0;
          if (!fresh) {
            b.entries.remove(at);
            e.lastSeen = now;
            e.failures = 0;
            e.pinging = false;
            b.entries.add(e);
          }
          return new Insertion(Kind.REFRESHED, Optional.empty());
        }
        int cached = b.cachedIndexOf(c.id());
        if (cached >= 0 && !b.replacements.get(cached).address().equals(c.address())) {
          return new Insertion(Kind.OTHER_ADDRESS, Optional.empty());
        }
        if (!dialable(c.address())) {
          return new Insertion(Kind.REJECTED_ADDRESS, Optional.empty());
        }
        boolean splits =
            b.entries.size() >= config.k()
                && b.depth < self.bits()
                && (b.covers(self)
                    || config.relaxedSplit() && b.depth % RoutingTable.SPLIT_BASE != 0);
        // The limits count the bucket the contact lands in, after any split.
        if (!splits) {
          // One id per address in a bucket's contacts and replacements together; an answer at the
          // address (proven) takes it over from the id held there.
          int holder = -1;
          for (int i = 0; i < b.entries.size(); i++) {
            Contact h = b.entries.get(i).contact;
            if (h.address().equals(c.address()) && !h.id().equals(c.id())) {
              holder = i;
            }
          }
          int waiting = -1;
          for (int i = 0; i < b.replacements.size(); i++) {
            Contact h = b.replacements.get(i);
            if (h.address().equals(c.address()) && !h.id().equals(c.id())) {
              waiting = i;
            }
          }
          if (holder >= 0 || waiting >= 0) {
            if (!proven) {
              return new Insertion(Kind.REJECTED_ADDRESS_TAKEN, Optional.empty());
            }
            if (holder >= 0) {
              b.entries.remove(holder);
            } else {
              b.replacements.remove(waiting);
            }
            continue;
          }
          if (overIpLimit(b, c)) {
            if (!proven) {
              return new Insertion(Kind.REJECTED_IP, Optional.empty());
            }
            // An answer at that IP takes the place of the least recently seen member there.
            String ip = ip(c.address());
            for (int i = 0; i < b.entries.size(); i++) {
              if (ip.equals(ip(b.entries.get(i).contact.address()))) {
                b.entries.remove(i);
                break;
              }
            }
            continue;
          }
          if (overSubnetLimit(b, c)) {
            return new Insertion(Kind.REJECTED_SUBNET, Optional.empty());
          }
        }
        if (b.entries.size() < config.k()) {
          b.entries.add(new MEntry(c, now, epoch));
          if (cached >= 0) {
            b.replacements.remove(cached);
          }
          return new Insertion(Kind.ADDED, Optional.empty());
        }
        if (splits) {
          split(b);
          continue;
        }
        if (config.replacementCacheSize() > 0) {
          String ip = ip(c.address());
          if (config.maxPerIp() > 0
              && ip != null
              && b.replacements.stream().noneMatch(r -> r.id().equals(c.id()))
              && b.replacements.stream().filter(r -> ip.equals(ip(r.address()))).count()
                  >= config.maxPerIp()) {
            // The cache holds at most maxPerIp of one IP: the newest takes its oldest's place.
            for (int i = 0; i < b.replacements.size(); i++) {
              if (ip.equals(ip(b.replacements.get(i).address()))) {
                b.replacements.remove(i);
                break;
              }
            }
          }
          b.replacements.removeIf(r -> r.id().equals(c.id()));
          b.replacements.add(c);
          if (b.replacements.size() > config.replacementCacheSize()) {
            b.replacements.remove(0);
          }
        }
        MEntry oldest = b.entries.get(0);
        if (mayPing
            && !oldest.pinging
            && Duration.between(oldest.lastSeen, now).compareTo(config.pingGrace()) >= 0) {
          oldest.pinging = true;
          return new Insertion(Kind.CACHED, Optional.of(oldest.contact));
        }
        return new Insertion(Kind.CACHED, Optional.empty());
      }
    }

    private void split(MBucket b) {
      byte[] high = b.low.toBytes();
      high[b.depth >>> 3] |= (byte) (0x80 >>> (b.depth & 7));
      MBucket zero = new MBucket(b.low, b.depth + 1, b.touchedAt);
      MBucket one = new MBucket(NodeId.of(high), b.depth + 1, b.touchedAt);
      for (MEntry e : b.entries) {
        (one.covers(e.contact.id()) ? one : zero).entries.add(e);
      }
      for (Contact r : b.replacements) {
        (one.covers(r.id()) ? one : zero).replacements.add(r);
      }
      int at = buckets.indexOf(b);
      buckets.set(at, zero);
      buckets.add(at + 1, one);
    }

    Removal pingResult(Contact c, boolean answered) {
      if (answered) {
        seen(c, false, true);
        return new Removal(false, Optional.empty());
      }
      MBucket b = bucketOf(c.id());
      int at = b.indexOf(c.id());
      if (at >= 0 && b.entries.get(at).pinging) {
        return evict(c.id());
      }
      return new Removal(false, Optional.empty());
    }

    void pingNotSent(Contact c) {
      MBucket b = bucketOf(c.id());
      int at = b.indexOf(c.id());
      if (at >= 0) {
        b.entries.get(at).pinging = false;
      }
    }

    Removal failed(Contact c) {
      MBucket b = bucketOf(c.id());
      int at = b.indexOf(c.id());
      if (at < 0) {
        b.replacements.remove(c);
        return new Removal(false, Optional.empty());
      }
      MEntry e = b.entries.get(at);
      if (!e.contact.address().equals(c.address()) || e.failures > 0 && e.failureEpoch == epoch) {
        return new Removal(false, Optional.empty());
      }
      if (e.failures + 1 >= config.maxFailures()) {
        return evict(c.id());
      }
      e.failures++;
      e.failureEpoch = epoch;
      return new Removal(false, Optional.empty());
    }

    boolean remove(NodeId id) {
      return evict(id).removed();
    }

    private Removal evict(NodeId id) {
      MBucket b = bucketOf(id);
      int at = b.indexOf(id);
      if (at < 0) {
        return new Removal(false, Optional.empty());
      }
      b.entries.remove(at);
      for (int i = b.replacements.size() - 1; i >= 0; i--) {
        Contact r = b.replacements.get(i);
        if (!overIpLimit(b, r) && !overSubnetLimit(b, r)) {
          b.replacements.remove(i);
          b.entries.add(new MEntry(r, clock.instant(), epoch));
          return new Removal(true, Optional.of(r));
        }
      }
      return new Removal(true, Optional.empty());
    }

    void touch(NodeId target) {
      bucketOf(target).touchedAt = clock.instant();
    }

    List<MBucket> stale(Duration interval) {
      Instant cutoff = clock.instant().minus(interval);
      return buckets.stream().filter(b -> !b.touchedAt.isAfter(cutoff)).toList();
    }

    /**
     * The buckets whose nearest id is farther from this node than its closest contact, farthest
     * first.
     */
    List<MBucket> beyondClosestNeighbour() {
      BigInteger neighbour =
          contacts().stream()
              .map(c -> new BigInteger(1, self.distance(c.id()).toBytes()))
              .min(Comparator.naturalOrder())
              .orElse(BigInteger.ZERO);
      return buckets.stream()
          .filter(b -> nearest(b).compareTo(neighbour) > 0)
          .sorted(Comparator.comparing(this::nearest).reversed())
          .toList();
    }

    /** The distance from this node to the nearest id a bucket covers. */
    private BigInteger nearest(MBucket b) {
      BigInteger x = new BigInteger(1, b.low.toBytes()).xor(new BigInteger(1, self.toBytes()));
      return x.shiftRight(self.bits() - b.depth).shiftLeft(self.bits() - b.depth);
    }

    private boolean overSubnetLimit(MBucket b, Contact c) {
      if (config.maxPerSubnet() == 0) {
        return false;
      }
      String subnet = subnet(c.address());
      return b.entries.stream().filter(e -> subnet(e.contact.address()).equals(subnet)).count()
          >= config.maxPerSubnet();
    }

    /**
     * The pool's addresses: a /24 of 10.0.x.y or 198.51.x.y however spelled, a /48 of
     * 2001:db8:x::/48, else the host itself.
     */
    private static String subnet(Address a) {
      String host = a.host().startsWith("::ffff:") ? a.host().substring(7) : a.host();
      if (host.startsWith("2001:db8:")) {
        return host.substring(0, host.indexOf(':', "2001:db8:".length()));
      }
      return host.startsWith("10.0.") || host.startsWith("198.51.")
          ? host.substring(0, host.lastIndexOf('.'))
          : host;
    }

    private boolean overIpLimit(MBucket b, Contact c) {
      String ip = ip(c.address());
      if (config.maxPerIp() == 0 || ip == null) {
        return false;
      }
      return b.entries.stream().filter(e -> ip.equals(ip(e.contact.address()))).count()
          >= config.maxPerIp();
    }

    /**
     * The pool's public IPs: 198.51.x.y however spelled, or a /64 of 2001:db8:x:y::/64; null for
     * the private addresses and names the IP limit leaves alone.
     */
    private static String ip(Address a) {
      String host = a.host().startsWith("::ffff:") ? a.host().substring(7) : a.host();
      if (host.startsWith("2001:db8:")) {
        return host.substring(0, host.indexOf("::"));
      }
      return host.startsWith("198.51.") ? host : null;
    }

    private static boolean dialable(Address a) {
      return a.port() != 0 && !a.host().equals("0.0.0.0") && !a.host().startsWith("224.");
    }

    List<Contact> contacts() {
      List<Contact> out = new ArrayList<>();
      for (MBucket b : buckets) {
        for (MEntry e : b.entries) {
          out.add(e.contact);
        }
      }
      return out;
    }

    void compare(RoutingTable table, Pool pool, SplittableRandom rng) {
      List<RoutingTableSnapshot.Bucket> expected = new ArrayList<>();
      for (MBucket b : buckets) {
        expected.add(
            new RoutingTableSnapshot.Bucket(
                b.low, b.depth, b.entries.stream().map(e -> e.contact).toList(), b.replacements));
        // Split only as the paper says: the parent held this node's id, or (relaxed) its depth
        // was not a multiple of b.
        if (b.depth > 0) {
          MBucket parent = new MBucket(b.low, b.depth - 1, b.touchedAt);
          assertThat(
                  parent.covers(self)
                      || config.relaxedSplit() && (b.depth - 1) % RoutingTable.SPLIT_BASE != 0)
              .as("bucket %s/%s came from a split the rules allow", b.low, b.depth)
              .isTrue();
        }
        if (config.maxPerSubnet() > 0) {
          Map<String, Integer> perSubnet = new HashMap<>();
          for (MEntry e : b.entries) {
            perSubnet.merge(subnet(e.contact.address()), 1, Integer::sum);
          }
          assertThat(perSubnet.values()).allMatch(n -> n <= config.maxPerSubnet());
        }
        if (config.maxPerIp() > 0) {
          Map<String, Integer> perIp = new HashMap<>();
          for (MEntry e : b.entries) {
            String ip = ip(e.contact.address());
            if (ip != null) {
              perIp.merge(ip, 1, Integer::sum);
            }
          }
          assertThat(perIp.values()).allMatch(n -> n <= config.maxPerIp());
        }
      }
      var snapshot = table.snapshot();
      assertThat(snapshot.buckets()).as("buckets").containsExactlyInAnyOrderElementsOf(expected);
      assertInvariants(table, self, config);
      assertThat(table.size()).isEqualTo(contacts().size());
      assertThat(table.bucketCount()).isEqualTo(buckets.size());
      for (Contact c : pool.contacts()) {
        MBucket b = bucketOf(c.id());
        int at = b.indexOf(c.id());
        assertThat(table.contains(c.id())).as("contains %s", c.id()).isEqualTo(at >= 0);
        assertThat(table.lastSeen(c.id()))
            .as("lastSeen %s", c.id())
            .isEqualTo(at < 0 ? Optional.empty() : Optional.of(b.entries.get(at).lastSeen));
      }
      NodeId target =
          rng.nextBoolean() ? pool.any(rng).id() : self.randomInBucket(Pool.index(rng), rng);
      int n = rng.nextInt(2 * config.k() + 2);
      NodeId excluded = pool.any(rng).id();
      List<Contact> all = new ArrayList<>(contacts());
      all.sort((a, b) -> target.compareDistance(a.id(), b.id()));
      assertThat(table.closest(target, n))
          .as("closest(%s, %s)", target, n)
          .containsExactlyElementsOf(all.subList(0, Math.min(n, all.size())));
      List<Contact> others = all.stream().filter(c -> !c.id().equals(excluded)).toList();
      assertThat(table.closest(target, n, excluded))
          .as("closest(%s, %s) but %s", target, n, excluded)
          .containsExactlyElementsOf(others.subList(0, Math.min(n, others.size())));
    }
  }
}
