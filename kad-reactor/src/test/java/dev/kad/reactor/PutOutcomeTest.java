package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NoStoreAnsweredException;
import dev.kad.api.PutOptions;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.Value;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.test.StepVerifier;

/**
 * A put succeeds when another node accepted the value, or when this node is the first of its
 * network; otherwise it errors, and a full node keeps its own copy.
 */
class PutOutcomeTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(8)
          .alpha(3)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .maintenance(false)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  @Test
  void aPutWhoseOnlyOtherNodeClosedErrorsAsUnreachableAndKeepsTheLocalCopy() {
    Cluster c = clusters.grow(1, 2);
    KadNode a = c.node(0);
    KadNode b = c.node(1);
    c.await(b.close());
    Key key = Key.of("alone again");

    assertThatThrownBy(() -> c.await(a.put(key, new byte[] {1})))
        .isInstanceOf(NoStoreAnsweredException.class)
        .hasMessageContaining("key " + key.toShortHex())
        .hasMessageContaining("none of the 1 nodes its lookup asked answered")
        .hasMessageContaining("stored only at this node, which republishes it")
        .satisfies(
            e -> {
              assertThat(((NoStoreAnsweredException) e).isTransient()).isTrue();
              PutResult put = ((NoStoreAnsweredException) e).putResult().orElseThrow();
              assertThat(Cluster.ids(put.accepted())).containsExactly(a.id());
              // Dropped by the lookup, b is still reported as a node that did not answer.
              assertThat(Cluster.ids(put.failed())).containsExactly(b.id());
              assertThat(put.rejected()).isEmpty();
            });
    assertThat(c.await(a.get(key, 1)))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(1));
  }

  @Test
  void aPutThatEveryOtherNodeRefusesErrorsAsRejectedNamingTheirReasons() {
    Cluster c = clusters.grow(2, 1);
    KadNode a = c.node(0);
    KadConfig small = CONFIG.toBuilder().maxValueBytes(16).build();
    for (int i = 0; i < 3; i++) {
      c.join(c.builder().config(small));
    }
    Key key = Key.of("too big for them");

    assertThatThrownBy(() -> c.await(a.put(key, new byte[64])))
        .isInstanceOf(StoreRejectedException.class)
        .hasMessageContaining("no other node accepted the value for key " + key.toShortHex())
        .hasMessageContaining("64 bytes exceeds maxValueBytes 16")
        .hasMessageContaining("stored only at this node, which republishes it")
        .satisfies(
            e -> {
              PutResult put = ((StoreRejectedException) e).putResult().orElseThrow();
              assertThat(Cluster.ids(put.accepted())).containsExactly(a.id());
              assertThat(put.rejected())
                  .extracting(r -> r.contact().id())
                  .containsExactlyInAnyOrderElementsOf(
                      Cluster.ids(c.nodes.subList(1, 4).stream().map(KadNode::contact).toList()));
            });
    assertThat(c.await(a.get(key, 1))).singleElement();
  }

  @Test
  void aPreparedValueOnlyThisNodeHoldsIsSaidToStayUntilItExpires() {
    Cluster c = clusters.grow(3, 2);
    KadNode a = c.node(0);
    c.network.kill(c.node(1).address());
    Key key = Key.of("prepared");
    Value value = Value.of(new byte[] {2}, a.id(), 1, 1, c.now().plus(Duration.ofHours(1)));

    assertThatThrownBy(() -> c.await(a.put(key, value)))
        .isInstanceOf(NoStoreAnsweredException.class)
        .hasMessageContaining("stored only at this node, until it expires");
    assertThat(a.stopRepublishing(key)).isFalse();
    assertThat(c.await(a.get(key, 1))).containsExactly(value);
  }

  @Test
  void theFirstNodeOfItsNetworkStoresItsOwnCopyAndSucceeds() {
    Cluster c = clusters.grow(4, 1);
    KadNode first = c.node(0);

    PutResult put = c.await(first.put(Key.of("first"), new byte[] {3}));

    assertThat(Cluster.ids(put.accepted())).containsExactly(first.id());
    assertThat(put.rejected()).isEmpty();
    assertThat(put.failed()).isEmpty();
  }

  @Test
  void aNodeWhoseBootstrapNeverReachedItsNetworkIsNotTheFirstOfIt() {
    Cluster c = clusters.grow(7, 1);
    Address seed = c.node(0).contact().address();
    c.network.kill(seed);
    KadNode late = c.start(CONFIG);
    c.nodes.add(late);
    assertThatThrownBy(() -> c.await(late.bootstrap(List.of(seed))))
        .isInstanceOf(NoSeedAnsweredException.class);
    Key key = Key.of("before joining");

    // Its seeds name a network elsewhere: a copy here alone would leave with this node.
    assertThatThrownBy(() -> c.await(late.put(key, new byte[] {9})))
        .isInstanceOfSatisfying(
            NoStoreAnsweredException.class,
            e -> {
              assertThat(e.isTransient()).isTrue();
              assertThat(Cluster.ids(e.putResult().orElseThrow().accepted()))
                  .containsExactly(late.id());
            })
        .hasMessageContaining(
            "this node has not joined its network: no bootstrap through [" + seed + "] succeeded")
        .hasMessageContaining("stored only at this node, which republishes it");

    // Joined, it stores at the others as any node does.
    c.network.revive(seed);
    c.await(late.bootstrap(List.of(seed)));
    PutResult put = c.await(late.put(key, new byte[] {10}));
    assertThat(Cluster.ids(put.accepted())).contains(c.node(0).id());
  }

  @Test
  void aNodeAmongItsOwnSeedsIsTheFirstOfItsNetworkWhileTheOthersDoNotAnswer() {
    Cluster c = clusters.grow(8, 1);
    Address other = c.node(0).contact().address();
    c.network.kill(other);
    KadNode first = c.start(CONFIG);
    c.nodes.add(first);
    Address own = first.contact().address();
    c.await(first.bootstrap(List.of(own)));
    assertThat(c.await(first.put(Key.of("first"), new byte[] {11})).accepted()).hasSize(1);

    // The first pod of a cluster whose other pods do not exist yet.
    assertThatThrownBy(() -> c.await(first.bootstrap(List.of(own, other))))
        .isInstanceOf(NoSeedAnsweredException.class);
    PutResult put = c.await(first.put(Key.of("first again"), new byte[] {12}));
    assertThat(Cluster.ids(put.accepted())).containsExactly(first.id());

    // It stays the first while its next attempt (the Spring starter retries for ever) runs.
    Disposable retry = first.bootstrap(List.of(own, other)).subscribe(v -> {}, e -> {});
    c.vts.advanceTimeBy(Duration.ofMillis(100));
    PutResult during = c.await(first.put(Key.of("during the retry"), new byte[] {13}));
    assertThat(Cluster.ids(during.accepted())).containsExactly(first.id());
    retry.dispose();
  }

  @Test
  void aClientNodeStoresOnlyAtOthersAndErrorsWhenNoneAnswers() {
    Cluster c = clusters.grow(5, 2);
    KadNode client = c.join(c.builder().config(CONFIG.toBuilder().clientMode(true).build()));
    Key key = Key.of("from a client");

    PutResult put = c.await(client.put(key, new byte[] {4}));
    assertThat(Cluster.ids(put.accepted()))
        .containsExactlyInAnyOrder(c.node(0).id(), c.node(1).id());

    c.network.kill(c.node(0).address());
    c.network.kill(c.node(1).address());
    assertThatThrownBy(() -> c.await(client.put(key, new byte[] {5})))
        .isInstanceOf(NoStoreAnsweredException.class)
        .hasMessageContaining("no node answered")
        .hasMessageNotContaining("stored only at this node")
        .satisfies(
            e ->
                assertThat(((NoStoreAnsweredException) e).putResult().orElseThrow().accepted())
                    .isEmpty());
    assertThat(((DefaultKadNode) client).store().size()).isZero();
  }

  @Test
  void aPutOfBytesIsRepublishedFromSubscriptionEvenWhenItFailsOrIsCancelled() {
    Cluster c = clusters.grow(6, 2);
    KadNode a = c.node(0);
    KadNode b = c.node(1);
    c.network.kill(b.address());
    Key failed = Key.of("failed");
    assertThatThrownBy(() -> c.await(a.put(failed, new byte[] {6})))
        .isInstanceOf(NoStoreAnsweredException.class);

    // b comes back: the next republish run stores the value there.
    c.network.revive(b.address());
    c.await(((DefaultKadNode) a).republishAll());
    assertThat(((DefaultKadNode) b).store().get(failed, c.now()))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(6));

    Key cancelled = Key.of("cancelled");
    StepVerifier.create(a.put(cancelled, new byte[] {7}))
        .expectSubscription()
        .thenCancel()
        .verify(Duration.ofSeconds(10));
    assertThat(a.stopRepublishing(cancelled)).isTrue();
    assertThat(a.stopRepublishing(Key.of("never put"))).isFalse();
    // Not even subscribed: nothing registered.
    a.put(Key.of("not subscribed"), new byte[] {8});
    assertThat(a.stopRepublishing(Key.of("not subscribed"))).isFalse();
  }

  @Test
  void aClosedNodeRepublishesNothingSoStoppingSaysIt() {
    Cluster c = clusters.grow(6, 2);
    KadNode a = c.node(0);
    Key key = Key.of("closed");
    c.await(a.put(key, new byte[] {9}, PutOptions.defaults().valueId(3)));

    c.await(a.close());

    assertThat(a.stopRepublishing(key)).isFalse();
    assertThat(a.stopRepublishing(key, 3)).isFalse();
  }
}
