package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.PutOptions;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.testkit.InMemoryTransport;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * A hostile storage node against a watch: ids cost nothing, so anyone can be among a key's k
 * storage nodes and push what it likes in its own name (the tests push in a storage node's name
 * with the token it holds, as the node itself could). Anyone else's pushes in its name, without
 * that token, are refused ({@code SubscriptionTokenTest}). It can push made-up identities, but not
 * make the watch drop or forget what other nodes sent, nor pass values no node would store.
 */
class WatchSecurityTest {

  private static final KadConfig CONFIG = Cluster.watchConfig().build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private Cluster cluster;

  private Cluster cluster(long seed, int nodes) {
    cluster = clusters.grow(seed, nodes);
    return cluster;
  }

  private static List<KadNode> storageNodesOf(Cluster c, KadNode watcher, Key key) {
    return c.nodes.stream()
        .filter(n -> n != watcher)
        .filter(n -> ((DefaultKadNode) n).subscribers().subscribers(key, c.now()).size() > 0)
        .toList();
  }

  /**
   * A storage node floods the watch with made-up identities while its subscriber is slow: the
   * honest value waiting in the buffer was dropped as the oldest identity and never delivered.
   */
  @Test
  void
      aFloodOfMadeUpIdentitiesFromOneStorageNodeDoesNotDropAnHonestValueWaitingForASlowSubscriber() {
    Cluster c = cluster(57, 20);
    Key key = Key.of("flooded");
    KadNode watcher = c.farthestFrom(key);
    List<Value> seen = new CopyOnWriteArrayList<>();
    BaseSubscriber<Value> slow =
        new BaseSubscriber<>() {
          @Override
          protected void hookOnSubscribe(Subscription subscription) {}

          @Override
          protected void hookOnNext(Value value) {
            seen.add(value);
          }
        };
    cluster.keep(slow);
    watcher.watch(key).subscribe(slow);
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    KadNode storage = storageNodesOf(c, watcher, key).get(0);
    c.await(c.node(3).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    flood(c, watcher, storage, key, 4 * CONFIG.maxValuesPerKey(), 0);

    slow.request(Long.MAX_VALUE);
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(seen).anyMatch(v -> v.publisher().equals(c.node(3).id()));
  }

  /**
   * README: "never a lower seq after a higher one (the watch remembers the identities it delivered
   * most recently, 64 × maxValuesPerKey of them, so only one quiet for longer could repeat)". A
   * storage node makes any identity "quiet for longer" at will: it pushes 64 × maxValuesPerKey
   * made-up identities, then replays the publisher's genuine older signed value, which verifies and
   * is delivered after the newer one.
   */
  @Test
  void aStorageNodeCannotMakeTheWatchDeliverAnOlderSignedSeqAfterANewerOne() throws Exception {
    Cluster c = cluster(58, 20);
    Key key = Key.of("replayed");
    KadNode watcher = c.farthestFrom(key);
    List<Value> seen = cluster.watch(watcher, key);
    KadNode storage = storageNodesOf(c, watcher, key).get(0);
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KadNode publisher = c.node(3);
    c.await(publisher.put(key, new byte[] {1}, PutOptions.defaults().signedBy(keys)));
    c.vts.advanceTimeBy(Duration.ofSeconds(2));
    Value older = c.await(publisher.get(key).collectList()).get(0);
    c.await(publisher.put(key, new byte[] {2}, PutOptions.defaults().signedBy(keys)));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(seen)).containsExactly(1, 2);

    flood(c, watcher, storage, key, 64 * CONFIG.maxValuesPerKey(), 1000);
    c.await(
        c.rawPeer()
            .send(
                watcher.contact().address(),
                new Request.Notify(
                    storage.contact(),
                    key,
                    List.of(older),
                    false,
                    c.tokenAt(storage, watcher, key))));
    c.vts.advanceTimeBy(Duration.ofSeconds(2));

    List<Value> honest = seen.stream().filter(v -> v.publisher().equals(publisher.id())).toList();
    assertThat(Cluster.firstBytes(honest)).containsExactly(1, 2);
  }

  /**
   * What holds (passes): in a subscribed storage node's name, a signed value whose signature was
   * tampered with, one signed for another key, one expiring later than any node would store, and a
   * push of more than maxValuesPerKey values never reach the application; nor does any push for a
   * key this node does not watch.
   */
  @Test
  void pushesOfValuesNoStorageNodeWouldHoldNeverReachTheApplication() throws Exception {
    Cluster c = cluster(59, 20);
    Key key = Key.of("checked");
    KadNode watcher = c.farthestFrom(key);
    List<Value> seen = cluster.watch(watcher, key);
    KadNode storage = storageNodesOf(c, watcher, key).get(0);
    InMemoryTransport wire = c.rawPeer();
    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    java.time.Instant later = c.now().plusSeconds(600);
    Value genuine = Value.of(new byte[] {1}, c.node(3).id(), 0, 5, later).signedWith(key, keys);
    byte[] sig = genuine.signature();
    sig[0] ^= 1;
    Value tampered =
        new Value(genuine.data(), genuine.publisher(), 0, 6, later, genuine.publicKey(), sig);
    Value otherKey =
        Value.of(new byte[] {2}, c.node(3).id(), 1, 5, later).signedWith(Key.of("other"), keys);
    Value farFuture =
        Value.of(new byte[] {3}, c.node(3).id(), 2, 5, c.now().plus(Duration.ofDays(3650)));
    List<Value> tooMany = new ArrayList<>();
    for (int i = 0; i <= CONFIG.maxValuesPerKey(); i++) {
      tooMany.add(Value.of(new byte[] {4}, c.node(3).id(), 10 + i, 1, later));
    }
    long token = c.tokenAt(storage, watcher, key);
    for (List<Value> push : List.of(List.of(tampered, otherKey), List.of(farFuture), tooMany)) {
      c.await(
          wire.send(
              watcher.contact().address(),
              new Request.Notify(storage.contact(), key, push, false, token)));
    }
    Response unwatched =
        c.await(
            wire.send(
                watcher.contact().address(),
                new Request.Notify(storage.contact(), Key.of("unwatched"), List.of(genuine))));
    c.vts.advanceTimeBy(Duration.ofSeconds(2));

    assertThat(seen).isEmpty();
    assertThat(unwatched).isInstanceOf(Response.Failure.class);
  }

  /**
   * Pushes {@code identities} made-up (publisher, value id) identities in {@code storage}'s name,
   * maxValuesPerKey to a push (as a storage node among the key's k could itself).
   */
  private static void flood(
      Cluster c, KadNode watcher, KadNode storage, Key key, int identities, int salt) {
    InMemoryTransport wire = c.rawPeer();
    SplittableRandom rng = new SplittableRandom(salt);
    // The storage node's own pushes carry its subscription's token.
    long token = c.tokenAt(storage, watcher, key);
    int perPush = CONFIG.maxValuesPerKey();
    for (int sent = 0; sent < identities; sent += perPush) {
      List<Value> junk = new ArrayList<>();
      for (int i = 0; i < perPush; i++) {
        junk.add(Value.of(new byte[] {99}, NodeId.random(rng), 0, 1, c.now().plusSeconds(600)));
      }
      Response answer =
          c.await(
              wire.send(
                  watcher.contact().address(),
                  new Request.Notify(storage.contact(), key, junk, false, token)));
      assertThat(answer).isInstanceOf(Response.Pong.class);
    }
  }
}
