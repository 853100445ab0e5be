package dev.kad.reactor.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
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
          new Contact(self.randomInBucket(150 + rng.nextInt(10), rng), new Address("h" + i, 1)));
    }
    for (int i = 0; i < events; i++) {
      Contact c = pool.get(rng.nextInt(pool.size()));
      switch (rng.nextInt(4)) {
        case 0, 1 -> table.seen(c).toPing().ifPresent(p -> table.pingResult(p, rng.nextBoolean()));
        case 2 -> table.failed(c);
        default -> clock.advance(java.time.Duration.ofSeconds(rng.nextInt(120)));
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
    }
    assertThat(table.size()).isEqualTo(seen.size());
  }
}
