package dev.kad.reactor.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.RoutingTableSnapshot.Bucket;
import dev.kad.reactor.routing.Insertion.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
    return KadConfig.builder()
        .k(k)
        .replacementCacheSize(3)
        .pingGrace(Duration.ofMinutes(1))
        .build();
  }

  @Test
  void knownContactMovesToTheTailOfItsBucket() {
    RoutingTable table = table(k(4));
    Contact a = contactInBucket(159);
    Contact b = contactInBucket(159);
    table.seen(a);
    table.seen(b);
    assertThat(table.seen(a).kind()).isEqualTo(Kind.REFRESHED);
    assertThat(bucketOf(table, a).contacts()).containsExactly(b, a);
  }

  @Test
  void countsContactsPerBucketIndexAcrossSplitBuckets() {
    RoutingTable table = table(k(4));
    // Enough near contacts to split the own bucket several times, and a few far ones.
    int[] expected = new int[self.bits()];
    for (int bucket : new int[] {159, 159, 158, 150, 150, 150, 20, 3, 3, 0}) {
      if (table.seen(contactInBucket(bucket)).kind() == Kind.ADDED) {
        expected[bucket]++;
      }
    }
    assertThat(table.bucketCount()).isGreaterThan(1);
    assertThat(table.contactsPerBucketIndex()).containsExactly(expected);
  }

  @Test
  void ownIdIsNeverAdded() {
    RoutingTable table = table(k(4));
    assertThat(table.seen(contact(self)).kind()).isEqualTo(Kind.SELF);
    assertThat(table.size()).isZero();
  }

  /**
   * A k=2 table whose far bucket holds {@code oldest} and {@code second} and may not split any
   * more, after {@code quiet} without hearing from either.
   */
  private FullFarBucket fullFarBucketQuietFor(Duration quiet) {
    RoutingTable table = table(k(2));
    Contact oldest = contactInBucket(159);
    Contact second = contactInBucket(159);
    table.seen(oldest);
    table.seen(second);
    // Fill the own-id side so the far bucket is a leaf that may not split any more.
    table.seen(contactInBucket(10));
    clock.advance(quiet);
    return new FullFarBucket(table, oldest, second);
  }

  private record FullFarBucket(RoutingTable table, Contact oldest, Contact second) {}

  @Test
  void fullBucketAwayFromOwnIdCachesTheNewcomerAndAsksToPingTheOldestWhenItIsQuiet() {
    FullFarBucket far = fullFarBucketQuietFor(Duration.ofMinutes(2));
    Insertion insertion = far.table().seen(contactInBucket(159));
    assertThat(insertion.kind()).isEqualTo(Kind.CACHED);
    assertThat(insertion.toPing()).contains(far.oldest());
    assertThat(bucketOf(far.table(), far.oldest()).contacts())
        .containsExactly(far.oldest(), far.second());
    // A second newcomer while the ping is pending does not ask for another ping.
    assertThat(far.table().seen(contactInBucket(159)).toPing()).isEmpty();
  }

  @Test
  void oldestHeardFromWithinTheGraceIsNotPinged() {
    FullFarBucket far = fullFarBucketQuietFor(Duration.ofSeconds(30));
    Insertion insertion = far.table().seen(contactInBucket(159));
    assertThat(insertion.kind()).isEqualTo(Kind.CACHED);
    assertThat(insertion.toPing()).isEmpty();
  }

  @Test
  void liveOldestStaysAndTheNewcomerWaitsInTheCache() {
    FullFarBucket far = fullFarBucketQuietFor(Duration.ofMinutes(2));
    Contact newcomer = contactInBucket(159);
    far.table().seen(newcomer);
    far.table().pingResult(far.oldest(), true);
    Bucket bucket = bucketOf(far.table(), far.oldest());
    assertThat(bucket.contacts()).containsExactly(far.second(), far.oldest());
    assertThat(bucket.replacements()).containsExactly(newcomer);
  }

  @Test
  void anUnsentPingLeavesTheOldestAsItWasAndTheNextNewcomerAsksAgain() {
    FullFarBucket far = fullFarBucketQuietFor(Duration.ofMinutes(2));
    Contact newcomer = contactInBucket(159);
    assertThat(far.table().seen(newcomer).toPing()).contains(far.oldest());
    far.table().pingNotSent(far.oldest());
    Bucket bucket = bucketOf(far.table(), far.oldest());
    // Not moved to the tail as if it had answered: it is still the oldest, still quiet.
    assertThat(bucket.contacts()).containsExactly(far.oldest(), far.second());
    assertThat(bucket.replacements()).containsExactly(newcomer);
    assertThat(far.table().seen(contactInBucket(159)).toPing()).contains(far.oldest());
  }

  @Test
  void aProbedContactThatLeftItsBucketAndAnswersLeavesNoPingPendingThatNobodySends() {
    FullFarBucket far = fullFarBucketQuietFor(Duration.ofMinutes(2));
    Contact newcomer = contactInBucket(159);
    assertThat(far.table().seen(newcomer).toPing()).contains(far.oldest());
    // While the ping is out the oldest leaves (its failures), the newcomer takes its place.
    assertThat(far.table().remove(far.oldest().id())).isTrue();
    // Its late answer makes it a newcomer to the full bucket: it waits in the cache. No one is
    // there to ping the bucket's new oldest, so it must not be marked as being pinged.
    assertThat(far.table().pingResult(far.oldest(), true).removed()).isFalse();
    Bucket bucket = bucketOf(far.table(), far.second());
    assertThat(bucket.contacts()).containsExactly(far.second(), newcomer);
    assertThat(bucket.replacements()).containsExactly(far.oldest());
    // The next newcomer asks for the ping of the quiet oldest, as it would have before.
    assertThat(far.table().seen(contactInBucket(159)).toPing()).contains(far.second());
  }

  @Test
  void deadOldestIsEvictedForTheNewestReplacement() {
    FullFarBucket far = fullFarBucketQuietFor(Duration.ofMinutes(2));
    Contact first = contactInBucket(159);
    Contact newest = contactInBucket(159);
    far.table().seen(first);
    far.table().seen(newest);
    assertThat(far.table().pingResult(far.oldest(), false))
        .as("the promoted replacement is reported, so it gets a hand-over")
        .isEqualTo(new Removal(true, Optional.of(newest)));
    Bucket bucket = bucketOf(far.table(), far.second());
    assertThat(bucket.contacts()).containsExactly(far.second(), newest);
    assertThat(bucket.replacements()).containsExactly(first);
    assertThat(far.table().contains(far.oldest().id())).isFalse();
  }

  @Test
  void aContactHeardFromWhileItsPingIsOutIsNotEvictedWhenThatPingFails() {
    FullFarBucket far = fullFarBucketQuietFor(Duration.ofMinutes(2));
    Contact newcomer = contactInBucket(159);
    assertThat(far.table().seen(newcomer).toPing()).contains(far.oldest());
    // The oldest sends a request while the probe is out: it is alive, whatever the probe says.
    far.table().seen(far.oldest());
    assertThat(far.table().pingResult(far.oldest(), false).removed()).isFalse();
    Bucket bucket = bucketOf(far.table(), far.second());
    assertThat(bucket.contacts()).containsExactly(far.second(), far.oldest());
    assertThat(bucket.replacements()).containsExactly(newcomer);
  }

  @Test
  void aPromotedReplacementNeverBreaksTheSubnetLimit() {
    RoutingTable table =
        table(KadConfig.builder().k(2).replacementCacheSize(3).maxPerSubnet(1).build());
    Contact a = new Contact(self.randomInBucket(159, rng), new Address("192.168.1.1", 1));
    Contact b = new Contact(self.randomInBucket(159, rng), new Address("192.168.2.1", 1));
    table.seen(a);
    table.seen(b);
    table.seen(contactInBucket(10));
    // Each is alone in its subnet when it arrives, so both wait in the full bucket's cache.
    Contact x1 = new Contact(self.randomInBucket(159, rng), new Address("192.168.3.1", 1));
    Contact x2 = new Contact(self.randomInBucket(159, rng), new Address("192.168.3.2", 1));
    assertThat(table.seen(x1).kind()).isEqualTo(Kind.CACHED);
    assertThat(table.seen(x2).kind()).isEqualTo(Kind.CACHED);
    table.remove(a.id());
    table.remove(b.id());
    Bucket bucket = bucketOf(table, x2);
    assertThat(bucket.contacts()).containsExactly(x2);
    assertThat(bucket.replacements()).containsExactly(x1);
    // The bucket has room, but a claim of the waiting id from another subnet is not added under it.
    Contact claimant = new Contact(x1.id(), new Address("192.168.4.1", 1));
    assertThat(table.seen(claimant).kind()).isEqualTo(Kind.OTHER_ADDRESS);
    assertThat(bucketOf(table, x2).contacts()).containsExactly(x2);
    assertThat(bucketOf(table, x2).replacements()).containsExactly(x1);
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
    assertThat(bucketOf(table, member).replacements())
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
    assertThat(snapshot.buckets())
        .allSatisfy(b -> assertThat(b.contacts()).hasSizeLessThanOrEqualTo(2));
    // Every bucket but the last is a sibling of the own-id path: depth d holds bucket 159 - d.
    List<Bucket> buckets = snapshot.buckets();
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

  /** A k=4 table that drops a contact after {@code maxFailures} failures in a row. */
  private FlakyContact flakyContact(int maxFailures) {
    RoutingTable table = table(KadConfig.builder().k(4).maxFailures(maxFailures).build());
    Contact flaky = contactInBucket(159);
    Contact healthy = contactInBucket(100);
    table.seen(flaky);
    return new FlakyContact(table, flaky, healthy);
  }

  /** {@code table} holds {@code flaky}; {@code healthy}, from another bucket, is not seen yet. */
  private record FlakyContact(RoutingTable table, Contact flaky, Contact healthy) {

    /** Counts one failed request to {@code flaky}; true when that removed it. */
    boolean fails() {
      return table.failed(flaky).removed();
    }

    boolean isKept() {
      return table.contains(flaky.id());
    }
  }

  @Test
  void failuresInARowRemoveTheContactOnlyWhileOthersAnswer() {
    FlakyContact c = flakyContact(3);
    c.table().seen(c.healthy());
    // Nothing heard in between: the node itself may be offline, so only the first counts.
    for (int i = 0; i < 10; i++) {
      assertThat(c.fails()).isFalse();
    }
    assertThat(c.isKept()).isTrue();
    c.table().seen(c.healthy());
    assertThat(c.fails()).isFalse();
    c.table().seen(c.healthy());
    assertThat(c.fails()).isTrue();
    assertThat(c.isKept()).isFalse();
  }

  @Test
  void aKnownIdHeardFromAnotherAddressDoesNotVouchForTheAddressTheTableHolds() {
    // The node moved (a restart on a new port or IP with its configured id), or a peer claims
    // its id: either way the table's address is not the one heard from. Treated as heard, the
    // messages reset the failures of the address that fails, and the contact stays unreachable.
    FlakyContact c = flakyContact(3);
    Contact elsewhere = new Contact(c.flaky().id(), new Address("10.9.9.9", 4000));
    for (int i = 0; i < 3 && c.isKept(); i++) {
      c.table().seen(elsewhere);
      c.table().seen(c.healthy());
      c.fails();
    }
    assertThat(c.isKept()).isFalse();
    // Once the old address is gone, the id joins at the address it speaks from.
    assertThat(c.table().seen(elsewhere).kind()).isEqualTo(Kind.ADDED);
    assertThat(bucketOf(c.table(), elsewhere).contacts()).contains(elsewhere);
  }

  @Test
  void failuresOfAKnownIdAtAnotherAddressLeaveTheContactTheTableHolds() {
    // A hostile answer pairs a known id with a dead address: requests there fail, but they never
    // went to the contact the table holds, so they must not evict it.
    FlakyContact c = flakyContact(3);
    Contact bogus = new Contact(c.flaky().id(), new Address("10.9.9.9", 4000));
    for (int i = 0; i < 10; i++) {
      c.table().seen(c.healthy());
      assertThat(c.table().failed(bogus).removed()).isFalse();
    }
    assertThat(c.isKept()).isTrue();
    assertThat(bucketOf(c.table(), c.flaky()).contacts()).contains(c.flaky());
    // At its own address the same failures count.
    for (int i = 0; i < 3 && c.isKept(); i++) {
      c.table().seen(c.healthy());
      c.fails();
    }
    assertThat(c.isKept()).isFalse();
  }

  @Test
  void anotherSpellingOfTheAddressTheTableHoldsIsThatAddress() {
    // Contacts reach the table from peers' answers, configuration and the transport, each writing
    // an address its own way: [FD00:0:0:0:0:0:0:5]:4000 is the contact held at [fd00::5]:4000,
    // not the same id claimed from elsewhere, whose messages and failures would be ignored.
    RoutingTable table = table(KadConfig.builder().k(4).maxFailures(2).build());
    NodeId id = self.randomInBucket(159, rng);
    Contact held = new Contact(id, new Address("fd00::5", 4000));
    Contact healthy = contactInBucket(150);
    assertThat(table.seen(held).kind()).isEqualTo(Kind.ADDED);
    table.seen(healthy);
    Contact spelled = new Contact(id, Address.parse("[FD00:0:0:0:0:0:0:5]:4000"));
    assertThat(table.seen(spelled).kind()).isEqualTo(Kind.REFRESHED);
    assertThat(bucketOf(table, held).contacts()).containsOnlyOnce(held).contains(spelled);
    Contact named = new Contact(self.randomInBucket(159, rng), new Address("Kad-1.Example", 4000));
    table.seen(named);
    assertThat(table.seen(new Contact(named.id(), new Address("kad-1.example", 4000))).kind())
        .isEqualTo(Kind.REFRESHED);
    // Failures at either spelling are failures of the contact the table holds.
    table.failed(spelled);
    table.seen(healthy);
    assertThat(table.failed(new Contact(id, new Address("fd00:0::0005", 4000))).removed()).isTrue();
    assertThat(table.contains(id)).isFalse();
  }

  @Test
  void aFailureAtAnotherAddressDoesNotDropAReplacement() {
    RoutingTable table = table(KadConfig.builder().k(1).replacementCacheSize(2).build());
    Contact member = contactInBucket(159);
    Contact waiting = contactInBucket(159);
    table.seen(member);
    assertThat(table.seen(waiting).kind()).isEqualTo(Kind.CACHED);
    table.failed(new Contact(waiting.id(), new Address("10.9.9.9", 4000)));
    assertThat(bucketOf(table, member).replacements()).containsExactly(waiting);
    table.failed(waiting);
    assertThat(bucketOf(table, member).replacements()).isEmpty();
  }

  @Test
  void aClaimOfAWaitingIdFromElsewhereIsNotPromotedUnderThatId() {
    RoutingTable table = table(KadConfig.builder().k(1).replacementCacheSize(2).build());
    Contact member = contactInBucket(159);
    Contact waiting = contactInBucket(159);
    table.seen(member);
    assertThat(table.seen(waiting).kind()).isEqualTo(Kind.CACHED);
    Contact claimant = new Contact(waiting.id(), new Address("10.9.9.9", 4000));
    assertThat(table.seen(claimant).kind()).isEqualTo(Kind.OTHER_ADDRESS);
    assertThat(bucketOf(table, member).replacements()).containsExactly(waiting);
    // The member leaves: the replacement promoted is the one that waited, at its own address.
    assertThat(table.remove(member.id())).isTrue();
    assertThat(bucketOf(table, waiting).contacts()).containsExactly(waiting);
  }

  @Test
  void failuresThatRemoveAContactReportTheReplacementPromoted() {
    RoutingTable table =
        table(KadConfig.builder().k(1).replacementCacheSize(2).maxFailures(2).build());
    Contact member = contactInBucket(159);
    Contact waiting = contactInBucket(159);
    Contact healthy = contactInBucket(10);
    table.seen(member);
    table.seen(waiting);
    table.seen(healthy);
    assertThat(table.failed(member)).isEqualTo(new Removal(false, Optional.empty()));
    table.seen(healthy);
    assertThat(table.failed(member)).isEqualTo(new Removal(true, Optional.of(waiting)));
    assertThat(bucketOf(table, waiting).contacts()).containsExactly(waiting);
  }

  @Test
  void anAnswerResetsTheFailureCount() {
    FlakyContact c = flakyContact(2);
    c.fails();
    c.table().seen(c.flaky());
    c.table().seen(c.healthy());
    assertThat(c.fails()).isFalse();
    assertThat(c.isKept()).isTrue();
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

  /** Three contacts at {@code host}, each at a port and with an id of its own, in bucket 159. */
  private List<Kind> threeAt(RoutingTable table, String host) {
    List<Kind> kinds = new ArrayList<>();
    for (int port = 4000; port < 4003; port++) {
      kinds.add(
          table.seen(new Contact(self.randomInBucket(159, rng), new Address(host, port))).kind());
    }
    return kinds;
  }

  @Test
  void aThirdContactAtOnePublicIpInABucketIsRefusedByDefault() {
    // The attacker trial: made-up ids at many ports of one host, each port a distinct address.
    RoutingTable table = table(KadConfig.builder().k(20).build());
    assertThat(threeAt(table, "203.0.113.5"))
        .containsExactly(Kind.ADDED, Kind.ADDED, Kind.REJECTED_IP);
    // Other IPs, even of the same /24, are not that one's: the subnet limit is off by default.
    assertThat(threeAt(table, "203.0.113.6"))
        .containsExactly(Kind.ADDED, Kind.ADDED, Kind.REJECTED_IP);
    // Just outside the exempt ranges: public.
    for (String host : List.of("172.32.0.1", "100.128.0.1", "169.253.0.1", "192.169.0.1")) {
      assertThat(threeAt(table, host))
          .as(host)
          .containsExactly(Kind.ADDED, Kind.ADDED, Kind.REJECTED_IP);
    }
    assertThat(table.size()).isEqualTo(12);
  }

  @Test
  void ipLimitLeavesLoopbackPrivateLinkLocalAddressesAndHostNamesAlone() {
    RoutingTable table = table(KadConfig.builder().k(64).build());
    for (String host :
        List.of(
            "127.0.0.1",
            "127.3.2.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.1",
            "192.168.1.1",
            "100.64.0.1",
            "100.127.255.1",
            "169.254.1.1",
            "::1",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:10.0.0.1",
            "node.example")) {
      assertThat(threeAt(table, host)).as(host).containsOnly(Kind.ADDED);
    }
    assertThat(table.size()).isEqualTo(48);
  }

  @Test
  void anIpv6Slash64CountsAsOneIp() {
    RoutingTable table = table(KadConfig.builder().k(20).build());
    Contact a = new Contact(self.randomInBucket(159, rng), new Address("2001:db8:1:2::1", 1));
    Contact b = new Contact(self.randomInBucket(159, rng), new Address("2001:db8:1:2::2", 1));
    Contact c = new Contact(self.randomInBucket(159, rng), new Address("2001:db8:1:2:ffff::3", 1));
    Contact d = new Contact(self.randomInBucket(159, rng), new Address("2001:db8:1:3::1", 1));
    assertThat(table.seen(a).kind()).isEqualTo(Kind.ADDED);
    assertThat(table.seen(b).kind()).isEqualTo(Kind.ADDED);
    assertThat(table.seen(c).kind()).isEqualTo(Kind.REJECTED_IP);
    assertThat(table.seen(d).kind()).isEqualTo(Kind.ADDED);
    // An IPv4-mapped public address is that IPv4 address.
    assertThat(
            table
                .seen(
                    new Contact(
                        self.randomInBucket(159, rng), new Address("::ffff:198.51.100.7", 1)))
                .kind())
        .isEqualTo(Kind.ADDED);
    assertThat(
            table
                .seen(new Contact(self.randomInBucket(159, rng), new Address("198.51.100.7", 2)))
                .kind())
        .isEqualTo(Kind.ADDED);
    assertThat(
            table
                .seen(
                    new Contact(
                        self.randomInBucket(159, rng), new Address("::ffff:198.51.100.7", 3)))
                .kind())
        .isEqualTo(Kind.REJECTED_IP);
  }

  @Test
  void maxPerIpZeroTurnsTheLimitOffAndItCountsPerBucket() {
    RoutingTable off = table(KadConfig.builder().k(20).maxPerIp(0).build());
    assertThat(threeAt(off, "203.0.113.5")).containsOnly(Kind.ADDED);
    RoutingTable one = table(KadConfig.builder().k(2).maxPerIp(1).build());
    assertThat(threeAt(one, "203.0.113.5"))
        .containsExactly(Kind.ADDED, Kind.REJECTED_IP, Kind.REJECTED_IP);
    // Another bucket has room for that IP again: the next contact splits the full one bucket.
    assertThat(one.seen(contactInBucket(10)).kind()).isEqualTo(Kind.ADDED);
    Contact near = new Contact(self.randomInBucket(10, rng), new Address("203.0.113.5", 5000));
    assertThat(one.seen(near).kind()).isEqualTo(Kind.ADDED);
  }

  @Test
  void aPromotedReplacementNeverBreaksTheIpLimit() {
    RoutingTable table = table(KadConfig.builder().k(3).replacementCacheSize(3).build());
    Contact x1 = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.1", 1));
    Contact a = new Contact(self.randomInBucket(159, rng), new Address("198.51.100.1", 1));
    Contact b = new Contact(self.randomInBucket(159, rng), new Address("198.51.100.2", 1));
    table.seen(x1);
    table.seen(a);
    table.seen(b);
    table.seen(contactInBucket(10)); // splits: the full bucket 159 cannot split any more
    // One of its IP is in the bucket when each arrives, so each waits in the cache.
    Contact y = new Contact(self.randomInBucket(159, rng), new Address("198.51.100.3", 1));
    Contact x2 = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.1", 2));
    Contact x3 = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.1", 3));
    assertThat(table.seen(y).kind()).isEqualTo(Kind.CACHED);
    assertThat(table.seen(x2).kind()).isEqualTo(Kind.CACHED);
    assertThat(table.seen(x3).kind()).isEqualTo(Kind.CACHED);
    assertThat(table.remove(a.id())).isTrue();
    assertThat(bucketOf(table, x1).contacts()).containsExactly(x1, b, x3);
    // x2 would be the third of its IP: the older y takes the place.
    assertThat(table.remove(b.id())).isTrue();
    Bucket bucket = bucketOf(table, x1);
    assertThat(bucket.contacts()).containsExactly(x1, x3, y);
    assertThat(bucket.replacements()).containsExactly(x2);
    // The full bucket refuses a fourth of that IP rather than cache it.
    Contact x4 = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.1", 4));
    assertThat(table.seen(x4).kind()).isEqualTo(Kind.REJECTED_IP);
    assertThat(bucketOf(table, x1).replacements()).containsExactly(x2);
  }

  @Test
  void claimsAtOtherPortsOfAHostNeverLockItsAnsweringNodeOut() {
    // Two made-up ids claimed at other ports of a host fill its IP's places in the bucket;
    // the host's real node answers, which proves its address, and takes the older claim's place.
    RoutingTable table = table(KadConfig.builder().k(20).build());
    Contact claim1 = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.5", 1));
    Contact claim2 = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.5", 2));
    Contact real = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.5", 7000));
    assertThat(table.seen(claim1).kind()).isEqualTo(Kind.ADDED);
    assertThat(table.seen(claim2).kind()).isEqualTo(Kind.ADDED);
    assertThat(table.seen(real).kind())
        .as("a request only claims its address")
        .isEqualTo(Kind.REJECTED_IP);

    assertThat(table.answered(real).kind()).isEqualTo(Kind.ADDED);

    assertThat(table.contains(real.id())).isTrue();
    assertThat(table.contains(claim1.id())).isFalse();
    assertThat(table.contains(claim2.id())).isTrue();
    // A further claim at that IP is still refused.
    Contact claim3 = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.5", 3));
    assertThat(table.seen(claim3).kind()).isEqualTo(Kind.REJECTED_IP);
  }

  @Test
  void oneIpFillsAtMostMaxPerIpPlacesOfAReplacementCache() {
    RoutingTable table = table(KadConfig.builder().k(3).replacementCacheSize(5).build());
    Contact member = new Contact(self.randomInBucket(159, rng), new Address("198.51.100.1", 1));
    table.seen(member);
    for (int i = 2; i <= 3; i++) {
      table.seen(new Contact(self.randomInBucket(159, rng), new Address("198.51.100." + i, 1)));
    }
    table.seen(contactInBucket(10)); // splits: the full bucket 159 cannot split any more
    Contact y1 = new Contact(self.randomInBucket(159, rng), new Address("198.51.100.4", 1));
    Contact y2 = new Contact(self.randomInBucket(159, rng), new Address("198.51.100.5", 1));
    assertThat(table.seen(y1).kind()).isEqualTo(Kind.CACHED);
    assertThat(table.seen(y2).kind()).isEqualTo(Kind.CACHED);
    // Made-up ids at five ports of one host: each waits, but only the newest two stay.
    List<Contact> flood = new ArrayList<>();
    for (int port = 1; port <= 5; port++) {
      Contact x = new Contact(self.randomInBucket(159, rng), new Address("203.0.113.9", port));
      flood.add(x);
      assertThat(table.seen(x).kind()).isEqualTo(Kind.CACHED);
    }
    assertThat(bucketOf(table, member).replacements())
        .containsExactly(y1, y2, flood.get(3), flood.get(4));
    // Addresses the limit exempts fill the cache as before.
    for (int port = 1; port <= 5; port++) {
      table.seen(new Contact(self.randomInBucket(159, rng), new Address("10.0.0.9", port)));
    }
    assertThat(bucketOf(table, member).replacements())
        .hasSize(5)
        .allMatch(c -> c.address().host().equals("10.0.0.9"));
  }

  @Test
  void subnetLimitCountsTheBucketAContactLandsInAfterASplit() {
    RoutingTable table = table(KadConfig.builder().k(2).maxPerSubnet(1).build());
    // The one bucket is full and holds this node's id: far from 192.168.7.0/24, near from another.
    Contact far = new Contact(self.randomInBucket(159, rng), new Address("192.168.7.1", 4000));
    Contact near = new Contact(self.randomInBucket(150, rng), new Address("192.168.8.1", 4000));
    table.seen(far);
    table.seen(near);
    // Near this node, it belongs in the half that splits off, where its subnet has nobody.
    Contact newcomer = new Contact(self.randomInBucket(120, rng), new Address("192.168.7.2", 4000));
    assertThat(table.seen(newcomer).kind()).isEqualTo(Kind.ADDED);
    assertThat(table.contains(newcomer.id())).isTrue();
    assertThat(bucketOf(table, far).contacts()).containsExactly(far);
  }

  @Test
  void bootstrapTargetsComeFarthestBucketFirstWhateverTheOwnIdsFirstBit() {
    for (int firstByte : new int[] {0x00, 0x80}) {
      byte[] bytes = new byte[20];
      bytes[0] = (byte) firstByte;
      NodeId own = NodeId.of(bytes);
      RoutingTable table = new RoutingTable(own, KadConfig.builder().k(1).build(), clock);
      // Each contact splits the bucket holding this node: buckets at 159, 158, and the own one.
      for (int bucket : new int[] {159, 158, 10}) {
        Contact c =
            new Contact(own.randomInBucket(bucket, rng), new Address("10.0.0." + bucket, 1));
        assertThat(table.seen(c).kind()).isEqualTo(Kind.ADDED);
      }
      List<NodeId> targets = table.bucketsBeyondClosestNeighbour(rng);
      assertThat(targets.stream().map(own::bucketIndex))
          .as("own id %s", own)
          .containsExactly(159, 158);
    }
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

  @Test
  void manyIdsClaimingOneAddressTakeOneSlotOfItsBucketAndAskForNoPing() {
    // The attack: pings from made-up ids, all claiming one address that never answers. Each took
    // a free slot or a replacement place, every answer handed them out, and each cost a timeout.
    RoutingTable table = table(k(4));
    Address claimed = new Address("10.66.0.1", 4000);
    for (int i = 0; i < 3; i++) {
      table.seen(contactInBucket(159));
    }
    Contact first = new Contact(self.randomInBucket(159, rng), claimed);
    assertThat(table.seen(first).kind()).isEqualTo(Kind.ADDED);
    for (int i = 0; i < 200; i++) {
      Insertion got = table.seen(new Contact(self.randomInBucket(159, rng), claimed));
      assertThat(got.kind()).isEqualTo(Kind.REJECTED_ADDRESS_TAKEN);
      assertThat(got.toPing()).isEmpty();
    }
    Bucket bucket = bucketOf(table, first);
    assertThat(bucket.contacts()).hasSize(4).containsOnlyOnce(first);
    assertThat(bucket.replacements()).isEmpty();
    // The holder is untouched: still heard from as itself, still failing as itself.
    assertThat(table.seen(first).kind()).isEqualTo(Kind.REFRESHED);
  }

  @Test
  void anAddressWaitingInTheReplacementCacheIsTakenThereToo() {
    RoutingTable table = table(k(2));
    Contact a = contactInBucket(159);
    Contact b = contactInBucket(159);
    table.seen(a);
    table.seen(b);
    Address claimed = new Address("10.66.0.1", 4000);
    Contact waiting = new Contact(self.randomInBucket(159, rng), claimed);
    assertThat(table.seen(waiting).kind()).isEqualTo(Kind.CACHED);
    for (int i = 0; i < 10; i++) {
      assertThat(table.seen(new Contact(self.randomInBucket(159, rng), claimed)).kind())
          .isEqualTo(Kind.REJECTED_ADDRESS_TAKEN);
    }
    assertThat(bucketOf(table, a).replacements()).containsExactly(waiting);
    // The waiting id itself is seen again as before.
    assertThat(table.seen(waiting).kind()).isEqualTo(Kind.CACHED);
    // Once it fails there, the address is free for another id.
    table.failed(waiting);
    Contact next = new Contact(self.randomInBucket(159, rng), claimed);
    assertThat(table.seen(next).kind()).isEqualTo(Kind.CACHED);
    assertThat(bucketOf(table, a).replacements()).containsExactly(next);
  }

  @Test
  void idsAtOneAddressInRandomBucketsHoldAtMostOneEntryPerBucket() {
    RoutingTable table = table(k(4));
    for (int i = 0; i < 300; i++) {
      table.seen(contactInBucket(159 - Math.min(Integer.numberOfTrailingZeros(rng.nextInt()), 20)));
    }
    Address claimed = new Address("10.66.0.1", 4000);
    for (int i = 0; i < 2000; i++) {
      table.seen(new Contact(self.randomInBucket(159 - rng.nextInt(24), rng), claimed));
    }
    assertThat(table.bucketCount()).isGreaterThan(5);
    int held = 0;
    for (Bucket b : table.snapshot().buckets()) {
      long here =
          java.util.stream.Stream.concat(b.contacts().stream(), b.replacements().stream())
              .filter(c -> c.address().equals(claimed))
              .count();
      assertThat(here).as("entries at the claimed address in %s", b).isLessThanOrEqualTo(1);
      held += (int) here;
    }
    assertThat(held).isPositive().isLessThanOrEqualTo(table.bucketCount());
  }

  @Test
  void anotherIdAtATakenAddressInAnotherBucketIsAdded() {
    // Several nodes may share a host, not a host and port; one node's address in one bucket says
    // nothing of another bucket's ids.
    RoutingTable table = table(k(2));
    Address shared = new Address("10.66.0.1", 4000);
    Contact far = new Contact(self.randomInBucket(159, rng), shared);
    Contact near = new Contact(self.randomInBucket(150, rng), shared);
    table.seen(contactInBucket(159));
    table.seen(far);
    assertThat(table.seen(near).kind()).isEqualTo(Kind.ADDED);
    assertThat(bucketOf(table, far)).isNotEqualTo(bucketOf(table, near));
    // Another port of the same host is another address.
    Contact otherPort = new Contact(self.randomInBucket(159, rng), new Address("10.66.0.1", 4001));
    assertThat(table.seen(otherPort).kind()).isNotEqualTo(Kind.REJECTED_ADDRESS_TAKEN);
  }

  @Test
  void aSplitAdmitsAnIdWhoseAddressIsHeldOnlyInTheOtherHalf() {
    // As the subnet limit, the rule counts the bucket the contact lands in, after any split.
    RoutingTable table = table(k(2));
    Address shared = new Address("10.66.0.1", 4000);
    Contact far = new Contact(self.randomInBucket(159, rng), shared);
    table.seen(far);
    table.seen(contactInBucket(150));
    // The one bucket is full and holds this node's id: it splits, and the new id lands in the
    // near half, which holds no contact at the address.
    Contact near = new Contact(self.randomInBucket(150, rng), shared);
    assertThat(table.seen(near).kind()).isEqualTo(Kind.ADDED);
    assertThat(table.bucketCount()).isGreaterThan(1);
  }

  @Test
  void aNewIdAnsweringAtAnAddressTakesItOverFromTheIdHeldThere() {
    // A node restarted at its address with a new id: asked as the old id, the address answered
    // as the new one, which is proven there; the old one is not there any more.
    RoutingTable table = table(k(2));
    Address address = new Address("10.66.0.1", 4000);
    Contact old = new Contact(self.randomInBucket(159, rng), address);
    Contact other = contactInBucket(159);
    table.seen(old);
    table.seen(other);
    Contact waiting = contactInBucket(159);
    table.seen(waiting);
    Contact restarted = new Contact(self.randomInBucket(159, rng), address);
    // Its own requests claim the address; they do not prove it.
    assertThat(table.seen(restarted).kind()).isEqualTo(Kind.REJECTED_ADDRESS_TAKEN);
    assertThat(table.answered(restarted).kind()).isEqualTo(Kind.ADDED);
    Bucket bucket = bucketOf(table, restarted);
    assertThat(bucket.contacts()).containsExactly(other, restarted);
    // It took the old one's place, not the waiting replacement's.
    assertThat(bucket.replacements()).containsExactly(waiting);
    assertThat(table.contains(old.id())).isFalse();
    assertThat(table.answered(restarted).kind()).isEqualTo(Kind.REFRESHED);
  }

  @Test
  void aNewIdAtATakenAddressIsAddedOnceTheIdHeldThereFailedOut() {
    // A node restarted with a new id and never asked under its old one: its own requests bring
    // it in once the old id has failed maxFailures times and left.
    RoutingTable table = table(KadConfig.builder().k(4).maxFailures(2).build());
    Address address = new Address("10.66.0.1", 4000);
    Contact old = new Contact(self.randomInBucket(159, rng), address);
    Contact other = contactInBucket(159);
    table.seen(old);
    table.seen(other);
    Contact restarted = new Contact(self.randomInBucket(159, rng), address);
    assertThat(table.seen(restarted).kind()).isEqualTo(Kind.REJECTED_ADDRESS_TAKEN);
    assertThat(table.failed(old).removed()).isFalse();
    table.seen(other);
    assertThat(table.failed(old).removed()).isTrue();
    assertThat(table.seen(restarted).kind()).isEqualTo(Kind.ADDED);
    assertThat(bucketOf(table, other).contacts()).containsExactly(other, restarted);
  }

  @Test
  void aNewIdAnsweringAtAnAddressWaitingInTheCacheTakesItsPlaceThere() {
    RoutingTable table = table(k(1));
    Contact member = contactInBucket(159);
    table.seen(member);
    Address address = new Address("10.66.0.1", 4000);
    Contact old = new Contact(self.randomInBucket(159, rng), address);
    assertThat(table.seen(old).kind()).isEqualTo(Kind.CACHED);
    Contact restarted = new Contact(self.randomInBucket(159, rng), address);
    assertThat(table.answered(restarted).kind()).isEqualTo(Kind.CACHED);
    assertThat(bucketOf(table, member).replacements()).containsExactly(restarted);
  }

  @Test
  void anAnswerFromAKnownIdAtAnotherIdsAddressKeepsTheFirstAddressOfEach() {
    // The id keeps its first address (OTHER_ADDRESS) even when an answer proves the new one: the
    // id's own failures move it, and the holder of the address is left alone.
    RoutingTable table = table(k(4));
    Contact a = contactInBucket(159);
    Contact b = contactInBucket(159);
    table.seen(a);
    table.seen(b);
    assertThat(table.answered(new Contact(a.id(), b.address())).kind())
        .isEqualTo(Kind.OTHER_ADDRESS);
    assertThat(bucketOf(table, a).contacts()).containsExactly(a, b);
  }

  private static Bucket bucketOf(RoutingTable table, Contact member) {
    return table.snapshot().buckets().stream()
        .filter(b -> b.contacts().contains(member))
        .findFirst()
        .orElseThrow();
  }
}
