package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
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
