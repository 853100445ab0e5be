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
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.reactor.store.StoredValue;
import dev.kad.testkit.InMemoryTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;

class HandOverTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(4)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .maintenance(false)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  @Test
  void thePlanNeverRulesOutAKeyTheRuleHandsOver() {
    for (long seed = 0; seed < 300; seed++) {
      SplittableRandom rng = new SplittableRandom(seed);
      int k = 2 + rng.nextInt(7);
      NodeId self = NodeId.random(rng);
      // Ids sharing long prefixes with self as well as random ones, so that every rule of the plan
      // is met: empty and crowded indices, few and many contacts closer than the newcomer.
      List<Contact> table = new ArrayList<>();
      int size = rng.nextInt(60);
      for (int i = 0; i <= size; i++) {
        NodeId id = rng.nextBoolean() ? NodeId.random(rng) : nearby(self, rng);
        table.add(new Contact(id, new Address("10.0.0." + i, 1)));
      }
      Contact newcomer = table.get(rng.nextInt(table.size()));
      int[] perIndex = new int[self.bits()];
      table.forEach(c -> perIndex[self.bucketIndex(c.id())]++);
      HandOver plan = HandOver.plan(self, perIndex, newcomer.id(), k);
      for (int i = 0; i < 200; i++) {
        Key key = Key.ofRaw((rng.nextBoolean() ? NodeId.random(rng) : nearby(self, rng)).toBytes());
        List<Contact> closest =
            table.stream().sorted((a, b) -> key.compareDistance(a.id(), b.id())).limit(k).toList();
        if (HandOver.handsOver(self, key, closest, newcomer)) {
          assertThat(plan.none()).as("seed %d", seed).isFalse();
          assertThat(plan.mayHandOver(key)).as("seed %d, key %s", seed, key).isTrue();
        }
      }
    }
  }

  private static NodeId nearby(NodeId self, SplittableRandom rng) {
    return self.randomInBucket(rng.nextInt(12), rng);
  }

  @Test
  void aNewcomerFromAFarPopulatedBucketIsSettledWithoutReadingTheStore() {
    Cluster c = clusters.grow(51, 1);
    AtomicInteger scans = new AtomicInteger();
    RecordStore counting =
        new ForwardingRecordStore(new InMemoryRecordStore(CONFIG)) {
          @Override
          public List<StoredValue> entries(Instant now) {
            scans.incrementAndGet();
            return super.entries(now);
          }
        };
    KadNode node = c.await(c.builder().store(counting).start());
    c.nodes.add(node);
    for (int i = 0; i < 20; i++) {
      Value v = Value.of(new byte[] {1}, node.id(), i, 1, c.now().plus(Duration.ofHours(1)));
      counting.store(Key.of("held " + i), v, v.expiresAt(), false, c.now());
    }
    // k contacts much closer to this node than the far half of the space, and one in that half.
    List<Contact> known = new ArrayList<>();
    for (int i = 0; i < CONFIG.k(); i++) {
      known.add(new Contact(node.id().randomInBucket(20 + i, c.random), unused(c)));
    }
    known.add(new Contact(node.id().randomInBucket(159, c.random), unused(c)));
    KadNodes.learn(node, known);

    // A node from the far half makes itself known: it is closer to no key this node is the
    // closest holder of than the contact already there, so it gets nothing.
    InMemoryTransport far = c.network.newTransport();
    Contact farContact = new Contact(node.id().randomInBucket(159, c.random), far.address());
    c.await(far.start(request -> Mono.just(new Response.Pong(farContact))));
    c.await(far.send(node.contact().address(), new Request.Ping(farContact)));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(node.routingTable().contacts()).contains(farContact);
    assertThat(scans).hasValue(0);
  }

  @Test
  void aReplacementPromotedAfterAnEvictionGetsTheValuesItIsNowCloserTo() {
    // k = 1, so the promoted replacement is alone at its bucket index: this node, which holds a
    // key the replacement is closer to, is the closest holder it knows of and hands the key over.
    KadConfig k1 =
        KadConfig.builder()
            .k(1)
            .softTimeout(Duration.ofMillis(300))
            .hardTimeout(Duration.ofSeconds(2))
            .maintenance(false)
            .build();
    Cluster c = clusters.grow(53, k1, 0);
    KadNode node = c.start(k1);
    c.nodes.add(node);
    // The far bucket's one contact is dead: its address never answers.
    Contact dead = new Contact(node.id().randomInBucket(159, c.random), unused(c));
    KadNodes.learn(node, List.of(dead));

    InMemoryTransport peer = c.network.newTransport();
    Contact replacement = new Contact(node.id().randomInBucket(159, c.random), peer.address());
    Key key = Key.ofRaw(replacement.id().toBytes());
    Value v = Value.of(new byte[] {1}, node.id(), 0, 1, c.now().plus(Duration.ofHours(1)));
    ((DefaultKadNode) node).store().store(key, v, v.expiresAt(), false, c.now());
    List<Request.Store> received = new CopyOnWriteArrayList<>();
    c.await(
        peer.start(
            request -> {
              if (request instanceof Request.Store store) {
                received.add(store);
                return Mono.just(
                    new Response.Stored(replacement, store.values().size(), List.of()));
              }
              return Mono.just(new Response.Pong(replacement));
            }));

    // The replacement makes itself known once the dead contact is due a probe: it waits in the
    // cache, the probe times out, the dead contact is evicted and the replacement promoted.
    c.vts.advanceTimeBy(k1.pingGrace());
    c.await(
        peer.send(
            node.contact().address(), new Request.FindNode(replacement, NodeId.random(c.random))));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    assertThat(node.routingTable().contacts()).containsExactly(replacement);
    assertThat(received).extracting(Request.Store::key).containsExactly(key);
    assertThat(received.get(0).values()).containsExactly(v);
  }

  private static Address unused(Cluster c) {
    return c.network.newTransport().address();
  }
}
