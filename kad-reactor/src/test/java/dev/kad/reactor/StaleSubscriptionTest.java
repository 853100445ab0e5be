package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.watch.SubscriberRegistry;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.InMemoryTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * Subscriptions a watcher no longer holds (its Unsubscribes were lost, it restarted, or a third
 * party made them in its name) and the probe that ends them: a storage node that refuses a
 * Subscribe pushes the address's other subscriptions of the key an empty Notify with their tokens,
 * and the watcher refuses those it does not hold.
 */
class StaleSubscriptionTest {

  private static final KadConfig CONFIG =
      Cluster.watchConfig().subscriptionTtl(Duration.ofMinutes(10)).build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private final List<Disposable> watches = new ArrayList<>();

  @AfterEach
  void disposeWatches() {
    watches.forEach(Disposable::dispose);
  }

  private Disposable watch(Cluster c, KadNode node, Key key, List<Value> seen) {
    Disposable d = node.watch(key).subscribe(seen::add);
    watches.add(d);
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    return d;
  }

  private static KadNode farthestFrom(Cluster c, Key key) {
    List<KadNode> byDistance = c.nodes.stream().sorted(Cluster.byDistanceTo(key)).toList();
    return byDistance.get(byDistance.size() - 1);
  }

  private static List<SubscriberRegistry.Subscription> heldFor(
      Cluster c, KadNode storage, Key key, Address at) {
    return ((DefaultKadNode) storage)
        .subscribers().subscriptions(key, c.now()).stream()
            .filter(s -> s.subscriber().address().equals(at))
            .toList();
  }

  /** The other nodes that hold a subscription of {@code key} at the watcher's address. */
  private static List<KadNode> storageOf(Cluster c, KadNode watcher, Key key) {
    Address at = watcher.contact().address();
    return c.nodes.stream().filter(n -> n != watcher && !heldFor(c, n, key, at).isEmpty()).toList();
  }

  /**
   * A watcher cancels its watch while cut off from the key's storage nodes (its Unsubscribes are
   * lost), twice within the TTL, and no value changes meanwhile: each storage node keeps both stale
   * subscriptions at the watcher's address, the two places an address has of a key, so the third
   * watch's Subscribe, with a fresh token, is refused everywhere and the watch polls until a push
   * or the TTL ends the stale ones. Before tokens the Subscribe renewed the one place.
   */
  @Test
  void aWatchAfterTwoLostUnsubscribesIsStillSubscribedAtTheStorageNodes() {
    Cluster c = clusters.grow(81, 20);
    Key key = Key.of("twice lost");
    KadNode watcher = farthestFrom(c, key);
    Address at = watcher.contact().address();
    Set<Long> stale = new HashSet<>();
    for (int round = 0; round < 2; round++) {
      Disposable d = watch(c, watcher, key, new CopyOnWriteArrayList<>());
      for (KadNode n : c.nodes) {
        if (n != watcher) {
          heldFor(c, n, key, at).forEach(s -> stale.add(s.token()));
        }
      }
      c.network.isolate(List.of(at));
      d.dispose();
      c.vts.advanceTimeBy(Duration.ofSeconds(10));
      c.network.heal();
    }
    List<KadNode> storage = storageOf(c, watcher, key);
    assertThat(storage).isNotEmpty();

    List<Value> seen = new CopyOnWriteArrayList<>();
    watch(c, watcher, key, seen);

    // Every storage node holds a subscription of the watcher's new watch: a token it never sent.
    assertThat(storage)
        .allSatisfy(
            n ->
                assertThat(heldFor(c, n, key, at))
                    .extracting(SubscriberRegistry.Subscription::token)
                    .as("tokens held at %s for the watcher", n.contact())
                    .anyMatch(t -> !stale.contains(t)));
  }

  /** The Notifies a node received, each with the virtual instant it arrived. */
  private static final class Received extends ForwardingTransport {
    record Push(Instant at, Request.Notify push) {}

    private final Supplier<Instant> clock;
    final List<Push> pushes = new CopyOnWriteArrayList<>();

    Received(Transport delegate, Supplier<Instant> clock) {
      super(delegate);
      this.clock = clock;
    }

    @Override
    public Mono<Void> start(RequestHandler handler) {
      return super.start(
          request -> {
            if (request instanceof Request.Notify n) {
              pushes.add(new Push(clock.get(), n));
            }
            return handler.handle(request);
          });
    }

    /** The empty Notifies {@code storage} sent with {@code token}, or any token when null. */
    List<Instant> probes(KadNode storage, Long token) {
      return pushes.stream()
          .filter(p -> p.push().values().isEmpty())
          .filter(p -> p.push().sender().id().equals(storage.id()))
          .filter(p -> token == null || p.push().token() == token)
          .map(Push::at)
          .toList();
    }
  }

  /**
   * A watcher's link on which each Unsubscribe takes 1.5 s to leave (within the hard timeout): a
   * burst of them holds the watcher's Unsubscribe queue that long.
   */
  private static final class SlowUnsubscribes extends ForwardingTransport {
    private final Cluster c;

    SlowUnsubscribes(Transport delegate, Cluster c) {
      super(delegate);
      this.c = c;
    }

    @Override
    public Mono<Response> send(Address to, Request request) {
      return request instanceof Request.Unsubscribe
          ? Mono.delay(Duration.ofMillis(1500), c.vts).then(super.send(to, request))
          : super.send(to, request);
    }
  }

  /**
   * A watcher whose Unsubscribe was lost watches the key again: the storage nodes hold its old
   * subscription beside the new one, and the next change's push with the old token is refused,
   * which ends it; the value arrives once, through the new one.
   */
  @Test
  void aPushWithAStaleTokenIsRefusedAndEndsTheStaleSubscription() {
    Cluster c = clusters.grow(82, 20);
    Key key = Key.of("once lost");
    KadNode watcher = farthestFrom(c, key);
    Address at = watcher.contact().address();
    Disposable d = watch(c, watcher, key, new CopyOnWriteArrayList<>());
    c.network.isolate(List.of(at));
    d.dispose();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    c.network.heal();
    List<Value> seen = new CopyOnWriteArrayList<>();
    watch(c, watcher, key, seen);
    List<KadNode> storage =
        c.nodes.stream().filter(n -> n != watcher && heldFor(c, n, key, at).size() == 2).toList();
    assertThat(storage).as("storage nodes holding the old and the new subscription").isNotEmpty();

    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
    assertThat(storage)
        .allSatisfy(
            n ->
                assertThat(heldFor(c, n, key, at))
                    .singleElement()
                    .extracting(SubscriberRegistry.Subscription::token)
                    .isEqualTo(c.tokenAt(n, watcher, key)));
  }

  /**
   * A push in a storage node's name with a token the watcher never gave it is refused even while
   * that node echoed none (here a node of an earlier version, which holds no token): a token-aware
   * storage node pushes only the token it was given. One without a token is still taken from it.
   */
  @Test
  void aPushWithAnotherTokenIsRefusedFromANodeThatEchoedNone() {
    Cluster c = clusters.grow(83, 1);
    OlderPeer.join(c, 14);
    Key key = Key.of("never echoed");
    KadNode watcher = c.join(c.builder());
    List<Value> seen = new CopyOnWriteArrayList<>();
    watch(c, watcher, key, seen);
    KadNode storage =
        c.nodes.subList(1, 15).stream()
            .filter(n -> !heldFor(c, n, key, watcher.contact().address()).isEmpty())
            .findFirst()
            .orElseThrow();
    InMemoryTransport wire = c.rawPeer();
    Value one = Value.of(new byte[] {1}, c.node(3).id(), 1, 1, c.now().plusSeconds(600));
    Value two = Value.of(new byte[] {2}, c.node(3).id(), 2, 1, c.now().plusSeconds(600));

    assertThat(
            c.await(
                wire.send(
                    watcher.contact().address(),
                    new Request.Notify(storage.contact(), key, List.of(one), false, 4242))))
        .isInstanceOf(Response.Failure.class);
    assertThat(
            c.await(
                wire.send(
                    watcher.contact().address(),
                    new Request.Notify(storage.contact(), key, List.of(two), false, 0))))
        .isInstanceOf(Response.Pong.class);
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(Cluster.firstBytes(seen)).containsExactly(2);
  }

  /**
   * Subscribes claiming a watcher's address with made-up tokens, ten a second: the storage node
   * probes the address's subscriptions of the key at most twice a second, the watcher takes the
   * probe of its own subscription (which stays, and still pushes), and refuses the made-up one.
   */
  @Test
  void subscribesClaimingAnAddressCostItAtMostTwoProbesASecondAndNotItsSubscription() {
    Cluster c = clusters.grow(85, 20);
    Key key = Key.of("probed");
    Received[] received = new Received[1];
    received[0] = new Received(c.network.newTransport(), c::now);
    KadNode watcher = c.join(c.builder().transport(received[0]));
    Address at = watcher.contact().address();
    List<Value> seen = new CopyOnWriteArrayList<>();
    watch(c, watcher, key, seen);
    KadNode storage = storageOf(c, watcher, key).get(0);
    long token = c.tokenAt(storage, watcher, key);
    InMemoryTransport wire = c.rawPeer();
    Instant start = c.now();

    long made = 5000;
    for (int i = 0; i < 50; i++) {
      Instant before = c.now();
      c.await(
          wire.send(
              storage.contact().address(),
              new Request.Subscribe(
                  watcher.contact(), key, CONFIG.subscriptionTtl(), false, made++)));
      Duration spent = Duration.between(before, c.now());
      if (spent.compareTo(Duration.ofMillis(100)) < 0) {
        c.vts.advanceTimeBy(Duration.ofMillis(100).minus(spent));
      }
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(2));

    List<Instant> probes =
        received[0].probes(storage, null).stream().filter(t -> !t.isBefore(start)).toList();
    assertThat(received[0].probes(storage, token))
        .as("probes of its own subscription")
        .isNotEmpty();
    assertThat(probes.size()).as("probes of one address's subscriptions").isGreaterThan(2);
    for (Instant t : probes) {
      // Each probe travels 10 to 50 ms: a second of sends arrives within 1.04 s.
      long inWindow =
          probes.stream().filter(p -> !p.isBefore(t) && p.isBefore(t.plusMillis(960))).count();
      assertThat(inWindow).as("probes arriving in the 960 ms from %s", t).isLessThanOrEqualTo(2);
    }
    assertThat(heldFor(c, storage, key, at))
        .extracting(SubscriberRegistry.Subscription::token)
        .contains(token);

    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
    assertThat(heldFor(c, storage, key, at))
        .extracting(SubscriberRegistry.Subscription::token)
        .containsExactly(token);
  }

  /**
   * Subscribes claiming a watcher's address while the watcher is briefly unreachable (a few
   * seconds, no value changes meanwhile): the refused one probes the watcher's own subscription,
   * the probe fails, and a failed probe ended the subscription as a refusal does. A timeout says
   * nothing about whether the watcher holds the token (a watcher that restarted at the address
   * answers, and refuses), so the claimant ended the watcher's pushes until its renewal, minutes
   * later, though the docs say someone claiming the address cannot end its subscription this way.
   */
  @Test
  void aProbeThatFailsWhileTheWatcherIsBrieflyUnreachableLeavesItsSubscription() {
    Cluster c = clusters.grow(85, 20);
    Key key = Key.of("probed while away");
    KadNode watcher = c.join(c.builder());
    Address at = watcher.contact().address();
    List<Value> seen = new CopyOnWriteArrayList<>();
    watch(c, watcher, key, seen);
    KadNode storage = storageOf(c, watcher, key).get(0);
    long token = c.tokenAt(storage, watcher, key);
    InMemoryTransport wire = c.rawPeer();

    c.network.kill(at);
    for (long made = 7000; made < 7002; made++) {
      c.await(
          wire.send(
              storage.contact().address(),
              new Request.Subscribe(
                  watcher.contact(), key, CONFIG.subscriptionTtl(), false, made)));
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(3));
    c.network.revive(at);
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(heldFor(c, storage, key, at))
        .extracting(SubscriberRegistry.Subscription::token)
        .as("the watcher's subscription after a probe failed while it was away")
        .contains(token);
  }

  /**
   * The key's last watch ends while the watcher's Unsubscribe queue is full (64 at a time, here
   * held by those of other watches that ended just before), and a new watch of the key starts at
   * once, with new tokens, and is granted beside the old subscriptions. The owed Unsubscribes, with
   * the old tokens the storage nodes echoed, are sent though the key is watched there again when
   * their turn comes: each ends the old subscription alone. Skipped, the old one held one of the
   * address's two places until its TTL.
   */
  @Test
  void anUnsubscribeOfAnEchoedOldTokenIsSentThoughTheKeyIsWatchedAgain() {
    Cluster c = clusters.grow(86, 20);
    KadNode watcher =
        c.join(c.builder().transport(new SlowUnsubscribes(c.network.newTransport(), c)));
    Address at = watcher.contact().address();
    Key key = Key.of("watched again");
    List<Disposable> fillers = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      fillers.add(watcher.watch(Key.of("filler " + i)).subscribe());
    }
    watches.addAll(fillers);
    Disposable first = watch(c, watcher, key, new CopyOnWriteArrayList<>());
    List<KadNode> storage = storageOf(c, watcher, key);
    assertThat(storage).isNotEmpty();
    Map<KadNode, Long> old = new HashMap<>();
    storage.forEach(n -> old.put(n, c.tokenAt(n, watcher, key)));

    fillers.forEach(Disposable::dispose);
    first.dispose();
    List<Value> seen = new CopyOnWriteArrayList<>();
    watch(c, watcher, key, seen);

    assertThat(storage)
        .allSatisfy(
            n ->
                assertThat(heldFor(c, n, key, at))
                    .singleElement()
                    .extracting(SubscriberRegistry.Subscription::token)
                    .isNotEqualTo(old.get(n)));
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
  }

  /**
   * Whoever claims a watcher's address fills its two places of a key at every node before the
   * watcher subscribes: each storage node refuses the watcher's Subscribe, probes the two made-up
   * subscriptions, which the watcher refuses, and grants its retry within seconds, not at the TTL.
   */
  @Test
  void placesFilledInTheWatchersNameBeforeItSubscribesAreFreedWithinSeconds() {
    Cluster c = clusters.grow(84, 20);
    Key key = Key.of("claimed first");
    KadNode watcher = farthestFrom(c, key);
    Address at = watcher.contact().address();
    InMemoryTransport wire = c.rawPeer();
    for (KadNode n : c.nodes) {
      if (n != watcher) {
        for (long made : new long[] {1111, 2222}) {
          c.await(
              wire.send(
                  n.contact().address(),
                  new Request.Subscribe(
                      watcher.contact(), key, CONFIG.subscriptionTtl(), false, made)));
        }
      }
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(2));

    List<Value> seen = new CopyOnWriteArrayList<>();
    watch(c, watcher, key, seen);

    List<KadNode> storage =
        c.nodes.stream()
            .filter(n -> n != watcher)
            .filter(
                n ->
                    heldFor(c, n, key, at).stream()
                        .anyMatch(s -> s.token() != 1111 && s.token() != 2222))
            .toList();
    assertThat(storage).hasSizeGreaterThanOrEqualTo(CONFIG.k() - 1);
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
  }
}
