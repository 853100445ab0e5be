package dev.kad.reactor.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.reactor.routing.Insertion.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RoutingTableTest {

  private final SplittableRandom rng = new SplittableRandom(42);
  private final NodeId self = NodeId.random(rng);
  private final TestClock clock = new TestClock();
  private int hosts;

  private RoutingTable table(KadConfig config) {
    return new RoutingTable(self, config, clock);
  }

  private Contact contactInBucket(int bucket) {
    return contact(self.randomInBucket(bucket, rng));
  }

  private Contact contact(NodeId id) {
    hosts++;
    return new Contact(id, new Address("10." + (hosts >> 8) + "." + (hosts & 0xff) + ".1", 4000));
  }

  private KadConfig k(int k) {
    return KadConfig.builder().k(k).replacementCacheSize(3).pingGrace(Duration.ofMinutes(1)).build();
  }

  @Test
  void knownContactMovesToTheTailOfItsBucket() {
    RoutingTable table = table(k(4));
    Contact a = contactInBucket(159);
    Contact b = contactInBucket(159);
    table.seen(a);
    table.seen(b);
    assertThat(table.seen(a).kind()).isEqualTo(Kind.REFRESHED);
    assertThat(bucketOf(table, a)).containsExactly(b, a);
  }

  @Test
  void ownIdIsNeverAdded() {
    RoutingTable table = table(k(4));
    assertThat(table.seen(contact(self)).kind()).isEqualTo(Kind.SELF);
    assertThat(table.size()).isZero();
  }

  @Test
  void fullBucketAwayFromOwnIdCachesTheNewcomerAndAsksToPingTheOldestWhenItIsQuiet() {
    RoutingTable table = table(k(2));
    Contact oldest = contactInBucket(159);
    Contact second = contactInBucket(159);
    table.seen(oldest);
    table.seen(second);
    // Fill the own-id side so the far bucket is a leaf that may not split any more.
    table.seen(contactInBucket(10));
    clock.advance(Duration.ofMinutes(2));
    Contact newcomer = contactInBucket(159);
    Insertion insertion = table.seen(newcomer);
    assertThat(insertion.kind()).isEqualTo(Kind.CACHED);
    assertThat(insertion.toPing()).contains(oldest);
    assertThat(bucketOf(table, oldest)).containsExactly(oldest, second);
    // A second newcomer while the ping is pending does not ask for another ping.
    assertThat(table.seen(contactInBucket(159)).toPing()).isEmpty();
  }

  @Test
  void oldestHeardFromWithinTheGraceIsNotPinged() {
    RoutingTable table = table(k(2));
    table.seen(contactInBucket(159));
    table.seen(contactInBucket(159));
    table.seen(contactInBucket(10));
    clock.advance(Duration.ofSeconds(30));
    Insertion insertion = table.seen(contactInBucket(159));
    assertThat(insertion.kind()).isEqualTo(Kind.CACHED);
    assertThat(insertion.toPing()).isEmpty();
  }

  @Test
  void liveOldestStaysAndTheNewcomerWaitsInTheCache() {
    RoutingTable table = table(k(2));
    Contact oldest = contactInBucket(159);
    Contact second = contactInBucket(159);
    table.seen(oldest);
    table.seen(second);
    table.seen(contactInBucket(10));
    clock.advance(Duration.ofMinutes(2));
    Contact newcomer = contactInBucket(159);
    table.seen(newcomer);
    table.pingResult(oldest, true);
    assertThat(bucketOf(table, oldest)).containsExactly(second, oldest);
    assertThat(replacementsOf(table, oldest)).containsExactly(newcomer);
  }

  @Test
  void deadOldestIsEvictedForTheNewestReplacement() {
    RoutingTable table = table(k(2));
    Contact oldest = contactInBucket(159);
    Contact second = contactInBucket(159);
    table.seen(oldest);
    table.seen(second);
    table.seen(contactInBucket(10));
    clock.advance(Duration.ofMinutes(2));
    Contact first = contactInBucket(159);
    Contact newest = contactInBucket(159);
    table.seen(first);
    table.seen(newest);
    table.pingResult(oldest, false);
    assertThat(bucketOf(table, second)).containsExactly(second, newest);
    assertThat(replacementsOf(table, second)).containsExactly(first);
    assertThat(table.contains(oldest.id())).isFalse();
  }

  @Test
  void replacementCacheKeepsTheNewestAndDropsTheOldest() {
    RoutingTable table = table(k(1));
    Contact member = contactInBucket(159);
    table.seen(member);
    table.seen(contactInBucket(10));
    List<Contact> newcomers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      Contact c = contactInBucket(159);
      newcomers.add(c);
      table.seen(c);
    }
    // Seen again: moves to the newest end.
    table.seen(newcomers.get(3));
    assertThat(replacementsOf(table, member))
        .containsExactly(newcomers.get(2), newcomers.get(4), newcomers.get(3));
  }

  @Test
  void onlyTheBucketHoldingTheOwnIdSplits() {
    RoutingTable table = table(k(2));
    for (int i = 0; i < 6; i++) {
      table.seen(contactInBucket(159));
    }
    // The far half never splits: it holds 2 and caches the rest.
    assertThat(table.size()).isEqualTo(2);
    assertThat(table.bucketCount()).isEqualTo(2);
    for (int bucket = 158; bucket > 150; bucket--) {
      table.seen(contactInBucket(bucket));
      table.seen(contactInBucket(bucket));
      table.seen(contactInBucket(bucket));
    }
    RoutingTableSnapshot snapshot = table.snapshot();
    assertThat(snapshot.buckets()).allSatisfy(b -> assertThat(b.contacts()).hasSizeLessThanOrEqualTo(2));
    // Every bucket but the last is a sibling of the own-id path: depth d holds bucket 159 - d.
    List<RoutingTableSnapshot.Bucket> buckets = snapshot.buckets();
    for (int d = 0; d < buckets.size() - 1; d++) {
      assertThat(buckets.get(d).depth()).isEqualTo(d + 1);
      for (Contact c : buckets.get(d).contacts()) {
        assertThat(self.bucketIndex(c.id())).isEqualTo(159 - d);
      }
    }
    assertThat(table.size()).isEqualTo(2 * 9);
  }

  @Test
  void relaxedSplitAlsoSplitsFarBucketsUntilADepthMultipleOfFive() {
    RoutingTable table = table(KadConfig.builder().k(2).relaxedSplit(true).build());
    for (int i = 0; i < 200; i++) {
      table.seen(contactInBucket(159));
    }
    // The far half (depth 1) may split down to depth 5: up to 2 contacts in each of 16 leaves.
    assertThat(table.size()).isGreaterThan(2);
    assertThat(table.snapshot().buckets())
        .allSatisfy(b -> assertThat(b.depth() <= 5 || b.contacts().isEmpty()).isTrue());
    RoutingTable strict = table(k(2));
    SplittableRandom again = new SplittableRandom(7);
    for (int i = 0; i < 200; i++) {
      strict.seen(contact(self.randomInBucket(159, again)));
    }
    assertThat(strict.size()).isEqualTo(2);
  }

  @Test
  void failuresInARowRemoveTheContactOnlyWhileOthersAnswer() {
    RoutingTable table = table(KadConfig.builder().k(4).maxFailures(3).build());
    Contact flaky = contactInBucket(159);
    Contact healthy = contactInBucket(100);
    table.seen(flaky);
    table.seen(healthy);
    // Nothing heard in between: the node itself may be offline, so only the first counts.
    for (int i = 0; i < 10; i++) {
      assertThat(table.failed(flaky.id())).isFalse();
    }
    assertThat(table.contains(flaky.id())).isTrue();
    table.seen(healthy);
    assertThat(table.failed(flaky.id())).isFalse();
    table.seen(healthy);
    assertThat(table.failed(flaky.id())).isTrue();
    assertThat(table.contains(flaky.id())).isFalse();
  }

  @Test
  void anAnswerResetsTheFailureCount() {
    RoutingTable table = table(KadConfig.builder().k(4).maxFailures(2).build());
    Contact flaky = contactInBucket(159);
    Contact healthy = contactInBucket(100);
    table.seen(flaky);
    table.failed(flaky.id());
    table.seen(flaky);
    table.seen(healthy);
    assertThat(table.failed(flaky.id())).isFalse();
    assertThat(table.contains(flaky.id())).isTrue();
  }

  @Test
  void subnetLimitKeepsABucketDiverse() {
    RoutingTable table = table(KadConfig.builder().k(8).maxPerSubnet(2).build());
    for (int i = 0; i < 5; i++) {
      Contact c = new Contact(self.randomInBucket(159, rng), new Address("192.168.7." + i, 4000));
      Kind kind = table.seen(c).kind();
      assertThat(kind).isEqualTo(i < 2 ? Kind.ADDED : Kind.REJECTED_SUBNET);
    }
    Contact other = new Contact(self.randomInBucket(159, rng), new Address("192.168.8.1", 4000));
    assertThat(table.seen(other).kind()).isEqualTo(Kind.ADDED);
    Contact v6a = new Contact(self.randomInBucket(159, rng), new Address("2001:db8:1::1", 1));
    Contact v6b = new Contact(self.randomInBucket(159, rng), new Address("2001:db8:1:ff::2", 1));
    Contact v6c = new Contact(self.randomInBucket(159, rng), new Address("2001:db8:1:ee::3", 1));
    table.seen(v6a);
    table.seen(v6b);
    assertThat(table.seen(v6c).kind()).isEqualTo(Kind.REJECTED_SUBNET);
  }

  @Test
  void idsOfAnotherWidthAreRejected() {
    RoutingTable table = table(k(4));
    Contact wide = contact(NodeId.random(256, rng));
    assertThatThrownBy(() -> table.seen(wide))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("160 bits but had 256");
  }

  @Test
  void staleBucketsAreTheOnesNotTouchedWithinTheInterval() {
    RoutingTable table = table(k(2));
    for (int bucket = 159; bucket > 155; bucket--) {
      for (int i = 0; i < 3; i++) {
        table.seen(contactInBucket(bucket));
      }
    }
    clock.advance(Duration.ofHours(2));
    NodeId inFar = self.randomInBucket(159, rng);
    table.touch(inFar);
    List<NodeId> targets = table.staleBucketTargets(Duration.ofHours(1), rng);
    assertThat(targets).hasSize(table.bucketCount() - 1);
    assertThat(targets).noneMatch(t -> self.bucketIndex(t) == 159);
  }

  @Test
  void snapshotIsImmutableAndUnaffectedByLaterChanges() {
    RoutingTable table = table(k(4));
    table.seen(contactInBucket(159));
    RoutingTableSnapshot before = table.snapshot();
    table.seen(contactInBucket(159));
    assertThat(before.size()).isEqualTo(1);
    assertThat(table.snapshot().size()).isEqualTo(2);
  }

  private List<Contact> bucketOf(RoutingTable table, Contact member) {
    return table.snapshot().buckets().stream()
        .filter(b -> b.contacts().contains(member))
        .findFirst()
        .orElseThrow()
        .contacts();
  }

  private List<Contact> replacementsOf(RoutingTable table, Contact member) {
    return table.snapshot().buckets().stream()
        .filter(b -> b.contacts().contains(member))
        .findFirst()
        .orElseThrow()
        .replacements();
  }
}
