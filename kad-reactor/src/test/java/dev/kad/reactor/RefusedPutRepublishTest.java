package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.PutOptions;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.Value;
import dev.kad.testkit.SimulatedCluster;
import dev.kad.testkit.SimulatedNetwork;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A put that every node refuses for good (another key pair than the one the stored value is signed
 * with: a process that made a fresh key pair after a restart, or a bug picking the wrong user's
 * key) leaves the republishing of the key and value id to the accepted value. Before, the refused
 * put took it over: the accepted value expired a day later, and the refused one, republished
 * meanwhile, was then accepted in its place.
 */
class RefusedPutRepublishTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(5).build();

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network =
      new SimulatedNetwork(time, 42).latency(Duration.ofMillis(10), Duration.ofMillis(50));
  private final SimulatedCluster cluster =
      SimulatedCluster.start(
          network,
          8,
          t -> KadNodes.builder().config(CONFIG).transport(t).random(network.newRandom()).start());

  @AfterEach
  void tearDown() {
    cluster.close();
    time.dispose();
  }

  @Test
  void aPutRefusedForGoodLeavesTheAcceptedValueRepublished() throws Exception {
    Key key = Key.of("presence:bob");
    KeyPair bob = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair wrong = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KadNode publisher = cluster.node(1);
    cluster.await(
        publisher.put(
            key, "online".getBytes(StandardCharsets.UTF_8), PutOptions.defaults().signedBy(bob)));

    Throwable refused =
        catchThrowable(
            () ->
                cluster.await(
                    publisher.put(
                        key,
                        "hijack".getBytes(StandardCharsets.UTF_8),
                        PutOptions.defaults().signedBy(wrong))));
    assertThat(refused).isInstanceOf(StoreRejectedException.class);
    assertThat(((KadException) refused).isTransient()).isFalse();

    cluster.advance(Duration.ofHours(25));

    List<Value> found = cluster.await(cluster.node(6).get(key).collectList());
    assertThat(found)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(new String(v.data(), StandardCharsets.UTF_8)).isEqualTo("online");
              assertThat(v.publicKey()).isEqualTo(bob.getPublic().getEncoded());
            });
  }

  @Test
  void aPreparedValueRefusedForGoodLeavesTheAcceptedValueRepublished() throws Exception {
    Key key = Key.of("presence:carol");
    KeyPair carol = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair wrong = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KadNode publisher = cluster.node(1);
    cluster.await(
        publisher.put(
            key, "online".getBytes(StandardCharsets.UTF_8), PutOptions.defaults().signedBy(carol)));
    Value stored = cluster.await(cluster.node(6).get(key).next());
    Value hijack =
        Value.of(
                "hijack".getBytes(StandardCharsets.UTF_8),
                publisher.id(),
                stored.valueId(),
                stored.seq() + 1,
                stored.expiresAt())
            .signedWith(key, wrong);

    assertThat(catchThrowable(() -> cluster.await(publisher.put(key, hijack))))
        .isInstanceOf(StoreRejectedException.class);
    cluster.advance(Duration.ofHours(25));

    assertThat(cluster.await(cluster.node(6).get(key).collectList()))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).isEqualTo("online".getBytes(StandardCharsets.UTF_8)));
  }
}
