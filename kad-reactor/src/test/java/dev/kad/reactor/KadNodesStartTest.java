package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/** What {@code KadNodes.builder().start()} does when it is subscribed more than once. */
class KadNodesStartTest {

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(time, 3);
  private final List<KadNode> nodes = new ArrayList<>();

  @AfterEach
  void closeEveryNode() {
    for (KadNode node : nodes) {
      VirtualTime.await(time, node.close());
    }
    time.dispose();
  }

  private Mono<KadNode> start(Transport transport) {
    return KadNodes.builder().transport(transport).scheduler(time).start();
  }

  @Test
  void aNodeOnASimulatedNetworkRunsOnTheNetworksClockWithoutBeingToldTo() {
    KadNode a =
        VirtualTime.await(time, KadNodes.builder().transport(network.newTransport()).start());
    nodes.add(a);
    KadNode b =
        VirtualTime.await(
            time,
            KadNodes.builder()
                .transport(new ForwardingTransport(network.newTransport()) {})
                .start());
    nodes.add(b);

    VirtualTime.await(time, b.bootstrap(List.of(a.address())));

    // The node's clock is the network's: virtual time, starting at the epoch.
    Key key = Key.of("clock");
    VirtualTime.await(time, b.put(key, new byte[] {1}));
    List<Value> values = VirtualTime.await(time, a.get(key).collectList());
    assertThat(values).hasSize(1);
    assertThat(values.get(0).expiresAt())
        .isBetween(
            Instant.EPOCH.plus(Duration.ofHours(24)), Instant.EPOCH.plus(Duration.ofHours(25)));
  }

  @Test
  void aNodeGivenAnotherSchedulerThanItsSimulatedNetworksFailsToBuildNamingBoth() {
    assertThatThrownBy(
            () ->
                KadNodes.builder()
                    .transport(network.newTransport())
                    .scheduler(Schedulers.parallel())
                    .start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not its transport's")
        .hasMessageContaining(time.toString())
        .hasMessageContaining(Schedulers.parallel().toString());
  }

  @Test
  void buildingANodeAttachesItsTransportThroughAnyWrapperToTheNodesIdBeforeStarting() {
    List<NodeId> attached = new ArrayList<>();
    AtomicInteger startedBeforeAttach = new AtomicInteger();
    Transport recording =
        new ForwardingTransport(network.newTransport()) {
          @Override
          public void attach(NodeId self, KadConfig config) {
            attached.add(self);
            super.attach(self, config);
          }

          @Override
          public Mono<Void> start(RequestHandler handler) {
            if (attached.isEmpty()) {
              startedBeforeAttach.incrementAndGet();
            }
            return super.start(handler);
          }
        };
    NodeId id = NodeId.random(160, new Random(3));

    KadNode node =
        VirtualTime.await(
            time,
            KadNodes.builder().transport(new ForwardingTransport(recording) {}).id(id).start());
    nodes.add(node);

    assertThat(attached).containsExactly(id);
    assertThat(startedBeforeAttach).hasValue(0);
  }

  @Test
  void aSecondSubscriptionToAStartThatStartedSaysToSubscribeOnce() {
    Mono<KadNode> start = start(network.newTransport());
    KadNode node = VirtualTime.await(time, start);
    nodes.add(node);

    StepVerifier.create(start)
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(node.id().toShortHex())
                    .hasMessageContaining("subscribe to it once (or cache() it)"))
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void aStartWhoseTransportFailedToStartCanBeRetried() {
    AtomicInteger attempts = new AtomicInteger();
    Transport failingOnce =
        new ForwardingTransport(network.newTransport()) {
          @Override
          public Mono<Void> start(RequestHandler handler) {
            return attempts.incrementAndGet() == 1
                ? Mono.error(new KadException("cannot listen: address in use"))
                : super.start(handler);
          }
        };

    KadNode node = VirtualTime.await(time, start(failingOnce).retry(1));
    nodes.add(node);

    assertThat(attempts).hasValue(2);
    assertThat(node.contact().address()).isEqualTo(failingOnce.localAddress());
  }
}
