package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.reactor.store.RecordingLogger;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

class MaintenanceTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(4)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .refreshInterval(Duration.ofHours(1))
          .replicateInterval(Duration.ofHours(1))
          .republishInterval(Duration.ofHours(1))
          .expireAfter(Duration.ofHours(2))
          .jobJitter(Duration.ZERO)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  @Test
  void aBucketNotLookedUpForAnHourIsRefreshedAndOneLookedUpIsNot() {
    Cluster c = clusters.grow(21, 16);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode node = c.startRecorded(recorder);
    c.vts.advanceTimeBy(Duration.ofMinutes(50));
    // A lookup into the far half of the space touches that bucket at minute 50.
    c.await(node.findNode(node.id().randomInBucket(159, c.random)));
    recorder[0].clear();
    c.vts.advanceTimeBy(Duration.ofMinutes(25));
    List<NodeId> targets =
        recorder[0].sent().stream()
            .filter(Request.FindNode.class::isInstance)
            .map(r -> ((Request.FindNode) r).target())
            .toList();
    assertThat(targets).as("refreshed buckets").anyMatch(t -> node.id().bucketIndex(t) < 159);
    assertThat(targets)
        .as("the far bucket was looked up 25 minutes ago")
        .noneMatch(t -> node.id().bucketIndex(t) == 159);
    // At most k requests per refreshed bucket.
    java.util.Map<NodeId, Long> perTarget =
        targets.stream()
            .collect(
                java.util.stream.Collectors.groupingBy(
                    t -> t, java.util.stream.Collectors.counting()));
    assertThat(perTarget.values())
        .allSatisfy(n -> assertThat(n).isLessThanOrEqualTo((long) CONFIG.k()));
  }

  @Test
  void aDeadContactLeavesEveryTableOfAQuietNetworkWithinTheLivenessRunsItTakes() {
    // Found by KadScenarioProperties: on a network where nothing else happens, a node hears from
    // nobody between two liveness runs, so a failed liveness ping counted only when an hourly
    // refresh happened to be answered in between, and a dead contact stayed in most tables for
    // three hours; their answers listed it ahead of live nodes that lookups then missed.
    KadConfig config = CONFIG.toBuilder().k(6).build();
    Cluster c = clusters.grow(948187, config, 20);
    KadNode dead = c.node(0);
    c.network.kill(dead.contact().address());
    // Due once unheard for refreshInterval; a liveness run every refreshInterval / 6 pings one
    // contact per bucket, oldest first (k - 1 may come before it), and maxFailures evict it.
    Duration period = Maintenance.refreshPeriod(config);
    c.vts.advanceTimeBy(
        config
            .refreshInterval()
            .plus(period.multipliedBy(config.k() - 1 + config.maxFailures() + 1)));
    assertThat(c.nodes)
        .filteredOn(n -> n != dead)
        .noneMatch(n -> ((DefaultKadNode) n).table().contains(dead.id()));
  }

  @Test
  void aValueExpiresAtItsExpiryAndNotBefore() {
    Cluster c = clusters.grow(22, 12);
    Key key = Key.of("short-lived");
    KadNode publisher = c.node(2);
    var expiry = c.now().plus(Duration.ofMinutes(30));
    c.await(publisher.put(key, Value.of(new byte[] {1}, publisher.id(), 1, 1, expiry)));
    c.vts.advanceTimeBy(Duration.ofMinutes(29));
    assertThat(c.await(c.node(9).get(key))).hasSize(1);
    c.vts.advanceTimeBy(Duration.ofMinutes(2));
    assertThat(c.await(c.node(9).get(key))).isEmpty();
    assertThat(c.nodes).allSatisfy(n -> assertThat(((DefaultKadNode) n).store().size()).isZero());
  }

  @Test
  void republishKeepsAValueAliveAcrossExpiryPeriodsUntilStopped() {
    Cluster c = clusters.grow(23, 12);
    Key key = Key.of("long-lived");
    KadNode publisher = c.node(4);
    c.await(publisher.put(key, new byte[] {5}));
    c.vts.advanceTimeBy(Duration.ofHours(7));
    assertThat(c.await(c.node(10).get(key)))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(5));
    assertThat(publisher.stopRepublishing(key)).isTrue();
    c.vts.advanceTimeBy(Duration.ofHours(3));
    assertThat(c.await(c.node(10).get(key))).isEmpty();
  }

  @Test
  void aJobJitterLongerThanHalfTheExpiryStillRepublishesBeforeTheValueExpires() {
    // Republish every hour, values live two: a start delay of up to a day drawn for the job
    // put its first run, most likely, past the expiry of every value put before it.
    KadConfig jittery = CONFIG.toBuilder().jobJitter(Duration.ofHours(24)).build();
    Cluster c = clusters.grow(29, jittery, 12);
    Key key = Key.of("put-at-start");
    KadNode publisher = c.join(c.builder().config(jittery));
    c.await(publisher.put(key, new byte[] {7}));
    c.vts.advanceTimeBy(Duration.ofHours(2).plusMinutes(1));
    assertThat(c.await(c.node(3).get(key)))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(7));
  }

  @Test
  void keysNoLongerRepublishedAreLeftOutOfARepublishRunAlreadyGoing() {
    Cluster c = clusters.grow(28, 12);
    RecordingTransport[] recorder = new RecordingTransport[1];
    Instant started = c.now();
    KadNode node = c.startRecorded(recorder);
    List<Key> keys = List.of(Key.of("a"), Key.of("b"), Key.of("c"));
    for (Key key : keys) {
      c.await(node.put(key, new byte[] {1}));
    }
    Instant putExpiry = c.now().plus(CONFIG.expireAfter());
    Set<NodeId> lookups = keys.stream().map(Key::asNodeId).collect(Collectors.toSet());
    c.vts.advanceTimeBy(Duration.between(c.now(), started.plus(Duration.ofMinutes(59))));
    recorder[0].clear();
    // Step to the republish run's first lookup of one of the keys, then stop all three.
    for (int ms = 0; ms < 120_000; ms++) {
      if (recorder[0].sent().stream()
          .anyMatch(r -> r instanceof Request.FindNode f && lookups.contains(f.target()))) {
        break;
      }
      c.vts.advanceTimeBy(Duration.ofMillis(1));
    }
    keys.forEach(key -> assertThat(node.stopRepublishing(key)).isTrue());
    c.vts.advanceTimeBy(Duration.ofMinutes(10));
    Set<Key> renewed =
        recorder[0].sent().stream()
            .filter(Request.Store.class::isInstance)
            .map(Request.Store.class::cast)
            .filter(r -> r.values().stream().anyMatch(v -> v.expiresAt().isAfter(putExpiry)))
            .map(Request.Store::key)
            .collect(Collectors.toSet());
    // Only the key whose renewal was under way when they were stopped.
    assertThat(renewed).hasSize(1);
  }

  @Test
  void replicationRestoresTheCopiesWhenHoldersDie() {
    // Values live 10 hours here, so that this one outlasts two replication periods unrepublished.
    Cluster c = clusters.grow(24, CONFIG.toBuilder().expireAfter(Duration.ofHours(10)).build(), 20);
    Key key = Key.of("replicated");
    KadNode publisher = c.node(0);
    c.await(
        publisher.put(
            key,
            Value.of(new byte[] {1}, publisher.id(), 1, 1, c.now().plus(Duration.ofHours(10)))));
    List<KadNode> holders = c.holders(key);
    assertThat(holders).hasSizeGreaterThanOrEqualTo(CONFIG.k());
    // Kill all holders but one.
    for (KadNode h : holders.subList(1, holders.size())) {
      c.network.kill(h.contact().address());
    }
    assertThat(c.holders(key)).hasSize(1);
    c.vts.advanceTimeBy(Duration.ofMinutes(130));
    assertThat(c.holders(key)).hasSizeGreaterThanOrEqualTo(CONFIG.k());
  }

  @Test
  void aCachedCopyLandingOnAHolderDoesNotStopItReplicating() {
    KadConfig config =
        CONFIG.toBuilder().expireAfter(Duration.ofHours(10)).maintenance(false).build();
    Cluster c = clusters.grow(25, config, 20);
    Key key = Key.of("cached on a holder");
    KadNode publisher = c.node(0);
    Value value =
        Value.of(new byte[] {1}, publisher.id(), 1, 1, c.now().plus(Duration.ofHours(10)));
    c.await(publisher.put(key, value));
    List<KadNode> holders = c.holders(key);
    assertThat(holders).hasSizeGreaterThanOrEqualTo(CONFIG.k());
    DefaultKadNode holder = (DefaultKadNode) holders.get(0);
    c.vts.advanceTimeBy(CONFIG.replicateInterval().plusMinutes(1));
    // A get leaves a cached copy at it (as one does at a node that answered before the put).
    DefaultKadNode getter =
        (DefaultKadNode) c.nodes.stream().filter(n -> !holders.contains(n)).findFirst().get();
    c.await(
        getter.call(
            holder.contact(), new Request.Store(getter.contact(), key, List.of(value), true)));
    for (KadNode h : holders.subList(1, holders.size())) {
      c.network.kill(h.contact().address());
    }

    // Stored here by its publisher more than an interval ago, and by nobody since: replicated.
    c.await(new Maintenance(holder).replicate());
    assertThat(c.holders(key)).hasSizeGreaterThanOrEqualTo(CONFIG.k());
  }

  @Test
  void closeStopsEveryJob() {
    Cluster c = clusters.grow(25, 8);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode node = c.startRecorded(recorder);
    c.await(node.put(Key.of("mine"), new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofHours(2));
    assertThat(recorder[0].sent()).isNotEmpty();
    c.await(node.close());
    recorder[0].clear();
    c.vts.advanceTimeBy(Duration.ofHours(30));
    assertThat(recorder[0].sent()).isEmpty();
  }

  @Test
  void aJobSwitchedOffInTheConfigurationDoesNotRun() {
    KadConfig noRepublish =
        CONFIG.toBuilder()
            .jobs(
                java.util.EnumSet.complementOf(
                    java.util.EnumSet.of(dev.kad.api.MaintenanceJob.REPUBLISH)))
            .build();
    Cluster c = clusters.grow(26, noRepublish, 12);
    Key key = Key.of("not republished");
    c.await(c.node(4).put(key, new byte[] {5}));
    c.vts.advanceTimeBy(Duration.ofHours(3));
    // Expired after expireAfter (2 h): nobody renewed it.
    assertThat(c.await(c.node(10).get(key))).isEmpty();
  }

  @Test
  void aFailedRunNeverStopsItsSchedule() {
    Cluster c = clusters.grow(27, 4);
    java.util.concurrent.atomic.AtomicInteger expiryRuns =
        new java.util.concurrent.atomic.AtomicInteger();
    RecordStore failing =
        new ForwardingRecordStore(new InMemoryRecordStore(CONFIG)) {
          @Override
          public int expire(java.time.Instant now) {
            expiryRuns.incrementAndGet();
            throw new IllegalStateException("expiry broke");
          }
        };
    KadNode node = c.await(c.builder().store(failing).start());
    c.nodes.add(node);
    c.vts.advanceTimeBy(CONFIG.expiryInterval().multipliedBy(5).plusSeconds(1));
    assertThat(expiryRuns.get()).isEqualTo(5);
  }

  @Test
  void aRunSlowerThanItsPeriodIsFollowedByOneRunNotABurstOfMissedOnes() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    AtomicInteger runs = new AtomicInteger();
    // The first run takes 40 periods, the later ones none.
    Mono<Void> run =
        Mono.defer(
            () ->
                runs.incrementAndGet() == 1
                    ? Mono.delay(Duration.ofSeconds(40), time).then()
                    : Mono.<Void>empty());
    Disposable job =
        Maintenance.every(Duration.ofSeconds(1), Duration.ofSeconds(1), time, run).subscribe();
    time.advanceTimeBy(Duration.ofMillis(41_500));
    assertThat(runs.get()).isEqualTo(2);
    time.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(runs.get()).isEqualTo(12);
    job.dispose();
  }

  @Test
  void aRunEndedByCloseIsLoggedAtDebugNotAsAFailure() {
    // Buckets go stale a minute after the bootstrap touched them, and refresh checks every 10 s:
    // the run a minute after the start looks them up.
    KadConfig config =
        CONFIG.toBuilder().refreshInterval(Duration.ofMinutes(1)).maintenance(false).build();
    Cluster c = clusters.grow(29, config, 12);
    RecordingTransport[] recorder = new RecordingTransport[1];
    DefaultKadNode node = (DefaultKadNode) c.startRecorded(recorder);
    RecordingLogger log = new RecordingLogger();
    Maintenance maintenance = new Maintenance(node, log).start();
    try {
      c.vts.advanceTimeBy(Duration.ofSeconds(55));
      recorder[0].clear();
      // Step to the refresh run's first lookup request, then close the node under it.
      for (int ms = 0; ms < 20_000; ms++) {
        if (recorder[0].sent().stream().anyMatch(Request.FindNode.class::isInstance)) {
          break;
        }
        c.vts.advanceTimeBy(Duration.ofMillis(1));
      }
      assertThat(recorder[0].sent()).anyMatch(Request.FindNode.class::isInstance);
      c.await(node.close());

      assertThat(log.lines).anyMatch(l -> l.matches("DEBUG node=\\S+ REFRESH run ended by close"));
      assertThat(log.lines).noneMatch(l -> l.startsWith("WARN") || l.startsWith("ERROR"));
    } finally {
      maintenance.dispose();
    }
  }

  @Test
  void aFailedRunIsLoggedAsOneWarningNamingTheJob() {
    Cluster c = clusters.grow(30, 4);
    RecordStore failing =
        new ForwardingRecordStore(new InMemoryRecordStore(CONFIG)) {
          @Override
          public int expire(Instant now) {
            throw new IllegalStateException("expiry broke");
          }
        };
    DefaultKadNode node =
        (DefaultKadNode)
            c.await(
                c.builder()
                    .config(CONFIG.toBuilder().maintenance(false).build())
                    .store(failing)
                    .start());
    c.nodes.add(node);
    RecordingLogger log = new RecordingLogger();
    Maintenance maintenance = new Maintenance(node, log).start();
    try {
      c.vts.advanceTimeBy(CONFIG.expiryInterval().multipliedBy(3).plusSeconds(1));
      assertThat(log.lines)
          .filteredOn(l -> l.startsWith("WARN"))
          .hasSize(3)
          .allMatch(l -> l.contains("EXPIRY run failed") && l.contains("expiry broke"));
    } finally {
      maintenance.dispose();
    }
  }
}
