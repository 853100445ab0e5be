package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.Value;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.SimulatedCluster;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/** The testkit's {@link SimulatedCluster} with the engine's nodes, as an application uses it. */
class SimulatedClusterTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(5).build();

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();

  @AfterEach
  void dispose() {
    time.dispose();
  }

  private static Function<Transport, Mono<KadNode>> nodes(SimulatedNetwork network) {
    return transport ->
        KadNodes.builder().config(CONFIG).transport(transport).random(network.newRandom()).start();
  }

  @Test
  void startsAJoinedNetworkWhoseNodesFindEachOthersValues() {
    SimulatedNetwork network = new SimulatedNetwork(time, 7);
    try (SimulatedCluster cluster = SimulatedCluster.start(network, 20, nodes(network))) {
      assertThat(cluster.nodes()).hasSize(20);
      assertThat(cluster.nodes()).allMatch(n -> n.routingTable().size() > 0);

      Key key = Key.of("greeting");
      cluster.await(cluster.node(3).put(key, new byte[] {42}));
      List<Value> values = cluster.await(cluster.node(15).get(key).collectList());

      assertThat(values).extracting(v -> v.data()[0]).containsExactly((byte) 42);
    }
  }

  @Test
  void theNodesAPutNamesAreFoundByAddress() {
    SimulatedNetwork network = new SimulatedNetwork(time, 8);
    try (SimulatedCluster cluster = SimulatedCluster.start(network, 10, nodes(network))) {
      assertThat(cluster.network()).isSameAs(network);
      Key key = Key.of("where");
      PutResult put = cluster.await(cluster.node(2).put(key, new byte[] {7}));
      for (Contact holder : put.accepted()) {
        KadNode node = cluster.node(holder.address());
        assertThat(node.id()).isEqualTo(holder.id());
        assertThat(cluster.await(node.get(key, 1).collectList())).hasSize(1);
      }
      Address nowhere = new Address("10.9.9.9", 4000);
      assertThatThrownBy(() -> cluster.node(nowhere))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("no node of this cluster is at 10.9.9.9:4000");
    }
  }

  @Test
  void aNodeThatCannotJoinIsNamedWithTheBootstrapErrorAsCause() {
    SimulatedNetwork network = new SimulatedNetwork(time, 6);
    List<KadNode> started = new ArrayList<>();
    Function<Transport, Mono<KadNode>> firstGoesDeaf =
        transport ->
            nodes(network)
                .apply(transport)
                .doOnNext(
                    n -> {
                      started.add(n);
                      if (started.size() == 2) {
                        network.kill(started.get(0).address());
                      }
                    });

    assertThatThrownBy(() -> SimulatedCluster.start(network, 4, firstGoesDeaf))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageStartingWith(
            "node 1 of 4 ("
                + started.get(1).address()
                + ") could not join through node 0 ("
                + started.get(0).address()
                + "): no seed answered")
        .hasCauseInstanceOf(NoSeedAnsweredException.class);
    assertThat(started).hasSize(2);
  }

  @Test
  void theSameSeedGivesTheSameCluster() {
    List<List<NodeId>> ids = new ArrayList<>();
    for (int run = 0; run < 2; run++) {
      SimulatedNetwork network = new SimulatedNetwork(time, 11);
      try (SimulatedCluster cluster = SimulatedCluster.start(network, 10, nodes(network))) {
        ids.add(cluster.nodes().stream().map(KadNode::id).toList());
      }
    }
    assertThat(ids.get(1)).isEqualTo(ids.get(0));
  }

  @Test
  void closeClosesEveryNode() {
    SimulatedNetwork network = new SimulatedNetwork(time, 3);
    SimulatedCluster cluster = SimulatedCluster.start(network, 4, nodes(network));
    cluster.close();

    for (KadNode node : cluster.nodes()) {
      assertThatThrownBy(() -> cluster.await(node.findNode(node.id())))
          .isInstanceOf(NodeClosedException.class);
    }
  }

  @Test
  void aNodeThatFailsToStartClosesTheOnesStartedAndIsThrown() {
    SimulatedNetwork network = new SimulatedNetwork(time, 5);
    List<KadNode> started = new ArrayList<>();
    Function<Transport, Mono<KadNode>> thirdFails =
        transport ->
            started.size() == 2
                ? Mono.error(new IllegalStateException("no room for a third"))
                : nodes(network).apply(transport).doOnNext(started::add);

    assertThatThrownBy(() -> SimulatedCluster.start(network, 5, thirdFails))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("no room for a third");
    assertThat(started).hasSize(2);
    for (KadNode node : started) {
      assertThatThrownBy(() -> VirtualTime.await(time, node.findNode(node.id())))
          .isInstanceOf(NodeClosedException.class);
    }
  }

  @Test
  void badArgumentsAreNamed() {
    SimulatedNetwork network = new SimulatedNetwork(time, 1);
    assertThatThrownBy(() -> SimulatedCluster.start(network, 0, nodes(network)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("size must be at least 1 but was 0");
    SimulatedNetwork realTime = new SimulatedNetwork(Schedulers.parallel(), 1);
    assertThatThrownBy(() -> SimulatedCluster.start(realTime, 3, nodes(realTime)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must be a VirtualTimeScheduler");
  }

  @Test
  void advanceRunsWhatIsDueAndRefusesGoingBack() {
    SimulatedNetwork network = new SimulatedNetwork(time, 9);
    try (SimulatedCluster cluster = SimulatedCluster.start(network, 3, nodes(network))) {
      long before = time.now(TimeUnit.MILLISECONDS);
      cluster.advance(Duration.ofMinutes(5));
      assertThat(time.now(TimeUnit.MILLISECONDS) - before)
          .isEqualTo(Duration.ofMinutes(5).toMillis());
      assertThatThrownBy(() -> cluster.advance(Duration.ofSeconds(-1)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("duration must not be negative but was PT-1S");
    }
  }
}
