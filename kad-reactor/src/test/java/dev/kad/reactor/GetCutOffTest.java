package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.Value;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A get whose lookup reached no node tells "cut off" from "no value": a node whose every contact
 * died used to complete the get empty, which {@link KadNode#get(Key)} documents as "no node holds a
 * value" (a presence service read a user as offline while it was itself cut off), where a put in
 * the same state errors with {@code NoStoreAnsweredException}.
 */
class GetCutOffTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(5).build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private final Cluster cluster = clusters.grow(42, 6);

  private void killAllBut(KadNode survivor) {
    for (KadNode n : cluster.nodes) {
      if (n != survivor) {
        cluster.network.kill(n.address());
      }
    }
  }

  @Test
  void aGetThatNoNodeAnsweredErrorsTransiently() {
    KadNode reader = cluster.node(2);
    Key key = Key.of("presence:alice");
    cluster.await(cluster.node(4).put(key, "online".getBytes(StandardCharsets.UTF_8)));
    killAllBut(reader);

    Throwable error =
        catchThrowable(() -> cluster.await(reader.get(Key.of("presence:bob")).collectList()));

    assertThat(error)
        .isInstanceOf(UnreachableContactException.class)
        .hasMessageContaining("no node answered the get of key")
        .hasMessageContaining("none of the 5 nodes its lookup asked answered");
    assertThat(((KadException) error).isTransient()).isTrue();
  }

  @Test
  void theValuesThisNodeHoldsAreTheAnswerWhenNobodyElseAnswers() {
    KadNode reader = cluster.node(2);
    Key key = Key.of("presence:alice");
    cluster.await(reader.put(key, "online".getBytes(StandardCharsets.UTF_8)));
    assertThat(reader.stats().storedValues()).as("the reader is among the key's k closest").isOne();
    killAllBut(reader);

    List<Value> seen = cluster.await(reader.get(key).collectList());

    assertThat(seen).singleElement().extracting(Value::publisher).isEqualTo(reader.id());
  }

  @Test
  void aFirstNodeWithNobodyToAskStillCompletesEmpty() {
    Cluster alone = clusters.grow(7, 1);

    assertThat(alone.await(alone.node(0).get(Key.of("presence:bob")).collectList())).isEmpty();
  }

  @Test
  void aGetThatSomeNodeAnsweredCompletesEmptyWhenNoValueExists() {
    KadNode reader = cluster.node(2);
    cluster.network.kill(cluster.node(3).address());
    assertThat(cluster.await(reader.get(Key.of("presence:nobody")).collectList())).isEmpty();
  }

  @Test
  void aNodeWhoseBootstrapFailedSaysItHasNotJoined() {
    KadNode lone = cluster.await(cluster.builder().start());
    try {
      catchThrowable(() -> cluster.await(lone.bootstrap(List.of(Address.parse("10.9.9.9:4000")))));

      assertThat(
              catchThrowable(() -> cluster.await(lone.get(Key.of("presence:bob")).collectList())))
          .isInstanceOf(UnreachableContactException.class)
          .hasMessageContaining("this node has not joined its network");
    } finally {
      cluster.await(lone.close());
    }
  }
}
