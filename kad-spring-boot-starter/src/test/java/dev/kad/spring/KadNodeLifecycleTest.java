package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.MaintenanceJob;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.spi.NodeListener;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.KadNodes;
import dev.kad.reactor.SchedulerClock;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * The background bootstrap of {@link KadNodeLifecycle}, and the health it reports, on virtual time.
 */
class KadNodeLifecycleTest {

  private static final KadConfig CONFIG = KadConfig.builder().maintenance(false).build();

  /** An address the network never handed out: sending there fails at once, like a refusal. */
  private static final Address SEED = Address.parse("10.9.0.1:4000");

  private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(vts, 11);
  private final Clock clock = Clock.fixed(Instant.EPOCH, ZoneOffset.UTC);

  /** The nodes' clock: virtual time, from the epoch. */
  private final Clock virtualClock = SchedulerClock.of(vts);

  private final List<KadNode> nodes = new ArrayList<>();

  /** The virtual times at which bootstrap attempts succeeded or failed. */
  private final List<Duration> attempts = new CopyOnWriteArrayList<>();

  private final KadNode node = start(network.newTransport(), recordingAttempts());

  @AfterEach
  void closeEverything() {
    for (KadNode n : nodes) {
      VirtualTime.await(vts, n.close());
    }
    vts.dispose();
  }

  @Test
  void retriesAFailedBootstrapWithBoundedBackOffUntilASeedAnswers() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle);
    lifecycle.start();
    assertThat(attempts).hasSize(1);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.FAILED);
    assertThat(lifecycle.status().error())
        .hasValueSatisfying(e -> assertThat(e).contains(SEED.toString()));

    vts.advanceTimeBy(KadNodeLifecycle.FIRST_RETRY_DELAY.minusMillis(1));
    assertThat(attempts).hasSize(1);
    // The first retry waits between 1 and 1.5 s (jitter).
    vts.advanceTimeBy(KadNodeLifecycle.FIRST_RETRY_DELAY.dividedBy(2).plusMillis(1));
    assertThat(attempts).hasSize(2);

    vts.advanceTimeBy(Duration.ofMinutes(30));
    List<Duration> gaps = gaps();
    assertThat(gaps)
        .allSatisfy(g -> assertThat(g).isLessThanOrEqualTo(KadNodeLifecycle.MAX_RETRY_DELAY));
    // Doubling reaches the cap: the late attempts come about once a minute, not in a busy loop.
    assertThat(gaps.subList(gaps.size() - 5, gaps.size()))
        .allSatisfy(
            g ->
                assertThat(g)
                    .isGreaterThanOrEqualTo(KadNodeLifecycle.MAX_RETRY_DELAY.dividedBy(2)));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.FAILED);
    assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);

    start(network.newTransport(SEED), NodeListener.NONE);
    vts.advanceTimeBy(KadNodeLifecycle.MAX_RETRY_DELAY.plusSeconds(1));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    int joinedAfter = attempts.size();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(joinedAfter);
    lifecycle.stop();
  }

  @Test
  void aFailedJoinSaysWhenItIsRetriedAndARetriedJoinSaysThroughWhichSeedAndAtWhichAttempt() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    try (CapturedLog log = CapturedLog.start()) {
      saysWhenItRetriesAndThroughWhichSeedItJoined(lifecycle, log);
    }
    lifecycle.stop();
  }

  private void saysWhenItRetriesAndThroughWhichSeedItJoined(
      KadNodeLifecycle lifecycle, CapturedLog log) {
    lifecycle.start();
    String id = node.id().toShortHex();
    assertThat(log.text())
        .contains(
            "kad node " + id + " could not bootstrap from [" + SEED + "]: ",
            "; retrying in about 1 s, backing off to at most 1 min (further failures at DEBUG)")
        .doesNotContain("at least every");
    vts.advanceTimeBy(Duration.ofSeconds(2));
    assertThat(attempts).hasSize(2);
    start(network.newTransport(SEED), NodeListener.NONE);
    vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    // The attempt that succeeded is the last one recorded.
    assertThat(attempts).hasSizeGreaterThan(2);
    assertThat(log.text())
        .containsOnlyOnce(
            "kad node " + id + " joined through " + SEED + " at attempt " + attempts.size());
  }

  @Test
  void aSeedFoundNotToFitAfterItWasDownIsAWarningThoughLaterFailuresAreQuiet() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    try (CapturedLog log = CapturedLog.start()) {
      lifecycle.start();
      vts.advanceTimeBy(Duration.ofSeconds(2));
      // The seed comes up with ids of another width: no retry mends that, unlike its absence.
      start(network.newTransport(SEED), NodeListener.NONE, CONFIG.toBuilder().idBits(256).build());
      vts.advanceTimeBy(Duration.ofMinutes(5));
      assertThat(attempts).hasSizeGreaterThan(4);
      assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.FAILED);
      String id = node.id().toShortHex();
      assertThat(log.text())
          .containsOnlyOnce("kad node " + id + " could not bootstrap from [" + SEED + "]: ")
          .containsOnlyOnce(
              "kad node "
                  + id
                  + " cannot join through ["
                  + SEED
                  + "] until a seed or this node is reconfigured: ")
          .contains("sender id must have 256 bits but had 160")
          .containsOnlyOnce("still retrying at most every 1 min, in case it is");
    }
    lifecycle.stop();
  }

  @Test
  void humanDurationsReadAsAPersonWouldSayThem() {
    assertThat(KadNodeLifecycle.readable(Duration.ofSeconds(1))).isEqualTo("1 s");
    assertThat(KadNodeLifecycle.readable(Duration.ofMinutes(1))).isEqualTo("1 min");
    assertThat(KadNodeLifecycle.readable(Duration.ofMillis(1500))).isEqualTo("1500 ms");
    assertThat(KadNodeLifecycle.readable(Duration.ofSeconds(90))).isEqualTo("90 s");
    assertThat(KadNodeLifecycle.readable(Duration.ofHours(2))).isEqualTo("2 h");
  }

  @Test
  void closingCompletesWhenTheLifecycleClosesTheNodeOutsideAnyContext() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(), clock, vts);
    CompletableFuture<Void> closing = lifecycle.closing().toFuture();
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofHours(1));
    lifecycle.stop();
    assertThat(closing).isNotDone();
    VirtualTime.await(vts, lifecycle.close());
    assertThat(closing).isCompleted();
    StepVerifier.create(lifecycle.closing()).expectComplete().verify(Duration.ofSeconds(10));
  }

  @Test
  void aNodeWhoseOnlySeedIsItselfJoinsAtOnceAsTheFirstNodeIsUpAndIsNotRejoined() {
    // Every pod of a StatefulSet is given the first one as its seed, the first one included: the
    // next pod is only created once this one is ready.
    Address own = node.contact().address();
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(own), clock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle);
    lifecycle.start();
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(lifecycle.status().ownSeed()).isTrue();
    Health up = health.health();
    assertThat(up.getStatus()).isEqualTo(Status.UP);
    assertThat(up.getDetails())
        .containsEntry("contacts", 0)
        .containsEntry("ownSeed", true)
        .doesNotContainKey("bootstrapError");
    // Alone with an empty table, it is not bootstrapped again every minute.
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(1);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);

    // The next pod joins through it with the same seed list.
    KadNode second = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, second.bootstrap(List.of(own)));
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(node.routingTable().size()).isEqualTo(1);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    assertThat(attempts).hasSize(1);
    lifecycle.stop();
  }

  @Test
  void startingAgainAFirstNodeThatStillKnowsNoContactDoesNotBootstrapIt() {
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(node.contact().address()), clock, vts);
    lifecycle.start();
    lifecycle.stop();
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(1);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    lifecycle.stop();
  }

  @Test
  void aNodeAmongItsOwnSeedsIsUpWhileTheOthersDoNotAnswerAndJoinsWhenAPeerJoinsThroughIt() {
    // The seed list names the first pods; the others do not exist yet when the first one starts.
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(node.contact().address(), SEED), clock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle);
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofMinutes(5));
    // It keeps trying the others (a restarted first node must rejoin its network), and is up
    // meanwhile as the first node of its network, or the next pod would never be created.
    assertThat(attempts).hasSizeGreaterThan(2);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.FAILED);
    assertThat(lifecycle.status().error())
        .hasValueSatisfying(
            e -> assertThat(e).contains(SEED.toString()).contains("this node itself"));
    Health up = health.health();
    assertThat(up.getStatus()).isEqualTo(Status.UP);
    assertThat(up.getDetails()).containsEntry("ownSeed", true).containsKey("bootstrapError");

    // A second node joins through it, knowing a third one the first does not know yet.
    KadNode peer = start(network.newTransport(), NodeListener.NONE);
    KadNode third = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, third.bootstrap(List.of(peer.contact().address())));
    VirtualTime.await(vts, peer.bootstrap(List.of(node.contact().address())));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    assertThat(node.routingTable().size()).isEqualTo(1);
    // Its next attempt fails like every other, and is its last: it is in its network, and looks up
    // its own id through the contact it knows, as a bootstrap would.
    vts.advanceTimeBy(KadNodeLifecycle.MAX_RETRY_DELAY.plusSeconds(10));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(node.routingTable().size()).isEqualTo(2);
    assertThat(health.health().getDetails()).doesNotContainKey("bootstrapError");
    int joined = attempts.size();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(joined);
    lifecycle.stop();
  }

  @Test
  void aFirstNodeThatLosesTheContactsItHadBootstrapsOnceAgainThenRests() {
    // At most one contact of a /24 per bucket: the neighbour is heard from but not kept, which
    // lets the first node count the failures of the peer that joined it (see joinThenLose...).
    KadNode first =
        start(
            network.newTransport(),
            recordingAttempts(),
            KadConfig.builder().maintenance(false).maxPerSubnet(1).build());
    Address own = first.contact().address();
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(first, List.of(own), clock, vts);
    KadHealthIndicator health = new KadHealthIndicator(first, lifecycle);
    lifecycle.start();
    assertThat(attempts).hasSize(1);
    KadNode peer = start(network.newTransport(SEED), NodeListener.NONE);
    VirtualTime.await(vts, peer.bootstrap(List.of(own)));
    // A check sees it know a contact: it has a network now.
    vts.advanceTimeBy(KadNodeLifecycle.MAX_SILENCE_CHECK_INTERVAL.plusSeconds(1));
    assertThat(attempts).hasSize(1);

    VirtualTime.await(vts, peer.close());
    KadNode neighbour =
        start(network.newTransport(Address.parse("10.9.0.2:4000")), NodeListener.NONE);
    for (int i = 0; i < 4 * CONFIG.maxFailures() && first.routingTable().size() > 0; i++) {
      VirtualTime.await(vts, neighbour.bootstrap(List.of(own)).onErrorResume(e -> Mono.empty()));
      VirtualTime.await(
          vts,
          first.findNode(NodeId.random(new SplittableRandom(i))).onErrorResume(e -> Mono.empty()));
    }
    assertThat(first.routingTable().size()).isZero();
    // Its network is lost: it bootstraps again, finds only itself, and is the first node again,
    // up, without bootstrapping every minute after.
    vts.advanceTimeBy(KadNodeLifecycle.MAX_SILENCE_CHECK_INTERVAL.plusSeconds(1));
    assertThat(attempts).hasSize(2);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(2);
    lifecycle.stop();
  }

  @Test
  void aFirstNodeWhosePeersAllDiedBootstrapsAgainOncePerThresholdNotAtEveryCheck() {
    Duration threshold = Duration.ofMinutes(10);
    Address own = node.contact().address();
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(own), threshold, virtualClock, vts);
    lifecycle.start();
    KadNode peer = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, peer.bootstrap(List.of(own)));
    // The peer dies; the first node keeps its contact (it hears from nobody, so no failure counts).
    network.kill(peer.contact().address());
    vts.advanceTimeBy(threshold.plus(KadNodeLifecycle.MAX_SILENCE_CHECK_INTERVAL));
    assertThat(attempts).hasSize(2);
    assertThat(node.routingTable().size()).isPositive();
    // Its bootstrap heard only itself: silence counts from it, so the checks (every 2.5 min) do
    // not bootstrap it again before a whole threshold has passed.
    Duration rejoined = attempts.get(1);
    vts.advanceTimeBy(rejoined.plus(threshold).minusSeconds(1).minus(now()));
    assertThat(attempts).hasSize(2);
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts.size() - 2).isBetween(1, 6);
    lifecycle.stop();
  }

  @Test
  void stoppingEndsTheRetries() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofSeconds(10));
    int before = attempts.size();
    assertThat(before).isGreaterThan(1);

    lifecycle.stop();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(before);
    assertThat(lifecycle.isRunning()).isFalse();
  }

  @Test
  void aNodeClosedElsewhereEndsTheRetries() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofSeconds(10));
    String lastError = lifecycle.status().error().orElseThrow();

    // As when the context fails after the lifecycle started: the node's destroy method closes it.
    VirtualTime.await(vts, node.close());
    int closedAt = attempts.size();
    vts.advanceTimeBy(Duration.ofHours(1));
    // At most the one attempt that finds the node closed, and the status keeps the last failure.
    assertThat(attempts.size()).isLessThanOrEqualTo(closedAt + 1);
    int after = attempts.size();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(after);
    assertThat(lifecycle.status().error()).hasValue(lastError);
    lifecycle.stop();
  }

  @Test
  void stoppingLeavesTheNodeOpenForItsPeers() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    lifecycle.start();
    lifecycle.stop();
    assertThat(lifecycle.isRunning()).isFalse();

    KadNode peer = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, peer.bootstrap(List.of(node.contact().address())));
    assertThat(peer.routingTable().size()).isPositive();
    assertThat(node.routingTable().size()).isPositive();
  }

  @Test
  void startingAgainAfterAStopResumesJoining() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofSeconds(10));
    lifecycle.stop();
    vts.advanceTimeBy(Duration.ofHours(1));
    int paused = attempts.size();
    start(network.newTransport(SEED), NodeListener.NONE);

    lifecycle.start();
    assertThat(lifecycle.isRunning()).isTrue();
    assertThat(attempts).hasSize(paused + 1);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    // Starting twice runs one join, and a node that joined and knows contacts does not join again.
    lifecycle.start();
    lifecycle.stop();
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(paused + 1);
    lifecycle.stop();
  }

  @Test
  void closingEndsTheRetriesAndClosesTheNode() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofSeconds(10));
    VirtualTime.await(vts, lifecycle.close());
    int closedAt = attempts.size();
    assertThat(lifecycle.isRunning()).isFalse();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(closedAt);
    StepVerifier.create(node.findNode(NodeId.random(new SplittableRandom(5))))
        .expectError(NodeClosedException.class)
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void healthIsUpForTheFirstNodeOfItsNetworkThoughItKnowsNoContact() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(), clock, vts);
    lifecycle.start();
    assertThat(node.routingTable().size()).isZero();
    assertThat(new KadHealthIndicator(node, lifecycle).health().getStatus()).isEqualTo(Status.UP);
    lifecycle.stop();
  }

  /**
   * A closed node answers nobody: an application bean or an operator closed it, or the context
   * failed after it started. Health reported the first node of its network up, and a joined node up
   * while its table and lastHeard were fresh, so a load balancer kept sending it requests.
   */
  @Test
  void healthIsDownOnceTheNodeIsClosedThoughItIsTheFirstNodeOfItsNetwork() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(), clock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle);
    lifecycle.start();
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);

    VirtualTime.await(vts, node.close());
    Health closed = health.health();
    assertThat(closed.getStatus()).isEqualTo(Status.DOWN);
    assertThat(closed.getDetails()).containsEntry("closed", true);
    lifecycle.stop();
  }

  @Test
  void healthIsDownOnceAJoinedNodeIsClosedThoughItsTableIsFull() {
    KadNode seed = start(network.newTransport(SEED), NodeListener.NONE);
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), virtualClock, vts);
    KadHealthIndicator health =
        new KadHealthIndicator(
            node,
            lifecycle,
            KadHealthIndicator.defaultSilenceThreshold(node.config()),
            virtualClock);
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);

    VirtualTime.await(vts, node.close());
    assertThat(node.stats().contacts()).isPositive();
    assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
    assertThat(seed.routingTable().size()).isPositive();
    lifecycle.stop();
  }

  @Test
  void healthIsUnknownWhileTheFirstJoinIsUnderWayThenUp() {
    start(network.newTransport(SEED), NodeListener.NONE);
    network.latency(Duration.ofMillis(100));
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle);
    lifecycle.start();
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.RUNNING);
    assertThat(health.health().getStatus()).isEqualTo(Status.UNKNOWN);
    vts.advanceTimeBy(Duration.ofMinutes(1));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    lifecycle.stop();
  }

  @Test
  void healthIsDownWhenAJoinedNodeHasLostEveryContact() {
    Cut cut = joinThenLoseEveryContact(Duration.ZERO);
    assertThat(cut.health().health().getStatus()).isEqualTo(Status.DOWN);
    cut.lifecycle().stop();
  }

  @Test
  void healthStaysDownNeverUnknownWhileANodeThatLostEveryContactRejoins() {
    Cut cut = joinThenLoseEveryContact(Duration.ofMinutes(10));
    int before = attempts.size();
    // Longer than the threshold, second by second: each attempt waits 5 s for the dead seed.
    List<String> seen = new ArrayList<>();
    for (int second = 0; second < 15 * 60; second++) {
      vts.advanceTimeBy(Duration.ofSeconds(1));
      Health h = cut.health().health();
      String sample = h.getStatus() + "/" + h.getDetails().get("bootstrap");
      if (!seen.contains(sample)) {
        seen.add(sample);
      }
    }
    // Caught with an attempt in flight, and down all along: a rejoin is no first join.
    assertThat(seen).contains("DOWN/RUNNING").allMatch(x -> x.startsWith("DOWN/"));
    assertThat(attempts.size()).isGreaterThan(before + 1);
    Health down = cut.health().health();
    assertThat(down.getDetails())
        .containsEntry("bootstrap", "FAILED")
        .containsEntry("rejoining", true);
    // Every attempt of this rejoin, finished or under way.
    assertThat((Integer) down.getDetails().get("bootstrapAttempts"))
        .isGreaterThanOrEqualTo(attempts.size() - before);
    assertThat(cut.lifecycle().status().rejoining()).isTrue();
    cut.lifecycle().stop();
  }

  @Test
  void aNodeThatLostEveryContactRejoinsWithoutGivingUpAndIsUpWhenItsSeedReturns() {
    // Without maintenance there is no silence threshold: the empty table alone calls for a rejoin.
    Cut cut = joinThenLoseEveryContact(KadHealthIndicator.defaultSilenceThreshold(CONFIG));
    int before = attempts.size();
    // The seed stays down for an hour: the node keeps trying, but not in a busy loop.
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts.size() - before).isGreaterThan(10);
    List<Duration> gaps = gaps();
    assertThat(gaps.subList(gaps.size() - 5, gaps.size()))
        .allSatisfy(
            g ->
                assertThat(g)
                    .isGreaterThanOrEqualTo(KadNodeLifecycle.MAX_RETRY_DELAY.dividedBy(2)));
    assertThat(cut.health().health().getStatus()).isEqualTo(Status.DOWN);
    assertThat(cut.lifecycle().status().state()).isEqualTo(BootstrapStatus.State.FAILED);

    // It comes back, at its old address: the node joins at its next attempt, by itself.
    start(network.newTransport(SEED), NodeListener.NONE);
    vts.advanceTimeBy(KadNodeLifecycle.MAX_RETRY_DELAY.plusSeconds(10));
    assertThat(cut.joiner().routingTable().size()).isPositive();
    assertThat(cut.lifecycle().status().state()).isEqualTo(BootstrapStatus.State.DONE);
    Health up = cut.health().health();
    assertThat(up.getStatus()).isEqualTo(Status.UP);
    assertThat(up.getDetails())
        .containsEntry("rejoining", false)
        .doesNotContainKey("bootstrapError");
    // Joined, it tries no more.
    int joined = attempts.size();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(joined);
    cut.lifecycle().stop();
  }

  @Test
  void healthIsDownWhileAJoinedNodeHearsFromNoNodeForLongerThanTheThresholdThoughItKeepsContacts() {
    Duration threshold = Duration.ofMinutes(10);
    KadNode seed = start(network.newTransport(SEED), NodeListener.NONE);
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), virtualClock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle, threshold, virtualClock);
    lifecycle.start();
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    assertThat(health.health().getDetails())
        .containsEntry("silenceThreshold", "PT10M")
        .containsKey("lastHeard");

    // The node's own link goes down; it has nothing to ask meanwhile (no maintenance).
    network.isolate(List.of(node.contact().address()));
    vts.advanceTimeBy(threshold.minusSeconds(2));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
    // Its requests go unanswered, and the table keeps the contact, which only silence gives away.
    VirtualTime.await(
        vts,
        node.findNode(NodeId.random(new SplittableRandom(3))).onErrorResume(e -> Mono.empty()));
    Health down = health.health();
    assertThat(down.getStatus()).isEqualTo(Status.DOWN);
    assertThat((Integer) down.getDetails().get("contacts")).isPositive();
    assertThat(down.getDetails()).containsEntry("bootstrap", "DONE");

    // Back on the network: one request from another node and it is up again.
    network.heal();
    VirtualTime.await(vts, seed.findNode(node.id()));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    lifecycle.stop();
  }

  @Test
  void withTheDefaultThresholdAnIdleNodeStaysUpAndOneWhoseEveryPeerDiedGoesDown() {
    KadConfig maintained = KadConfig.defaults();
    KadNode seed = start(network.newTransport(SEED), NodeListener.NONE, maintained);
    KadNode joiner = start(network.newTransport(), NodeListener.NONE, maintained);
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(joiner, List.of(SEED), virtualClock, vts);
    Duration threshold = KadHealthIndicator.defaultSilenceThreshold(maintained);
    assertThat(threshold).isEqualTo(Duration.ofHours(2));
    KadHealthIndicator health = new KadHealthIndicator(joiner, lifecycle, threshold, virtualClock);
    lifecycle.start();

    // Nobody asks anything for ten hours: the maintenance jobs alone keep the node hearing.
    for (int minute = 0; minute < 10 * 60; minute++) {
      vts.advanceTimeBy(Duration.ofMinutes(1));
      assertThat(health.health().getStatus()).as("after %d min", minute + 1).isEqualTo(Status.UP);
    }

    VirtualTime.await(vts, seed.close());
    vts.advanceTimeBy(threshold.plusMinutes(1));
    assertThat(joiner.routingTable().size()).isPositive();
    assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
    lifecycle.stop();
  }

  @Test
  void aFirstNodeWithoutSeedsWhosePeersAllDiedIsUpWaitingForPeersUntilANewOneJoins() {
    Duration threshold = Duration.ofMinutes(10);
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(), virtualClock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle, threshold, virtualClock);
    lifecycle.start();
    // Alone from the start: nobody to hear from is no fault.
    vts.advanceTimeBy(Duration.ofHours(3));
    Health alone = health.health();
    assertThat(alone.getStatus()).isEqualTo(Status.UP);
    assertThat(alone.getDetails())
        .containsEntry("waitingForPeers", true)
        .containsEntry("silent", false)
        .doesNotContainKey("lastHeard");

    KadNode peer = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, peer.bootstrap(List.of(node.contact().address())));
    Health joined = health.health();
    assertThat(joined.getStatus()).isEqualTo(Status.UP);
    assertThat(joined.getDetails())
        .containsEntry("waitingForPeers", false)
        .containsEntry("silent", false);

    // Its only peer dies. It keeps the contact (it hears from nobody, so no failure counts) and is
    // silent past the threshold: the first node of its network, waiting for peers, is up, since
    // it is what they join through. It was down, and nothing could ever bring it back.
    network.kill(peer.contact().address());
    vts.advanceTimeBy(threshold.plusSeconds(2));
    assertThat(node.routingTable().size()).isPositive();
    Health waiting = health.health();
    assertThat(waiting.getStatus()).isEqualTo(Status.UP);
    assertThat(waiting.getDetails())
        .containsEntry("silent", true)
        .containsEntry("waitingForPeers", true)
        .containsKey("lastHeard")
        .hasEntrySatisfying("silentFor", f -> assertThat(f).asString().startsWith("PT10M"));
    vts.advanceTimeBy(Duration.ofHours(5));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);

    // A new node joins through it: it hears from its network again and waits no more.
    KadNode next = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, next.bootstrap(List.of(node.contact().address())));
    assertThat(next.routingTable().size()).isPositive();
    Health back = health.health();
    assertThat(back.getStatus()).isEqualTo(Status.UP);
    assertThat(back.getDetails())
        .containsEntry("silent", false)
        .containsEntry("waitingForPeers", false)
        .doesNotContainKey("silentFor");
    lifecycle.stop();
  }

  @Test
  void theFirstPodOfAStatefulSetWhosePeersAllDiedStaysUpSoTheNextPodCanJoinIt() {
    // Every pod is given kad-0 as its seed, kad-0 included; an OrderedReady StatefulSet recreates
    // kad-1 only once kad-0 is ready, so a kad-0 down for silence would block the set for good.
    Duration threshold = Duration.ofMinutes(10);
    Address own = node.contact().address();
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(own), threshold, virtualClock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle, threshold, virtualClock);
    lifecycle.start();
    KadNode peer = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, peer.bootstrap(List.of(own)));

    network.kill(peer.contact().address());
    vts.advanceTimeBy(Duration.ofHours(3));
    assertThat(node.routingTable().size()).isPositive();
    Health waiting = health.health();
    assertThat(waiting.getStatus()).isEqualTo(Status.UP);
    assertThat(waiting.getDetails())
        .containsEntry("ownSeed", true)
        .containsEntry("bootstrap", "DONE")
        .containsEntry("silent", true)
        .containsEntry("waitingForPeers", true)
        .doesNotContainKey("bootstrapError");

    // kad-1 is recreated and joins through it with the same seed list.
    KadNode next = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, next.bootstrap(List.of(own)));
    assertThat(next.routingTable().size()).isPositive();
    Health back = health.health();
    assertThat(back.getStatus()).isEqualTo(Status.UP);
    assertThat(back.getDetails())
        .containsEntry("silent", false)
        .containsEntry("waitingForPeers", false);
    vts.advanceTimeBy(threshold.minusMinutes(1));
    assertThat(health.health().getDetails()).containsEntry("waitingForPeers", false);
    lifecycle.stop();
  }

  @Test
  void aNodeAmongItsOwnSeedsWhoseOtherSeedsAreGoneIsUpWaitingForPeersWhileItTriesThem() {
    Duration threshold = Duration.ofMinutes(10);
    start(network.newTransport(SEED), NodeListener.NONE);
    Address own = node.contact().address();
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(own, SEED), threshold, virtualClock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle, threshold, virtualClock);
    lifecycle.start();
    // It joined through the other seed, and knows from its own address that it is among them.
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(lifecycle.status().ownSeed()).isTrue();

    // The other seed, its only peer, is gone for good: the first node of its network is up and
    // waiting for peers from the moment it is silent, and while it tries the other seed.
    network.kill(SEED);
    vts.advanceTimeBy(threshold.plusSeconds(1));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    assertThat(health.health().getDetails()).containsEntry("waitingForPeers", true);
    vts.advanceTimeBy(threshold);
    assertThat(lifecycle.status().ownSeed()).isTrue();
    assertThat(lifecycle.status().rejoining()).isTrue();
    Health waiting = health.health();
    assertThat(waiting.getStatus()).isEqualTo(Status.UP);
    assertThat(waiting.getDetails())
        .containsEntry("silent", true)
        .containsEntry("waitingForPeers", true)
        .containsEntry("rejoining", true)
        .containsKey("bootstrapError");
    int before = attempts.size();
    vts.advanceTimeBy(Duration.ofMinutes(30));
    assertThat(attempts.size()).isGreaterThan(before);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);

    // A new node joins through it: it hears again, the rejoin ends, and it waits no more.
    KadNode next = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, next.bootstrap(List.of(own)));
    vts.advanceTimeBy(KadNodeLifecycle.MAX_RETRY_DELAY.plusSeconds(10));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    Health back = health.health();
    assertThat(back.getStatus()).isEqualTo(Status.UP);
    assertThat(back.getDetails())
        .containsEntry("silent", false)
        .containsEntry("waitingForPeers", false)
        .containsEntry("rejoining", false)
        .doesNotContainKey("bootstrapError");
    int joined = attempts.size();
    vts.advanceTimeBy(threshold.minusMinutes(2));
    assertThat(attempts).hasSize(joined);
    lifecycle.stop();
  }

  @Test
  void aZeroThresholdTurnsTheSilenceCheckOff() {
    KadNode seed = start(network.newTransport(SEED), NodeListener.NONE);
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), virtualClock, vts);
    KadHealthIndicator health =
        new KadHealthIndicator(node, lifecycle, Duration.ZERO, virtualClock);
    lifecycle.start();
    VirtualTime.await(vts, seed.close());
    vts.advanceTimeBy(Duration.ofDays(2));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    assertThat(health.health().getDetails()).doesNotContainKey("silenceThreshold");
    // Nor does it bootstrap again: the lifecycle takes the same default threshold, zero here.
    assertThat(lifecycle.silenceThreshold()).isZero();
    assertThat(attempts).hasSize(1);
    // Nor does the default check a node without refresh and liveness jobs: it never reaches out.
    assertThat(KadHealthIndicator.defaultSilenceThreshold(CONFIG)).isZero();
    assertThat(
            KadHealthIndicator.defaultSilenceThreshold(
                KadConfig.builder().jobs(EnumSet.of(MaintenanceJob.EXPIRY)).build()))
        .isZero();
    lifecycle.stop();
  }

  @Test
  void aNodeSilentPastTheThresholdBootstrapsAgainWithBackOffUntilASeedAnswers() {
    Duration threshold = Duration.ofMinutes(10);
    start(network.newTransport(SEED), NodeListener.NONE);
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(SEED), threshold, virtualClock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle, threshold, virtualClock);
    lifecycle.start();
    assertThat(attempts).hasSize(1);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);

    // Every node it knows dies; it keeps their contacts and hears from nobody.
    network.kill(SEED);
    vts.advanceTimeBy(threshold.minusSeconds(1));
    assertThat(attempts).hasSize(1);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    // Within a check interval of the threshold it tries its seeds again; none answers yet.
    vts.advanceTimeBy(KadNodeLifecycle.MAX_SILENCE_CHECK_INTERVAL.plusSeconds(10));
    assertThat(attempts).hasSizeGreaterThan(1);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.FAILED);
    // Not the first node of its network: down, and rejoining through its seed.
    Health down = health.health();
    assertThat(down.getStatus()).isEqualTo(Status.DOWN);
    assertThat(down.getDetails())
        .containsEntry("silent", true)
        .containsEntry("waitingForPeers", false)
        .containsEntry("ownSeed", false)
        .containsEntry("rejoining", true)
        .containsKey("silentFor");
    assertThat(node.routingTable().size()).isPositive();

    // With the start-up back-off: about once a minute in the end, not in a busy loop.
    vts.advanceTimeBy(Duration.ofMinutes(30));
    List<Duration> gaps = gaps().subList(1, attempts.size() - 1);
    assertThat(gaps).allSatisfy(g -> assertThat(g).isGreaterThanOrEqualTo(Duration.ofSeconds(1)));
    assertThat(gaps.subList(gaps.size() - 5, gaps.size()))
        .allSatisfy(
            g ->
                assertThat(g)
                    .isGreaterThanOrEqualTo(KadNodeLifecycle.MAX_RETRY_DELAY.dividedBy(2)));

    // The seed is back: the next attempt joins, and the node is up.
    network.revive(SEED);
    vts.advanceTimeBy(KadNodeLifecycle.MAX_RETRY_DELAY.plusSeconds(10));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    // Silence counts again from that join: no attempt for a whole threshold, and without
    // maintenance (nothing to hear) at most one per threshold after it.
    int healed = attempts.size();
    Duration joinedAt = attempts.get(healed - 1);
    vts.advanceTimeBy(joinedAt.plus(threshold).minusSeconds(1).minus(now()));
    assertThat(attempts).hasSize(healed);
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts.size() - healed).isBetween(1, 6);
    lifecycle.stop();
  }

  @Test
  void aHealthyIdleNodeNeverBootstrapsAgain() {
    KadConfig maintained = KadConfig.defaults();
    start(network.newTransport(SEED), NodeListener.NONE, maintained);
    KadNode joiner = start(network.newTransport(), recordingAttempts(), maintained);
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(joiner, List.of(SEED), virtualClock, vts);
    assertThat(lifecycle.silenceThreshold()).isEqualTo(Duration.ofHours(2));
    lifecycle.start();
    assertThat(attempts).hasSize(1);
    for (int hour = 0; hour < 10; hour++) {
      vts.advanceTimeBy(Duration.ofHours(1));
      assertThat(attempts).as("after %d h", hour + 1).hasSize(1);
    }
    lifecycle.stop();
  }

  @Test
  void aNodeThatHearsFromAnotherNodeAgainStopsBootstrapping() {
    Duration threshold = Duration.ofMinutes(10);
    start(network.newTransport(SEED), NodeListener.NONE);
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(SEED), threshold, virtualClock, vts);
    KadHealthIndicator health = new KadHealthIndicator(node, lifecycle, threshold, virtualClock);
    lifecycle.start();

    // Its own link goes down: it tries its seeds again, in vain.
    network.isolate(List.of(node.contact().address()));
    vts.advanceTimeBy(threshold.plusMinutes(5));
    int whileCutOff = attempts.size();
    assertThat(whileCutOff).isGreaterThan(1);

    // Back on the network, its seed gone for good, it hears from a node that joins through it.
    network.heal();
    network.kill(SEED);
    KadNode peer = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, peer.bootstrap(List.of(node.contact().address())));
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    // The attempt under way fails, and none follows: it is back, whatever its seeds.
    vts.advanceTimeBy(KadNodeLifecycle.MAX_RETRY_DELAY.plusSeconds(10));
    int back = attempts.size();
    vts.advanceTimeBy(threshold.minusMinutes(2));
    assertThat(attempts).hasSize(back);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    // And it says so: joined again, not the failure of the last attempt.
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(health.health().getDetails())
        .containsEntry("bootstrap", "DONE")
        .containsEntry("rejoining", false)
        .doesNotContainKey("bootstrapError");
    lifecycle.stop();
  }

  @Test
  void startingAgainANodeThatLostEveryContactRejoinsAndIsDownMeanwhile() {
    Cut cut = joinThenLoseEveryContact(Duration.ZERO);
    cut.lifecycle().stop();
    network.latency(Duration.ofMillis(100));
    start(network.newTransport(SEED), NodeListener.NONE);

    cut.lifecycle().start();
    // The attempt is under way: a node known to be cut off is down, not unknown.
    assertThat(cut.lifecycle().status().state()).isEqualTo(BootstrapStatus.State.RUNNING);
    Health rejoining = cut.health().health();
    assertThat(rejoining.getStatus()).isEqualTo(Status.DOWN);
    assertThat(rejoining.getDetails())
        .containsEntry("rejoining", true)
        .containsEntry("bootstrapAttempts", 1);
    vts.advanceTimeBy(Duration.ofMinutes(1));
    assertThat(cut.health().health().getStatus()).isEqualTo(Status.UP);
    cut.lifecycle().stop();
  }

  @Test
  void aNodeBackInItsNetworkWhileItsContextWasStoppedIsReportedJoinedOnceStartedAgain() {
    Duration threshold = Duration.ofMinutes(10);
    start(network.newTransport(SEED), NodeListener.NONE);
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(SEED), threshold, virtualClock, vts);
    lifecycle.start();
    network.isolate(List.of(node.contact().address()));
    vts.advanceTimeBy(threshold.plusMinutes(5));
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.FAILED);
    lifecycle.stop();

    // Paused, it is back on the network, its seed gone, and a node joins through it.
    network.heal();
    network.kill(SEED);
    KadNode peer = start(network.newTransport(), NodeListener.NONE);
    VirtualTime.await(vts, peer.bootstrap(List.of(node.contact().address())));
    int back = attempts.size();
    lifecycle.start();
    vts.advanceTimeBy(KadNodeLifecycle.MAX_SILENCE_CHECK_INTERVAL);
    assertThat(attempts).hasSize(back);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(lifecycle.status().error()).isEmpty();
    lifecycle.stop();
  }

  @Test
  void stoppingEndsTheSilenceChecksAndStartingAgainResumesThem() {
    Duration threshold = Duration.ofMinutes(10);
    start(network.newTransport(SEED), NodeListener.NONE);
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(node, List.of(SEED), threshold, virtualClock, vts);
    lifecycle.start();
    lifecycle.stop();
    network.kill(SEED);
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).hasSize(1);

    network.revive(SEED);
    lifecycle.start();
    // Joined and still knowing its seed, it does not join at once, but its silence is noticed.
    assertThat(attempts).hasSize(1);
    vts.advanceTimeBy(KadNodeLifecycle.MAX_SILENCE_CHECK_INTERVAL.plusSeconds(1));
    assertThat(attempts).hasSize(2);
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    lifecycle.stop();
  }

  @Test
  void aSilenceThresholdUnderAMinuteIsRefusedAndTheDefaultIsAtLeastAMinute() {
    assertThatThrownBy(
            () -> new KadNodeLifecycle(node, List.of(SEED), Duration.ofMillis(100), clock, vts))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("silenceThreshold must be 0 (off) or at least PT1M but was PT0.1S");
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    assertThatThrownBy(
            () -> new KadHealthIndicator(node, lifecycle, Duration.ofSeconds(59), virtualClock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("silenceThreshold must be 0 (off) or at least PT1M but was PT59S");
    assertThat(
            new KadNodeLifecycle(node, List.of(SEED), Duration.ofMinutes(1), clock, vts)
                .silenceThreshold())
        .isEqualTo(Duration.ofMinutes(1));
    // A short refresh interval, as in a test, gives the shortest threshold, not a shorter one.
    assertThat(
            KadHealthIndicator.defaultSilenceThreshold(
                KadConfig.builder().refreshInterval(Duration.ofSeconds(10)).build()))
        .isEqualTo(KadNodeLifecycle.MIN_SILENCE_THRESHOLD);
  }

  @Test
  void aNegativeSilenceThresholdIsRefused() {
    assertThatThrownBy(
            () -> new KadNodeLifecycle(node, List.of(SEED), Duration.ofSeconds(-1), clock, vts))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("silenceThreshold must not be negative but was PT-1S");
  }

  @Test
  void aSeedNoNodeCanDialIsRefusedRatherThanRetriedForEver() {
    // The engine's bootstrap refuses it at every attempt, which the lifecycle would retry.
    assertThatThrownBy(
            () -> new KadNodeLifecycle(node, List.of(new Address("10.0.0.1", 0)), clock, vts))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("can dial")
        .hasMessageEndingWith("but was '10.0.0.1:0'");
  }

  @Test
  void withoutSeedsNothingIsTried() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(), clock, vts);
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(attempts).isEmpty();
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.NOT_CONFIGURED);
    lifecycle.stop();
  }

  @Test
  void joinedCompletesWhenTheBackgroundJoinSucceedsAndStatusesShowEveryStepOnTheWay() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    List<BootstrapStatus.State> seen = new CopyOnWriteArrayList<>();
    lifecycle.statuses().subscribe(s -> seen.add(s.state()));
    CompletableFuture<BootstrapStatus> joined = lifecycle.joined().toFuture();
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(joined).isNotDone();

    start(network.newTransport(SEED), NodeListener.NONE);
    vts.advanceTimeBy(KadNodeLifecycle.MAX_RETRY_DELAY.plusSeconds(1));

    assertThat(joined).isCompletedWithValueMatching(s -> s.state() == BootstrapStatus.State.DONE);
    assertThat(seen).startsWith(BootstrapStatus.State.RUNNING).endsWith(BootstrapStatus.State.DONE);
    assertThat(seen).contains(BootstrapStatus.State.FAILED);
    // Once joined, a later subscriber hears it at once.
    StepVerifier.create(lifecycle.joined())
        .assertNext(s -> assertThat(s.state()).isEqualTo(BootstrapStatus.State.DONE))
        .verifyComplete();
    lifecycle.stop();
  }

  @Test
  void joinedErrorsWhenTheNodeClosesFirstAndStatusesComplete() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(SEED), clock, vts);
    CompletableFuture<BootstrapStatus> joined = lifecycle.joined().toFuture();
    CompletableFuture<List<BootstrapStatus>> statuses =
        lifecycle.statuses().collectList().toFuture();
    lifecycle.start();
    vts.advanceTimeBy(Duration.ofSeconds(10));

    VirtualTime.await(vts, lifecycle.close());

    assertThat(joined)
        .failsWithin(Duration.ZERO)
        .withThrowableThat()
        .havingCause()
        .isInstanceOf(NodeClosedException.class)
        .withMessageContaining("closed before it joined");
    assertThat(statuses).isCompletedWithValueMatching(list -> !list.isEmpty());
  }

  @Test
  void aNodeWithoutSeedsHasJoinedAtOnce() {
    KadNodeLifecycle lifecycle = new KadNodeLifecycle(node, List.of(), clock, vts);
    lifecycle.start();
    StepVerifier.create(lifecycle.joined())
        .assertNext(s -> assertThat(s.state()).isEqualTo(BootstrapStatus.State.NOT_CONFIGURED))
        .verifyComplete();
    lifecycle.stop();
  }

  /** A node with its lifecycle and health. */
  private record Cut(KadNode joiner, KadNodeLifecycle lifecycle, KadHealthIndicator health) {}

  /**
   * A node that joined through {@link #SEED}, its lifecycle running, and has since lost every
   * contact: the seed closed, and a neighbour kept the node hearing from its network.
   */
  private Cut joinThenLoseEveryContact(Duration threshold) {
    // At most one contact of a /24 per bucket: a neighbour of the seed's subnet is heard from but
    // not kept. Hearing from the network is what lets the table count the seed's failures (a node
    // that hears from nobody keeps its table, in case it is its own link that is down).
    KadNode joiner =
        start(
            network.newTransport(),
            recordingAttempts(),
            KadConfig.builder().maintenance(false).maxPerSubnet(1).build());
    KadNode seed = start(network.newTransport(SEED), NodeListener.NONE);
    KadNode neighbour =
        start(network.newTransport(Address.parse("10.9.0.2:4000")), NodeListener.NONE);
    KadNodeLifecycle lifecycle =
        new KadNodeLifecycle(joiner, List.of(SEED), threshold, virtualClock, vts);
    KadHealthIndicator health = new KadHealthIndicator(joiner, lifecycle, threshold, virtualClock);
    lifecycle.start();
    assertThat(lifecycle.status().state()).isEqualTo(BootstrapStatus.State.DONE);
    assertThat(health.health().getStatus()).isEqualTo(Status.UP);

    VirtualTime.await(vts, seed.close());
    for (int i = 0; i < 4 * CONFIG.maxFailures() && joiner.routingTable().size() > 0; i++) {
      VirtualTime.await(
          vts,
          neighbour
              .bootstrap(List.of(joiner.contact().address()))
              .onErrorResume(e -> Mono.empty()));
      VirtualTime.await(
          vts,
          joiner.findNode(NodeId.random(new SplittableRandom(i))).onErrorResume(e -> Mono.empty()));
    }
    assertThat(joiner.routingTable().size()).isZero();
    return new Cut(joiner, lifecycle, health);
  }

  private KadNode start(Transport transport, NodeListener listener) {
    return start(transport, listener, CONFIG);
  }

  private KadNode start(Transport transport, NodeListener listener, KadConfig config) {
    KadNode n =
        VirtualTime.await(
            vts,
            KadNodes.builder()
                .config(config)
                .transport(transport)
                .scheduler(vts)
                .listener(listener)
                .start());
    nodes.add(n);
    return n;
  }

  private NodeListener recordingAttempts() {
    return new NodeListener() {
      @Override
      public void operationFinished(String kind, String outcome, Duration elapsed) {
        // A cancel reaching an attempt that already ended is reported too: not an attempt.
        if (kind.equals("bootstrap") && !outcome.equals("cancelled")) {
          attempts.add(Duration.ofNanos(vts.now(TimeUnit.NANOSECONDS)));
        }
      }
    };
  }

  private Duration now() {
    return Duration.ofNanos(vts.now(TimeUnit.NANOSECONDS));
  }

  private List<Duration> gaps() {
    List<Duration> gaps = new ArrayList<>();
    for (int i = 1; i < attempts.size(); i++) {
      gaps.add(attempts.get(i).minus(attempts.get(i - 1)));
    }
    return gaps;
  }
}
