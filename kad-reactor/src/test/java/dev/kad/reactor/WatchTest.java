package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.testkit.InMemoryTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Mono;
import reactor.test.util.RaceTestUtils;

class WatchTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(6)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .subscriptionTtl(Duration.ofMinutes(2))
          .maintenance(false)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private Cluster cluster;
  private final List<Disposable> watches = new ArrayList<>();

  /** Runs before the extension closes the cluster, so watches end on a live network. */
  @AfterEach
  void disposeWatches() {
    watches.forEach(Disposable::dispose);
  }

  private Cluster cluster(long seed, int nodes) {
    cluster = clusters.grow(seed, nodes);
    return cluster;
  }

  private List<Value> watch(KadNode node, Key key) {
    List<Value> seen = new CopyOnWriteArrayList<>();
    watches.add(node.watch(key).subscribe(seen::add));
    cluster.vts.advanceTimeBy(Duration.ofSeconds(10));
    return seen;
  }

  @Test
  void aWatcherSeesTheCurrentValueThenAValuePutFromAnotherNode() {
    Cluster c = cluster(31, 40);
    Key key = Key.of("news");
    c.await(c.node(3).put(key, new byte[] {1}));
    List<Value> seen = watch(c.node(20), key);
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
    c.await(c.node(7).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 2);
  }

  @Test
  void theCurrentValuesArriveWithoutWaitingForAHungStorageNode() {
    // A network of k nodes or fewer: every node is among the key's closest, so the hung one is
    // asked by the lookup and by the subscription round, each waiting its hard timeout (2 s).
    Cluster c = cluster(35, 5);
    Key key = Key.of("early");
    c.await(c.node(1).put(key, new byte[] {1}));
    c.network.kill(c.node(2).contact().address());
    List<Value> seen = new CopyOnWriteArrayList<>();
    watches.add(c.node(3).watch(key).subscribe(seen::add));
    c.vts.advanceTimeBy(Duration.ofMillis(500));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
    // The subscriptions the other nodes granted still bring what comes later, once.
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    c.await(c.node(4).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 2);
  }

  @Test
  void aReplacementWithAHigherSeqArrivesOnce() {
    Cluster c = cluster(32, 40);
    Key key = Key.of("score");
    List<Value> seen = watch(c.node(20), key);
    c.await(c.node(3).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    c.await(c.node(3).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 2);
    assertThat(seen.get(1).seq()).isGreaterThan(seen.get(0).seq());
  }

  @Test
  void twoWatchersOnOneNodeEachGetEveryValue() {
    Cluster c = cluster(33, 30);
    Key key = Key.of("shared");
    List<Value> first = watch(c.node(10), key);
    List<Value> second = watch(c.node(10), key);
    c.await(c.node(2).put(key, new byte[] {1}));
    c.await(c.node(4).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(first)).containsExactlyInAnyOrder(1, 2);
    assertThat(Cluster.firstBytes(second)).containsExactlyInAnyOrder(1, 2);
  }

  @Test
  void keepsReceivingWhenHalfTheClosestDieAndNewNodesJoinCloser() {
    Cluster c = cluster(34, 40);
    Key key = Key.of("resilient");
    KadNode watcher = c.node(25);
    List<Value> seen = watch(watcher, key);
    List<KadNode> closest =
        c.nodes.stream()
            .filter(n -> n != watcher)
            .sorted(Cluster.byDistanceTo(key))
            .limit(CONFIG.k())
            .toList();
    for (int i = 0; i < closest.size(); i += 2) {
      c.network.kill(closest.get(i).contact().address());
    }
    for (int i = 0; i < 3; i++) {
      byte[] near = key.toBytes();
      near[near.length - 1] ^= (byte) (i + 1);
      KadNode newcomer = c.startWithId(NodeId.of(near));
      c.await(newcomer.bootstrap(List.of(c.node(0).contact().address())));
      c.nodes.add(newcomer);
    }
    // Past a renewal: the watcher has found the new closest set.
    c.vts.advanceTimeBy(CONFIG.subscriptionTtl());
    c.await(c.node(1).put(key, new byte[] {9}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(9);
  }

  @Test
  void aWatchCutOffFromEveryNodeSubscribesAgainWithinSecondsAndReadsWhatItMissed() {
    Cluster c = cluster(36, 12);
    Key key = Key.of("cut-off");
    // The watcher is the original node farthest from the key, so no store lands on it.
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(key)).orElseThrow();
    List<Value> seen = watch(watcher, key);
    List<KadNode> gone = c.nodes.stream().filter(n -> n != watcher).toList();
    gone.forEach(n -> c.network.kill(n.contact().address()));
    // Past the renewal (half the 2 min granted): that round finds no node to subscribe at.
    c.vts.advanceTimeBy(Duration.ofSeconds(65));
    // New nodes join through the watcher, and one of them stores a value: nobody pushes it.
    List<KadNode> fresh = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      KadNode n = c.start(CONFIG);
      c.await(n.bootstrap(List.of(watcher.contact().address())));
      c.nodes.add(n);
      fresh.add(n);
    }
    assertThat(fresh.stream().sorted(Cluster.byDistanceTo(key)).limit(CONFIG.k()))
        .allMatch(n -> key.asNodeId().compareDistance(n.id(), watcher.id()) < 0);
    c.await(fresh.get(0).put(key, new byte[] {2}));
    // Well before the next renewal would have come (a minute after the failed round).
    c.vts.advanceTimeBy(Duration.ofSeconds(25));
    assertThat(Cluster.firstBytes(seen)).as("read from the nodes found again").containsExactly(2);
    c.await(fresh.get(1).put(key, new byte[] {3}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).as("pushed by them").containsExactly(2, 3);
  }

  @Test
  void aWatchWhoseStorageNodesAllLeftReadsWhatTheirSuccessorsWereGiven() {
    Cluster c = cluster(38, 30);
    Key key = Key.of("moved");
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(key)).orElseThrow();
    List<Value> seen = watch(watcher, key);
    // Every node the watch is subscribed at leaves, unnoticed until its next renewal.
    c.nodes.stream()
        .filter(n -> n != watcher)
        .sorted(Cluster.byDistanceTo(key))
        .limit(CONFIG.k())
        .forEach(n -> c.network.kill(n.contact().address()));
    KadNode other =
        c.nodes.stream()
            .filter(n -> n != watcher && c.network.isAlive(n.contact().address()))
            .findFirst()
            .orElseThrow();
    // Nodes closer to the key join elsewhere and are given a value: nobody pushes it.
    for (int i = 0; i < CONFIG.k(); i++) {
      byte[] near = key.toBytes();
      near[near.length - 1] ^= (byte) (i + 1);
      KadNode newcomer = c.startWithId(NodeId.of(near));
      c.await(newcomer.bootstrap(List.of(other.contact().address())));
      c.nodes.add(newcomer);
    }
    c.await(other.put(key, new byte[] {5}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(seen).isEmpty();
    // The renewal subscribes at the newcomers only, and reads what they hold.
    c.vts.advanceTimeBy(CONFIG.subscriptionTtl());
    assertThat(Cluster.firstBytes(seen)).containsExactly(5);
  }

  @Test
  void aWatchSubscribedNowhereSubscribesAsSoonAsItsNodeBootstrapsAgain() {
    Cluster c = cluster(37, 8);
    Key key = Key.of("rejoined");
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(key)).orElseThrow();
    List<Value> seen = watch(watcher, key);
    c.nodes.stream().filter(n -> n != watcher).forEach(n -> c.network.kill(n.contact().address()));
    // Long cut off: its rounds that nobody granted are a minute apart by now.
    c.vts.advanceTimeBy(Duration.ofMinutes(6));
    // A network the watcher does not know forms, and a value is stored in it.
    List<KadNode> fresh = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      KadNode n = c.start(CONFIG);
      if (!fresh.isEmpty()) {
        c.await(n.bootstrap(List.of(fresh.get(0).contact().address())));
      }
      c.nodes.add(n);
      fresh.add(n);
    }
    assertThat(fresh.stream().sorted(Cluster.byDistanceTo(key)).limit(CONFIG.k()))
        .allMatch(n -> key.asNodeId().compareDistance(n.id(), watcher.id()) < 0);
    c.await(fresh.get(1).put(key, new byte[] {4}));
    c.await(watcher.bootstrap(List.of(fresh.get(0).contact().address())));
    c.vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(Cluster.firstBytes(seen)).containsExactly(4);
  }

  @Test
  void aWatchLongCutOffSubscribesAsSoonAsItsNodeHearsFromTheNetworkAgainWithoutABootstrap() {
    // The starter's rejoin and kad watch's reconnect find the network through the contacts they
    // know (a find-node of the own id) when no seed answers: no bootstrap, no kickAll.
    Cluster c = cluster(71, 30);
    Key key = Key.of("partitioned");
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(key)).orElseThrow();
    List<Value> seen = watch(watcher, key);
    // Publishers in the network, not the watcher: its own put would store at itself, cut off.
    List<KadNode> others = c.nodes.stream().filter(n -> n != watcher).toList();
    c.network.isolate(List.of(watcher.contact().address()));
    // Long cut off: its rounds that nobody granted are a minute apart by now.
    c.vts.advanceTimeBy(Duration.ofMinutes(6));
    c.await(others.get(0).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(seen).isEmpty();

    c.network.heal();
    c.await(watcher.findNode(watcher.id()));
    c.vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(Cluster.firstBytes(seen)).as("read once the network answers").containsExactly(2);
    c.await(others.get(1).put(key, new byte[] {3}));
    c.vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(Cluster.firstBytes(seen)).as("pushed").containsExactly(2, 3);
  }

  @Test
  void aRefusalAfterAQuietSpellIsNotTakenForAnOutage() {
    // A departed peer's closed port refuses at once: that says nothing of this node's network.
    // Taken for an outage, it sent every watch of a quiet node into a round at the next answer.
    Cluster c = cluster(74, 30);
    RecordingTransport[] recorded = new RecordingTransport[1];
    KadNode watcher = c.startRecorded(recorded);
    watch(watcher, Key.of("quiet"));
    c.vts.advanceTimeBy(Duration.ofSeconds(20)); // nothing sent or heard; renewal is a minute on
    long before = subscribes(recorded[0]);

    c.await(
        watcher
            .bootstrap(List.of(new Address("10.9.9.9", 4000))) // nobody there: refused at once
            .onErrorResume(e -> Mono.empty()));
    c.await(watcher.findNode(watcher.id()));
    c.vts.advanceTimeBy(Duration.ofSeconds(3));

    assertThat(subscribes(recorded[0])).isEqualTo(before);
  }

  private static long subscribes(RecordingTransport transport) {
    return transport.sent().stream().filter(Request.Subscribe.class::isInstance).count();
  }

  @Test
  void aWatchBrieflyCutOffReadsWhatWasStoredMeanwhileAndIsPushedAgain() {
    Cluster c = cluster(72, 30);
    Key key = Key.of("blip");
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(key)).orElseThrow();
    List<Value> seen = watch(watcher, key);
    // A lookup during the outage that asks none of the nodes the watch is subscribed at, so no
    // failure of theirs tells the watch anything: it still counts itself subscribed.
    List<NodeId> storage = c.trueClosest(key, 2 * CONFIG.k());
    NodeId probe =
        java.util.stream.IntStream.range(0, 1000)
            .mapToObj(i -> Key.of("probe " + i).asNodeId())
            .filter(
                t ->
                    Cluster.ids(watcher.routingTable().closest(t, 2 * CONFIG.k())).stream()
                        .noneMatch(storage::contains))
            .findFirst()
            .orElseThrow();
    c.network.isolate(List.of(watcher.contact().address()));
    // Stored meanwhile: the pushes fail, and the storage nodes end the watcher's subscriptions.
    c.await(c.node(0).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    c.await(watcher.findNode(probe));
    c.network.heal();
    c.await(watcher.findNode(watcher.id()));
    c.vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(Cluster.firstBytes(seen)).as("read once the network answers").containsExactly(2);
    c.await(c.node(1).put(key, new byte[] {3}));
    c.vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(Cluster.firstBytes(seen)).as("pushed").containsExactly(2, 3);
  }

  @Test
  void aWatchSilentlyCutOffReadsWhatWasStoredMeanwhileWhenItsRenewalFindsTheSubscriptionsNew() {
    // A laptop asleep: the watcher's node sends nothing while cut off, so it never learns of the
    // outage, and counts itself subscribed at the same nodes throughout.
    Cluster c = cluster(73, 30);
    Key key = Key.of("asleep");
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(key)).orElseThrow();
    KadNode publisher = c.nodes.stream().filter(n -> n != watcher).findFirst().orElseThrow();
    List<Value> seen = watch(watcher, key);
    c.network.isolate(List.of(watcher.contact().address()));
    // Stored meanwhile: the pushes fail, and the storage nodes end the watcher's subscriptions.
    c.await(publisher.put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    c.network.heal();
    assertThat(seen).isEmpty();
    // The renewal (half the 2 min granted) subscribes at the same nodes, which answer that the
    // subscriptions are new: the watch reads what it missed.
    c.vts.advanceTimeBy(Duration.ofMinutes(1));
    assertThat(Cluster.firstBytes(seen)).as("read at the renewal").containsExactly(2);
    c.await(publisher.put(key, new byte[] {3}));
    c.vts.advanceTimeBy(Duration.ofSeconds(3));
    assertThat(Cluster.firstBytes(seen)).as("pushed").containsExactly(2, 3);
  }

  @Test
  void twoWatchesOfAKeySilentlyCutOffBothReadWhatWasStoredMeanwhile() {
    // The node's watches of a key share one subscription per storage node: the first renewal
    // after the outage makes it anew, so the second one's renewal finds it held.
    Cluster c = cluster(74, 30);
    Key key = Key.of("asleep twice");
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(key)).orElseThrow();
    KadNode publisher = c.nodes.stream().filter(n -> n != watcher).findFirst().orElseThrow();
    List<Value> first = watch(watcher, key);
    c.vts.advanceTimeBy(Duration.ofSeconds(20));
    List<Value> second = watch(watcher, key);
    c.network.isolate(List.of(watcher.contact().address()));
    c.await(publisher.put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    c.network.heal();
    assertThat(first).isEmpty();
    assertThat(second).isEmpty();
    // Past both renewals, half the 2 min granted after each one's subscription.
    c.vts.advanceTimeBy(Duration.ofMinutes(1));
    assertThat(Cluster.firstBytes(first)).as("the first watch").containsExactly(2);
    assertThat(Cluster.firstBytes(second)).as("the second watch").containsExactly(2);
  }

  @Test
  void unsubscribesOwedToDeadNodesDoNotHoldUpTheNodesOtherTasks() {
    Cluster c = cluster(73, 40);
    byte[] base = Key.of("crowd").toBytes();
    KadNode watcher = c.nodes.stream().max(Cluster.byDistanceTo(Key.ofRaw(base))).orElseThrow();
    for (int i = 0; i < 16; i++) {
      byte[] near = base.clone();
      near[near.length - 1] ^= (byte) i;
      watch(watcher, Key.ofRaw(near));
    }
    // Every node the watches are subscribed at dies; the rounds after the rejoin subscribe
    // elsewhere and owe each dead node an Unsubscribe, which waits the hard timeout.
    c.nodes.stream()
        .filter(n -> n != watcher)
        .sorted(Cluster.byDistanceTo(Key.ofRaw(base)))
        .limit(CONFIG.k())
        .forEach(n -> c.network.kill(n.contact().address()));
    KadNode live =
        c.nodes.stream()
            .filter(n -> n != watcher && c.network.isAlive(n.contact().address()))
            .findFirst()
            .orElseThrow();
    c.await(watcher.bootstrap(List.of(live.contact().address())));
    c.vts.advanceTimeBy(Duration.ofSeconds(6));

    // A probe, hand-over or cache store queued now runs at once, not after the Unsubscribes.
    List<Long> ran = new CopyOnWriteArrayList<>();
    assertThat(
            ((DefaultKadNode) watcher)
                .submit(Mono.fromRunnable(() -> ran.add(c.vts.now(TimeUnit.MILLISECONDS)))))
        .isTrue();
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(ran).hasSize(1);
  }

  @Test
  void cancellingUnsubscribesAndStopsAllTraffic() {
    Cluster c = cluster(35, 20);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode watcher = c.startRecorded(recorder);
    Key key = Key.of("bye");
    List<Value> seen = new CopyOnWriteArrayList<>();
    Disposable watch = watcher.watch(key).subscribe(seen::add);
    c.vts.advanceTimeBy(Duration.ofMinutes(5));
    assertThat(recorder[0].sent()).anyMatch(Request.Subscribe.class::isInstance);
    recorder[0].clear();
    watch.dispose();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(recorder[0].sent()).isNotEmpty().allMatch(Request.Unsubscribe.class::isInstance);
    recorder[0].clear();
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(recorder[0].sent()).isEmpty();
    assertThat(seen).isEmpty();
  }

  @Test
  void closingTheNodeUnsubscribesItsWatchesEverywhere() {
    Cluster c = cluster(37, 12);
    KadNode watcher = c.node(3);
    Key key = Key.of("farewell");
    watches.add(watcher.watch(key).subscribe(v -> {}, e -> {}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    int subscribedAt = c.nodes.stream().mapToInt(n -> n.stats().subscribers()).sum();
    assertThat(subscribedAt).isEqualTo(CONFIG.k());

    c.await(watcher.close());

    // The storage nodes forget the watcher at once, not after a failed push or the TTL.
    assertThat(c.nodes.stream().filter(n -> n != watcher).mapToInt(n -> n.stats().subscribers()))
        .containsOnly(0);
  }

  @Test
  void closingTheNodeEndsItsWatchesWithAnError() {
    Cluster c = cluster(36, 5);
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    watches.add(c.node(2).watch(Key.of("k")).subscribe(v -> {}, errors::add));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    c.await(c.node(2).close());
    assertThat(errors).singleElement().isInstanceOf(dev.kad.api.NodeClosedException.class);
  }

  @Test
  void aPushFromANodeTheWatchDidNotSubscribeAtIsDropped() {
    Cluster c = cluster(37, 30);
    assertForgedPushesAreDropped(c, Key.of("guarded"), List.of(NodeId.random(c.random)));
  }

  @Test
  void aPushClaimingASubscribedNodesIdFromAnotherAddressIsDropped() {
    Cluster c = cluster(41, 30);
    // Under the id of every node, those the watch subscribed at among them.
    assertForgedPushesAreDropped(
        c, Key.of("guarded by address"), c.nodes.stream().map(KadNode::id).toList());
  }

  /**
   * An outsider pushes, under each of {@code claimedIds} but from its own address, a value claiming
   * node 3's publisher id and the highest seq, which would hide that publisher's genuine updates;
   * node 3 then puts its value, and the watch must see that one alone.
   */
  private void assertForgedPushesAreDropped(Cluster c, Key key, List<NodeId> claimedIds) {
    KadNode watcher = c.node(12);
    List<Value> seen = watch(watcher, key);
    InMemoryTransport outsider = c.rawPeer();
    Value forged =
        Value.of(new byte[] {66}, c.node(3).id(), 0, Long.MAX_VALUE, c.now().plusSeconds(600));
    for (NodeId claimed : claimedIds) {
      Contact impostor = new Contact(claimed, outsider.address());
      c.await(
          outsider.send(
              watcher.contact().address(), new Request.Notify(impostor, key, List.of(forged))));
    }
    c.await(c.node(3).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
  }

  @Test
  void subscriptionsAreRenewedBeforeTheShortestGrantedTtlEnds() {
    // The storage nodes grant 20 s; the watcher asks for 2 min.
    Cluster c =
        clusters.grow(
            38,
            KadConfig.builder()
                .k(6)
                .subscriptionTtl(Duration.ofSeconds(20))
                .maintenance(false)
                .build(),
            30);
    cluster = c;
    KadNode watcher = c.join(c.builder().config(CONFIG));
    Key key = Key.of("short-lived");
    List<Value> seen = watch(watcher, key);
    c.vts.advanceTimeBy(Duration.ofSeconds(50));
    c.await(c.node(4).put(key, new byte[] {7}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(7);
  }

  /**
   * A storage peer that is no node: it knows no other contacts, holds no values, records the
   * requests it receives and answers a Subscribe as {@code onSubscribe} says.
   */
  private static Contact storagePeer(
      Cluster c, List<Request> received, BiFunction<Contact, Integer, Response> onSubscribe) {
    return storagePeer(c, received, onSubscribe, Duration.ZERO);
  }

  /**
   * As {@link #storagePeer(Cluster, List, BiFunction)}, answering a Subscribe only after {@code
   * subscribeDelay}.
   */
  private static Contact storagePeer(
      Cluster c,
      List<Request> received,
      BiFunction<Contact, Integer, Response> onSubscribe,
      Duration subscribeDelay) {
    InMemoryTransport transport = c.network.newTransport();
    Contact peer = new Contact(NodeId.random(c.random), transport.address());
    c.await(
        transport.start(
            request -> {
              received.add(request);
              if (request instanceof Request.FindNode) {
                return Mono.just(new Response.NodesFound(peer, List.of()));
              }
              if (request instanceof Request.FindValue) {
                return Mono.just(new Response.ValuesFound(peer, List.of(), List.of()));
              }
              if (request instanceof Request.Subscribe) {
                int earlier =
                    (int) received.stream().filter(Request.Subscribe.class::isInstance).count() - 1;
                Mono<Response> answer = Mono.just(onSubscribe.apply(peer, earlier));
                return subscribeDelay.isZero()
                    ? answer
                    : answer.delayElement(subscribeDelay, c.vts);
              }
              return Mono.just(new Response.Pong(peer));
            }));
    return peer;
  }

  @Test
  void aShorterGrantAtARenewalBringsTheNextRenewalForward() {
    Cluster c = cluster(39, 1);
    KadNode watcher = c.node(0);
    // The only storage node grants the full TTL first and 4 s at every renewal after.
    List<Duration> subscribes = new CopyOnWriteArrayList<>();
    Contact peer =
        storagePeer(
            c,
            new CopyOnWriteArrayList<>(),
            (self, earlier) -> {
              subscribes.add(Duration.ofNanos(c.vts.now(TimeUnit.NANOSECONDS)));
              return new Response.Subscribed(
                  self, earlier == 0 ? CONFIG.subscriptionTtl() : Duration.ofSeconds(4));
            });
    KadNodes.learn(watcher, List.of(peer));
    watches.add(watcher.watch(Key.of("shrinking")).subscribe());

    // The first renewal comes at half the 2 min granted and is granted only 4 s.
    c.vts.advanceTimeBy(CONFIG.subscriptionTtl().dividedBy(2).plusSeconds(1));
    assertThat(subscribes).hasSize(2);
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    // The next renewal comes before those 4 s end, not after another minute.
    assertThat(subscribes).hasSizeGreaterThanOrEqualTo(3);
    assertThat(subscribes.get(2).minus(subscribes.get(1))).isLessThan(Duration.ofSeconds(4));
  }

  @Test
  void aWatchEndingWhileAnotherOfItsKeyRunsUnsubscribesWhereOnlyItWasSubscribed() {
    Cluster c = cluster(40, 1);
    KadNode watcher = c.node(0);
    Key key = Key.of("two watches");
    List<Request> toShared = new CopyOnWriteArrayList<>();
    List<Request> toFirstOnly = new CopyOnWriteArrayList<>();
    Contact shared =
        storagePeer(
            c,
            toShared,
            (self, earlier) -> new Response.Subscribed(self, CONFIG.subscriptionTtl()));
    // Takes the first watch's subscription and refuses the second's.
    Contact firstOnly =
        storagePeer(
            c,
            toFirstOnly,
            (self, earlier) ->
                earlier == 0
                    ? new Response.Subscribed(self, CONFIG.subscriptionTtl())
                    : new Response.Failure(self, Response.Code.LIMIT, "full"));
    KadNodes.learn(watcher, List.of(shared, firstOnly));
    Disposable first = watcher.watch(key).subscribe();
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    watches.add(watcher.watch(key).subscribe());
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    first.dispose();
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    // The second watch still needs the shared node; nobody needs the other one any more.
    assertThat(toShared).noneMatch(Request.Unsubscribe.class::isInstance);
    assertThat(toFirstOnly).anyMatch(Request.Unsubscribe.class::isInstance);
  }

  /** Steps virtual time until {@code node} has sent a Subscribe; at most a minute. */
  private static void stepToFirstSubscribe(Cluster c, RecordingTransport recorder) {
    for (int ms = 0; ms < 60_000; ms++) {
      if (recorder.sent().stream().anyMatch(Request.Subscribe.class::isInstance)) {
        return;
      }
      c.vts.advanceTimeBy(Duration.ofMillis(1));
    }
    throw new AssertionError("no Subscribe was sent within a minute");
  }

  private static int subscriptionsHeldFor(Cluster c, KadNode watcher) {
    return c.nodes.stream().filter(n -> n != watcher).mapToInt(n -> n.stats().subscribers()).sum();
  }

  @Test
  void cancellingWhileSubscribesTravelLeavesNoSubscriptionAndNoPushBehind() {
    Cluster c = cluster(41, 20);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode watcher = c.startRecorded(recorder);
    Key key = Key.of("cancelled in flight");
    // Slow legs for the Subscribes, fast ones for what follows: the network reorders the
    // Unsubscribes of the cancel ahead of the Subscribes, as it may reorder any two messages.
    c.network.latency(Duration.ofMillis(300));
    Disposable watch = watcher.watch(key).subscribe();
    stepToFirstSubscribe(c, recorder[0]);
    c.network.latency(Duration.ofMillis(1));
    watch.dispose();
    // Well past the hard timeout: every exchange has settled.
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    assertThat(subscriptionsHeldFor(c, watcher)).isZero();
    recorder[0].clear();
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(recorder[0].received()).noneMatch(Request.Notify.class::isInstance);
  }

  /** Puts a value from node 1 and tells whether the watcher was pushed a Notify for it. */
  private static boolean pushedAfterPut(Cluster c, RecordingTransport recorder, Key key, int b) {
    recorder.clear();
    c.await(c.node(1).put(key, new byte[] {(byte) b}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    return recorder.received().stream().anyMatch(Request.Notify.class::isInstance);
  }

  @Test
  void aPushCarryingAValueThatExpiredOnTheWayIsTakenForItsOtherValues() {
    Cluster c = cluster(49, 12);
    Key key = Key.of("short-lived");
    KadNode watcher = c.node(3);
    List<Value> seen = watch(watcher, key);
    KadNode storage =
        c.nodes.stream()
            .filter(n -> n != watcher && n.stats().subscribers() > 0)
            .findFirst()
            .orElseThrow();
    // The storage node's push (sent in its name, with its token: a test cannot make a node push at
    // will) carries a value whose expiry passed on the way and a live one. Refused, the push would
    // end the subscription at that node, and the watch would miss its pushes until the next
    // renewal.
    InMemoryTransport wire = c.rawPeer();
    Value expired = Value.of(new byte[] {1}, storage.id(), 1, 1, c.now());
    Value live = Value.of(new byte[] {2}, storage.id(), 2, 1, c.now().plusSeconds(600));
    Response answer =
        c.await(
            wire.send(
                watcher.contact().address(),
                new Request.Notify(
                    storage.contact(),
                    key,
                    List.of(expired, live),
                    false,
                    c.tokenAt(storage, watcher, key))));
    c.vts.advanceTimeBy(Duration.ofSeconds(1));

    assertThat(answer).isInstanceOf(Response.Pong.class);
    assertThat(Cluster.firstBytes(seen)).containsExactly(2);
  }

  @Test
  void aWatchWhoseUnsubscribesWereLostRefusesTheNextPushAndIsPushedNoMore() {
    Cluster c = cluster(47, 20);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode watcher = c.startRecorded(recorder);
    Key key = Key.of("lost goodbyes");
    Disposable watch = watcher.watch(key).subscribe();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    // Every Unsubscribe of the cancel is lost: the storage nodes keep the subscriptions.
    c.network.lossProbability(1.0);
    watch.dispose();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    c.network.lossProbability(0.0);
    assertThat(subscriptionsHeldFor(c, watcher)).isEqualTo(CONFIG.k());

    // Each storage node pushes once, is refused, and ends the subscription, long before the TTL.
    assertThat(pushedAfterPut(c, recorder[0], key, 1)).isTrue();
    assertThat(subscriptionsHeldFor(c, watcher)).isZero();
    assertThat(pushedAfterPut(c, recorder[0], key, 2)).isFalse();
  }

  @Test
  void aNodeRestartedWithTheSameIdRefusesThePushesOfItsFormerWatch() {
    Cluster c = cluster(48, 20);
    Key key = Key.of("former life");
    // Far from the key, so the nodes it subscribes at are the ones a put stores at.
    byte[] far = key.toBytes();
    far[0] ^= (byte) 0x80;
    NodeId id = NodeId.of(far);
    KadNode before = c.join(c.builder().id(id));
    Address address = before.contact().address();
    watches.add(before.watch(key).subscribe(v -> {}, e -> {}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(subscriptionsHeldFor(c, before)).isEqualTo(CONFIG.k());
    // It crashes, so no Unsubscribe leaves, and comes back at once with the same id and address.
    c.network.kill(address);
    c.await(before.close());
    c.nodes.remove(before);
    c.network.revive(address);
    RecordingTransport recorder = new RecordingTransport(c.network.newTransport(address));
    KadNode after = c.join(c.builder().id(id).transport(recorder));
    assertThat(subscriptionsHeldFor(c, after)).isEqualTo(CONFIG.k());

    assertThat(pushedAfterPut(c, recorder, key, 1)).isTrue();
    assertThat(subscriptionsHeldFor(c, after)).isZero();
    assertThat(pushedAfterPut(c, recorder, key, 2)).isFalse();
  }

  /** How many storage nodes hold a subscription of {@code key} pushed to {@code at}. */
  private static long subscriptionsPushedTo(Cluster c, Key key, Contact at) {
    return c.nodes.stream()
        .filter(n -> c.network.isAlive(n.contact().address()))
        .filter(n -> ((DefaultKadNode) n).subscribers().subscribers(key, c.now()).contains(at))
        .count();
  }

  /**
   * A peer at an address of its own that claims another node's id, as anyone can (over TCP, at its
   * own IP): it takes every push, answering in the claimed id's name.
   */
  private record Claimant(Contact contact, InMemoryTransport transport) {
    static Claimant of(Cluster c, NodeId id) {
      InMemoryTransport transport = c.network.newTransport();
      Contact claim = new Contact(id, transport.address());
      c.await(transport.start(request -> Mono.just(new Response.Pong(claim))));
      return new Claimant(claim, transport);
    }

    /** Sends {@code request} to every node but {@code except}. */
    void sendToAllBut(Cluster c, KadNode except, Request request) {
      for (KadNode n : c.nodes) {
        if (n != except) {
          c.await(transport.send(n.contact().address(), request));
        }
      }
    }
  }

  @Test
  void aPeerClaimingAWatchersIdFromAnotherAddressCannotRedirectItsPushes() {
    Cluster c = cluster(50, 20);
    Key key = Key.of("claimed");
    // The node farthest from the key stores nothing of it: only pushes bring it values.
    List<KadNode> byDistance = c.nodes.stream().sorted(Cluster.byDistanceTo(key)).toList();
    KadNode watcher = byDistance.get(byDistance.size() - 1);
    List<Value> seen = watch(watcher, key);
    assertThat(subscriptionsPushedTo(c, key, watcher.contact())).isEqualTo(CONFIG.k());
    Claimant claimant = Claimant.of(c, watcher.id());

    // Before, each Subscribe moved the watcher's subscription to the claimant's address.
    claimant.sendToAllBut(
        c, watcher, new Request.Subscribe(claimant.contact(), key, CONFIG.subscriptionTtl()));
    c.await(byDistance.get(0).put(key, new byte[] {5}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(Cluster.firstBytes(seen)).containsExactly(5);
    assertThat(subscriptionsPushedTo(c, key, watcher.contact())).isEqualTo(CONFIG.k());
  }

  @Test
  void aPeerClaimingAWatchersIdFromAnotherAddressCannotCancelItsPushes() {
    Cluster c = cluster(51, 20);
    Key key = Key.of("cancelled by a stranger");
    List<KadNode> byDistance = c.nodes.stream().sorted(Cluster.byDistanceTo(key)).toList();
    KadNode watcher = byDistance.get(byDistance.size() - 1);
    List<Value> seen = watch(watcher, key);
    Claimant claimant = Claimant.of(c, watcher.id());

    // Before, each Unsubscribe ended the watcher's subscription, whatever address it came from.
    claimant.sendToAllBut(c, watcher, new Request.Unsubscribe(claimant.contact(), key));
    assertThat(subscriptionsPushedTo(c, key, watcher.contact())).isEqualTo(CONFIG.k());
    c.await(byDistance.get(0).put(key, new byte[] {6}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(Cluster.firstBytes(seen)).containsExactly(6);
  }

  @Test
  void aWatcherRestartedWithItsIdAtANewAddressIsPushedThereAtOnce() {
    Cluster c = cluster(52, 20);
    Key key = Key.of("moved watcher");
    // Far from the key, so it stores nothing of it: only pushes bring it values.
    byte[] far = key.toBytes();
    far[0] ^= (byte) 0x80;
    NodeId id = NodeId.of(far);
    KadNode before = c.join(c.builder().id(id));
    Contact old = before.contact();
    watches.add(before.watch(key).subscribe(v -> {}, e -> {}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(subscriptionsPushedTo(c, key, old)).isEqualTo(CONFIG.k());
    // It crashes, so no Unsubscribe leaves, and comes back with its id on a new address while
    // the storage nodes still hold its subscriptions at the old one.
    c.network.kill(old.address());
    c.await(before.close());
    c.nodes.remove(before);
    KadNode after = c.join(c.builder().id(id));
    assertThat(after.contact().address()).isNotEqualTo(old.address());
    List<Value> seen = watch(after, key);

    // Its first subscription round, far within the old subscriptions' TTL, is granted.
    assertThat(subscriptionsPushedTo(c, key, after.contact())).isEqualTo(CONFIG.k());
    c.await(c.node(1).put(key, new byte[] {7}));
    c.vts.advanceTimeBy(CONFIG.hardTimeout().multipliedBy(2));
    assertThat(Cluster.firstBytes(seen)).containsExactly(7);
    // The pushes to the old address failed and ended the subscriptions there.
    assertThat(subscriptionsPushedTo(c, key, old)).isZero();
    assertThat(subscriptionsPushedTo(c, key, after.contact())).isEqualTo(CONFIG.k());
  }

  @Test
  void closingWhileSubscribesTravelLeavesNoSubscriptionBehind() {
    Cluster c = cluster(44, 20);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode watcher = c.startRecorded(recorder);
    Key key = Key.of("closed in flight");
    // The Subscribes answer well within softTimeout, which bounds the Unsubscribes of close().
    c.network.latency(Duration.ofMillis(100));
    watches.add(watcher.watch(key).subscribe(v -> {}, e -> {}));
    stepToFirstSubscribe(c, recorder[0]);
    c.network.latency(Duration.ofMillis(1));
    c.await(watcher.close());
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    assertThat(subscriptionsHeldFor(c, watcher)).isZero();
  }

  @Test
  void closingRightAfterCancellingAWatchLeavesNoSubscriptionBehind() {
    Cluster c = cluster(58, 20);
    KadNode watcher = c.node(3);
    // More Unsubscribes than the node sends at once (64): the cancels queue the rest.
    List<Disposable> cancelled = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      cancelled.add(watcher.watch(Key.of("cancelled then closed " + i)).subscribe());
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(subscriptionsHeldFor(c, watcher)).isEqualTo(20 * CONFIG.k());

    // close() at the instant of the cancels sends the queued Unsubscribes too.
    cancelled.forEach(Disposable::dispose);
    c.await(watcher.close());
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    assertThat(subscriptionsHeldFor(c, watcher)).isZero();
  }

  @Test
  void closingWhileSubscribesWaitForTheirTurnSendsNoneOfThem() {
    Cluster c = cluster(59, 20);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode watcher = c.startRecorded(recorder);
    Key key = Key.of("closed while waiting");
    Disposable first = watcher.watch(key).subscribe();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    // The first watch's Unsubscribes take 200 ms to settle; the second watch's lookup is quick,
    // and its Subscribes wait for them (the link's order).
    c.network.latency(Duration.ofMillis(100));
    first.dispose();
    c.vts.advanceTimeBy(Duration.ofMillis(1));
    c.network.latency(Duration.ofMillis(1));
    recorder[0].clear();
    watches.add(watcher.watch(key).subscribe(v -> {}, e -> {}));
    c.vts.advanceTimeBy(Duration.ofMillis(40));
    assertThat(recorder[0].sent()).noneMatch(Request.Subscribe.class::isInstance);
    // Closed before the turn of the Subscribes comes; slow legs from now, so a Subscribe sent
    // then would be answered only after close() stopped waiting for its Unsubscribes.
    c.network.latency(Duration.ofMillis(150));
    recorder[0].clear();
    c.await(watcher.close());
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    assertThat(subscriptionsHeldFor(c, watcher)).isZero();
    assertThat(recorder[0].sent()).noneMatch(Request.Subscribe.class::isInstance);
  }

  @Test
  void aWatchOpenedRightAfterOneOfItsKeyEndedKeepsItsSubscriptions() {
    Cluster c = cluster(42, 20);
    Key key = Key.of("reopened");
    // A watcher that stores nothing of the key, so only pushes bring it values.
    KadNode watcher =
        c.nodes.stream().sorted(Cluster.byDistanceTo(key)).toList().get(c.nodes.size() - 1);
    Disposable first = watcher.watch(key).subscribe();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    // The first watch's Unsubscribes leave on slow legs, the second watch's Subscribes on fast
    // ones: the network reorders the Subscribes ahead of the Unsubscribes.
    c.network.latency(Duration.ofMillis(300));
    first.dispose();
    c.vts.advanceTimeBy(Duration.ofMillis(1));
    c.network.latency(Duration.ofMillis(1));
    List<Value> seen = watch(watcher, key);

    assertThat(subscriptionsHeldFor(c, watcher)).isEqualTo(CONFIG.k());
    c.await(c.node(1).put(key, new byte[] {4}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(4);
  }

  @Test
  void manyWatchesOfOneKeyOpenedAtOnceAllSeeTheCurrentValueWithinASecond() {
    Cluster c = cluster(46, 1);
    KadNode watcher = c.node(0);
    Key key = Key.of("popular");
    Value current = Value.of(new byte[] {8}, watcher.id(), 0, 1, c.now().plusSeconds(600));
    // The one storage node holds the value and never pushes: each watch sees it by its own get,
    // which follows its Subscribes.
    InMemoryTransport transport = c.network.newTransport();
    Contact peer = new Contact(NodeId.random(c.random), transport.address());
    c.await(
        transport.start(
            request ->
                Mono.just(
                    request instanceof Request.FindNode
                        ? new Response.NodesFound(peer, List.of())
                        : request instanceof Request.FindValue
                            ? new Response.ValuesFound(peer, List.of(current), List.of())
                            : request instanceof Request.Subscribe
                                ? new Response.Subscribed(peer, CONFIG.subscriptionTtl())
                                : new Response.Pong(peer))));
    KadNodes.learn(watcher, List.of(peer));
    c.network.latency(Duration.ofMillis(20));
    List<List<Value>> seen = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      List<Value> values = new CopyOnWriteArrayList<>();
      watches.add(watcher.watch(key).subscribe(values::add));
      seen.add(values);
    }
    // Their Subscribes to the node travel together, not one round trip after another.
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(seen)
        .allSatisfy(values -> assertThat(Cluster.firstBytes(values)).containsExactly(8));
  }

  @Test
  void aNodeWhoseSubscribeWentUnansweredIsToldToUnsubscribe() {
    Cluster c = cluster(43, 1);
    KadNode watcher = c.node(0);
    List<Request> received = new CopyOnWriteArrayList<>();
    // It takes the subscription, but its answer comes after the watcher's hard timeout, as if
    // the answer were lost: it holds a subscription the watcher does not count.
    Contact late =
        storagePeer(
            c,
            received,
            (self, earlier) -> new Response.Subscribed(self, CONFIG.subscriptionTtl()),
            CONFIG.hardTimeout().plusSeconds(1));
    KadNodes.learn(watcher, List.of(late));
    watches.add(watcher.watch(Key.of("unanswered")).subscribe());
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    assertThat(received).anyMatch(Request.Unsubscribe.class::isInstance);
  }

  @Test
  void aWatchOpenedWhileTheLastOtherOfItsKeyEndsIsStillServed() {
    Cluster c = cluster(45, 1);
    KadNode node = c.node(0);
    Key key = Key.of("raced");
    for (int i = 0; i < 2_000; i++) {
      Disposable ending = node.watch(key).subscribe();
      Disposable[] opened = new Disposable[1];
      RaceTestUtils.race(ending::dispose, () -> opened[0] = node.watch(key).subscribe());
      assertThat(node.stats().activeWatches()).as("round %d", i).isEqualTo(1);
      opened[0].dispose();
    }
  }

  @Test
  void aSlowSubscriberOfAWatchGetsTheLatestValueOfEachPublisherNotEveryOneBetween() {
    Cluster c = cluster(50, 1);
    KadNode lone = c.node(0);
    Key key = Key.of("counter");
    List<Value> seen = new CopyOnWriteArrayList<>();
    BaseSubscriber<Value> slow =
        new BaseSubscriber<>() {
          @Override
          protected void hookOnSubscribe(Subscription subscription) {
            request(1);
          }

          @Override
          protected void hookOnNext(Value value) {
            seen.add(value);
          }
        };
    watches.add(slow);
    lone.watch(key).subscribe(slow);
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    c.await(lone.put(key, new byte[] {1}));
    // The subscriber took the first value and asks for nothing while the publisher updates.
    for (int b = 2; b <= 40; b++) {
      c.await(lone.put(key, new byte[] {(byte) b}));
    }
    slow.request(1);
    c.vts.advanceTimeBy(Duration.ofSeconds(1));

    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 40);
  }

  @Test
  void aNodeThatNeverAnswersSubscribeDoesNotTurnRenewalsIntoBackToBackRounds() {
    Cluster c = cluster(51, 1);
    KadNode watcher = c.node(0);
    List<Request> toGood = new CopyOnWriteArrayList<>();
    Contact good =
        storagePeer(
            c, toGood, (self, earlier) -> new Response.Subscribed(self, CONFIG.subscriptionTtl()));
    // Answers lookups, never a Subscribe: each of its Subscribes times out in the round.
    Contact silent =
        storagePeer(
            c,
            new CopyOnWriteArrayList<>(),
            (self, earlier) -> new Response.Subscribed(self, CONFIG.subscriptionTtl()),
            Duration.ofHours(1));
    KadNodes.learn(watcher, List.of(good, silent));
    watches.add(watcher.watch(Key.of("half answered")).subscribe());

    // Four renewals at half the 2 min TTL granted, not a round every hard timeout.
    c.vts.advanceTimeBy(Duration.ofMinutes(4).plusSeconds(30));
    assertThat(toGood.stream().filter(Request.Subscribe.class::isInstance).count())
        .isLessThanOrEqualTo(6);
  }

  @Test
  void aGrantFromAnotherIdThanTheNodeAskedCountsAsNoSubscription() {
    Cluster c = cluster(53, 1);
    KadNode watcher = c.node(0);
    List<Request> received = new CopyOnWriteArrayList<>();
    Contact other = new Contact(NodeId.random(c.random), new Address("10.9.9.9", 1));
    // Another node answers at the address asked: its pushes would come from an id the watch
    // never subscribed at, so the watch must keep looking (retrying after 1 s, 2 s, 4 s).
    Contact peer =
        storagePeer(
            c,
            received,
            (self, earlier) ->
                new Response.Subscribed(
                    new Contact(other.id(), self.address()), CONFIG.subscriptionTtl()));
    KadNodes.learn(watcher, List.of(peer));
    watches.add(watcher.watch(Key.of("granted by someone else")).subscribe());

    c.vts.advanceTimeBy(Duration.ofSeconds(8));
    assertThat(received.stream().filter(Request.Subscribe.class::isInstance).count())
        .isGreaterThanOrEqualTo(3);
  }

  @Test
  void aRejoinAfterTheOnlyStorageNodeRestartedWithANewIdWatchesOnThroughTheNewNode() {
    // kad watch's case: a client subscribed at the one node it knows; that node crashes and comes
    // back at the same address with a new id, and the client joins again through the address.
    Cluster c = cluster(57, 1);
    KadNode first = c.node(0);
    Address address = first.contact().address();
    KadNode watcher = c.join(c.builder().config(CONFIG.toBuilder().clientMode(true).build()));
    Key key = Key.of("restarted");
    c.await(first.put(key, new byte[] {1}));
    List<Value> seen = watch(watcher, key);
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);

    // A crash: nothing reaches the watcher, which still counts itself subscribed there.
    c.network.kill(address);
    c.await(first.close());
    c.nodes.remove(first);
    c.network.revive(address);
    KadNode second = c.await(c.builder().transport(c.network.newTransport(address)).start());
    c.nodes.add(second);
    c.await(second.put(key, new byte[] {2}));
    c.await(watcher.bootstrap(List.of(address)));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    // Read from the new node at once, not at the renewal minutes later.
    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 2);

    // Subscribed there: the Unsubscribe owed to the old contact, which the new node answers in
    // its place, did not end that subscription.
    c.await(second.put(key, new byte[] {3}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 2, 3);
  }
}
