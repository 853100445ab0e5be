package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A first put of a key refused because the key is full at every node (maxValuesPerKey) keeps its
 * registration: the next republish after the room freed stores it. Only a replacement refused for
 * good gives the registration back to the accepted value it replaced.
 */
class FullStoreRefusalRepublishTest {

  private static final KadConfig CONFIG =
      KadConfig.builder().k(5).maxValuesPerKey(1).republishInterval(Duration.ofHours(1)).build();

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
  void aPutRefusedForAFullKeyLandsOnceTheKeyHasRoom() {
    Key key = Key.of("full");
    KadNode occupier = cluster.node(2);
    KadNode publisher = cluster.node(1);
    cluster.await(
        occupier.put(
            key,
            "first".getBytes(StandardCharsets.UTF_8),
            PutOptions.defaults().ttl(Duration.ofMinutes(30)).republish(false)));

    Throwable refused = null;
    try {
      cluster.await(publisher.put(key, "second".getBytes(StandardCharsets.UTF_8)));
    } catch (RuntimeException e) {
      refused = e;
    }
    assertThat(refused).as("precondition").isInstanceOf(StoreRejectedException.class);
    assertThat(((KadException) refused).isTransient()).isFalse();

    // The occupier's value expires after 30 minutes; the publisher's republish runs every hour.
    cluster.advance(Duration.ofHours(3));

    assertThat(cluster.await(cluster.node(6).get(key).collectList()))
        .extracting((Value v) -> new String(v.data(), StandardCharsets.UTF_8))
        .containsExactly("second");
  }
}
