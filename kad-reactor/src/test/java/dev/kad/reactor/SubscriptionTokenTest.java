package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.reactor.watch.SubscriberRegistry;
import dev.kad.testkit.InMemoryTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A live stream's subscription token: the secret a watcher draws per key and storage node, sends in
 * its Subscribe and Unsubscribe, and the storage node pushes in each Notify. Without it, a push's
 * sender and an Unsubscribe's subscriber are claims anyone can make.
 */
class SubscriptionTokenTest {

  private static final KadConfig CONFIG = Cluster.watchConfig().build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  /** The subscriptions {@code storage} holds of {@code key} pushed to {@code at}. */
  private static List<SubscriberRegistry.Subscription> heldFor(
      Cluster c, KadNode storage, Key key, Address at) {
    return ((DefaultKadNode) storage)
        .subscribers().subscriptions(key, c.now()).stream()
            .filter(s -> s.subscriber().address().equals(at))
            .toList();
  }

  private static KadNode storageNodeOf(Cluster c, KadNode watcher, Key key) {
    return c.nodes.stream()
        .filter(n -> n != watcher)
        .filter(n -> !heldFor(c, n, key, watcher.contact().address()).isEmpty())
        .findFirst()
        .orElseThrow();
  }

  /**
   * A node given a seeded random source still draws its tokens from a SecureRandom: whoever knows
   * the seed (a simulation's, or one a deployment reused) cannot guess them.
   */
  @Test
  void tokensOfNodesGivenTheSameSeedDiffer() {
    List<Long> runs = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      Cluster c = clusters.grow(76, 12);
      Key key = Key.of("seeded");
      KadNode watcher = c.farthestFrom(key);
      c.watch(watcher, key);
      runs.add(c.tokenAt(storageNodeOf(c, watcher, key), watcher, key));
    }
    assertThat(runs.get(0)).isNotZero();
    assertThat(runs.get(1)).isNotZero().isNotEqualTo(runs.get(0));
  }

  /** (a) A Notify in a subscribed storage node's name, without its token, is refused. */
  @Test
  void aForgedPushInAStorageNodesNameWithoutItsTokenIsRefusedAndTheRealPushesStillArrive() {
    Cluster c = clusters.grow(71, 20);
    Key key = Key.of("forged");
    KadNode watcher = c.farthestFrom(key);
    List<Value> seen = c.watch(watcher, key);
    KadNode storage = storageNodeOf(c, watcher, key);
    long token = c.tokenAt(storage, watcher, key);
    assertThat(token).as("the watcher subscribed with a token").isNotZero();
    InMemoryTransport wire = c.rawPeer();
    Value forged = Value.of(new byte[] {66}, c.node(3).id(), 7, 1, c.now().plusSeconds(600));

    List<Response> answers = new ArrayList<>();
    for (long claimed : new long[] {0, token + 1, -token}) {
      answers.add(
          c.await(
              wire.send(
                  watcher.contact().address(),
                  new Request.Notify(storage.contact(), key, List.of(forged), false, claimed))));
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(2));

    assertThat(answers)
        .allSatisfy(
            a ->
                assertThat(a)
                    .isInstanceOfSatisfying(
                        Response.Failure.class,
                        f -> assertThat(f.code()).isEqualTo(Response.Code.INVALID)));
    assertThat(seen).isEmpty();
    // The storage node's own pushes still arrive, and are taken: a refused one would end its
    // subscription there.
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
    assertThat(heldFor(c, storage, key, watcher.contact().address()))
        .singleElement()
        .extracting(SubscriberRegistry.Subscription::token)
        .isEqualTo(token);
    // And the storage node's token still passes, in its name.
    Value genuine = Value.of(new byte[] {2}, c.node(3).id(), 8, 1, c.now().plusSeconds(600));
    assertThat(
            c.await(
                wire.send(
                    watcher.contact().address(),
                    new Request.Notify(storage.contact(), key, List.of(genuine), false, token))))
        .isInstanceOf(Response.Pong.class);
  }

  /** (b) An Unsubscribe in the watcher's name, from its address, without its token ends nothing. */
  @Test
  void aSpoofedUnsubscribeWithoutTheTokenLeavesTheSubscriptionPushing() {
    Cluster c = clusters.grow(72, 20);
    Key key = Key.of("muted");
    KadNode watcher = c.farthestFrom(key);
    List<Value> seen = c.watch(watcher, key);
    KadNode storage = storageNodeOf(c, watcher, key);
    long token = c.tokenAt(storage, watcher, key);
    InMemoryTransport wire = c.rawPeer();

    for (long claimed : new long[] {0, token + 1}) {
      c.await(
          wire.send(
              storage.contact().address(),
              new Request.Unsubscribe(watcher.contact(), key, false, claimed)));
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(1));

    assertThat(heldFor(c, storage, key, watcher.contact().address())).hasSize(1);
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
    assertThat(heldFor(c, storage, key, watcher.contact().address())).hasSize(1);
    // The watcher's own Unsubscribe, with the token, still ends it.
    c.await(
        wire.send(
            storage.contact().address(),
            new Request.Unsubscribe(watcher.contact(), key, false, token)));
    assertThat(heldFor(c, storage, key, watcher.contact().address())).isEmpty();
  }

  /**
   * (c) A Subscribe naming a third party's address (here in its very name, id and address): the
   * third party refuses the first push, which carries a token it never issued, and gets no more;
   * its own subscription there, and its pushes, are untouched.
   */
  @Test
  void aSubscribeInAThirdPartysNameCostsItOnePushThenNoMore() {
    Cluster c = clusters.grow(73, 20);
    Key key = Key.of("reflected");
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode victim = c.startRecorded(recorder);
    List<Value> seen = c.watch(victim, key);
    KadNode storage = storageNodeOf(c, victim, key);
    long token = c.tokenAt(storage, victim, key);
    // Another third party, watching nothing: refused with "not watching", as before.
    RecordingTransport[] idleRecorder = new RecordingTransport[1];
    KadNode idle = c.startRecorded(idleRecorder);
    InMemoryTransport wire = c.rawPeer();
    long made = 12345;
    for (KadNode third : List.of(victim, idle)) {
      assertThat(
              c.await(
                  wire.send(
                      storage.contact().address(),
                      new Request.Subscribe(
                          third.contact(), key, CONFIG.subscriptionTtl(), false, made))))
          .isInstanceOf(Response.Subscribed.class);
    }
    assertThat(heldFor(c, storage, key, victim.contact().address())).hasSize(2);
    recorder[0].clear();
    idleRecorder[0].clear();

    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(reflected(recorder[0], storage, made)).isEqualTo(1);
    assertThat(reflected(idleRecorder[0], storage, made)).isEqualTo(1);
    c.await(c.node(1).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(reflected(recorder[0], storage, made)).as("pushes after the refusal").isEqualTo(1);
    assertThat(reflected(idleRecorder[0], storage, made)).isEqualTo(1);
    assertThat(heldFor(c, storage, key, victim.contact().address()))
        .singleElement()
        .extracting(SubscriberRegistry.Subscription::token)
        .isEqualTo(token);
    assertThat(heldFor(c, storage, key, idle.contact().address())).isEmpty();
    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 2);
  }

  /**
   * The Notifies {@code storage} pushed with {@code token} that {@code recorder}'s node received.
   */
  private static long reflected(RecordingTransport recorder, KadNode storage, long token) {
    return recorder.received().stream()
        .filter(r -> r instanceof Request.Notify n && n.token() == token)
        .filter(r -> r.sender().id().equals(storage.id()))
        .count();
  }

  /**
   * (d) A Subscribe from the watcher's address with another token neither replaces, re-tokens nor
   * mutes its subscription; one address holds at most two subscriptions of a key, so made-up tokens
   * do not multiply its pushes.
   */
  @Test
  void aSubscribeFromTheSameAddressWithAnotherTokenDoesNotStopTheOriginalsPushes() {
    Cluster c = clusters.grow(74, 20);
    Key key = Key.of("re-tokened");
    KadNode watcher = c.farthestFrom(key);
    List<Value> seen = c.watch(watcher, key);
    KadNode storage = storageNodeOf(c, watcher, key);
    long token = c.tokenAt(storage, watcher, key);
    InMemoryTransport wire = c.rawPeer();

    List<Response> answers = new ArrayList<>();
    for (long other : new long[] {token + 1, token + 2, 0}) {
      answers.add(
          c.await(
              wire.send(
                  storage.contact().address(),
                  new Request.Subscribe(
                      watcher.contact(), key, CONFIG.subscriptionTtl(), false, other))));
    }
    assertThat(answers.get(0)).isInstanceOf(Response.Subscribed.class);
    assertThat(answers.get(1)).isInstanceOf(Response.Failure.class);
    assertThat(answers.get(2)).isInstanceOf(Response.Failure.class);
    assertThat(heldFor(c, storage, key, watcher.contact().address()))
        .extracting(SubscriberRegistry.Subscription::token)
        .containsExactlyInAnyOrder(token, token + 1);

    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(Cluster.firstBytes(seen)).containsExactly(1);
    // The made-up token's push was refused and ended that subscription alone.
    assertThat(heldFor(c, storage, key, watcher.contact().address()))
        .singleElement()
        .extracting(SubscriberRegistry.Subscription::token)
        .isEqualTo(token);
    // The watcher's renewal still renews its own.
    c.vts.advanceTimeBy(CONFIG.subscriptionTtl().plusSeconds(5));
    assertThat(heldFor(c, storage, key, watcher.contact().address()))
        .singleElement()
        .extracting(SubscriberRegistry.Subscription::token)
        .isEqualTo(token);
  }

  /** (e) Storage nodes that hold no tokens (earlier versions) still push to a new watcher. */
  @Test
  void storageNodesOfAnEarlierVersionStillPushToTheWatcher() {
    Cluster c = clusters.grow(75, 1);
    OlderPeer.join(c, 14);
    Key key = Key.of("mixed versions");
    KadNode watcher = c.join(c.builder());
    List<Value> seen = c.watch(watcher, key);
    List<KadNode> older = c.nodes.subList(1, 15);
    List<KadNode> storage =
        older.stream()
            .filter(n -> !heldFor(c, n, key, watcher.contact().address()).isEmpty())
            .toList();
    assertThat(storage).isNotEmpty();
    assertThat(storage)
        .allSatisfy(
            n ->
                assertThat(heldFor(c, n, key, watcher.contact().address()))
                    .extracting(SubscriberRegistry.Subscription::token)
                    .containsExactly(0L));

    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    c.await(c.node(2).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(Cluster.firstBytes(seen)).containsExactlyInAnyOrder(1, 2);
    // Every older node's push was taken: a refused one would have ended its subscription.
    assertThat(storage)
        .allSatisfy(n -> assertThat(heldFor(c, n, key, watcher.contact().address())).hasSize(1));
  }
}
