package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.Value;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.NoBlocking;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Fifty real nodes on 127.0.0.1: bootstrap, find nodes, put and get over TCP, with BlockHound
 * watching that nothing blocks an event loop.
 */
class TcpClusterIntegrationTest {

  private static final Duration BOUND = Duration.ofSeconds(30);
  private static final KadConfig CONFIG =
      KadConfig.builder().k(8).maintenance(false).hardTimeout(Duration.ofSeconds(3)).build();

  private final List<KadNode> nodes = new ArrayList<>();
  private final SplittableRandom random = new SplittableRandom(50);

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }

  @AfterEach
  void closeAll() {
    Flux.fromIterable(nodes).flatMap(KadNode::close).then().block(BOUND);
    // Nothing blocks an event loop or a Reactor non-blocking thread, start to close.
    assertThat(NoBlocking.calls()).isEmpty();
  }

  private KadNode start() {
    TcpTransport transport =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .fromConfig(CONFIG)
                .bindHost("127.0.0.1")
                .bindPort(0)
                .eventLoopThreads(1)
                .build());
    KadNode node =
        KadNodes.builder()
            .config(CONFIG)
            .transport(transport)
            .random(random.split())
            .start()
            .block(BOUND);
    nodes.add(node);
    return node;
  }

  @Test
  void fiftyNodesBootstrapFindEachOtherAndShareValues() {
    KadNode first = start();
    for (int i = 1; i < 50; i++) {
      KadNode node = start();
      KadNode seed = nodes.get(random.nextInt(i));
      node.bootstrap(List.of(seed.contact().address())).block(BOUND);
    }
    assertThat(first.routingTable().size()).isPositive();

    for (int i = 0; i < 10; i++) {
      NodeId target = NodeId.random(random);
      KadNode from = nodes.get(random.nextInt(nodes.size()));
      List<Contact> found = from.findNode(target).block(BOUND);
      List<NodeId> expected =
          nodes.stream()
              .map(KadNode::id)
              .filter(id -> !id.equals(from.id()))
              .sorted(target::compareDistance)
              .limit(CONFIG.k())
              .toList();
      assertThat(found).extracting(Contact::id).containsExactlyElementsOf(expected);
    }

    Key key = Key.of("over tcp");
    PutResult put = nodes.get(7).put(key, "hello".getBytes(StandardCharsets.UTF_8)).block(BOUND);
    assertThat(put.acceptedCount()).isGreaterThanOrEqualTo(CONFIG.k());
    List<Value> got = nodes.get(42).get(key).collectList().block(BOUND);
    assertThat(got)
        .singleElement()
        .satisfies(
            v -> assertThat(new String(v.data(), StandardCharsets.UTF_8)).isEqualTo("hello"));
  }

  @Test
  void aWatcherSeesValuesPutByAnotherNodeOfATwentyNodeCluster() {
    start();
    for (int i = 1; i < 20; i++) {
      start().bootstrap(List.of(nodes.get(0).contact().address())).block(BOUND);
    }
    Key key = Key.of("live over tcp");
    KadNode watcher = nodes.get(5);
    KadNode publisher = nodes.get(15);
    StepVerifier.create(watcher.watch(key).map(v -> new String(v.data(), StandardCharsets.UTF_8)))
        .then(() -> publisher.put(key, "first".getBytes(StandardCharsets.UTF_8)).block(BOUND))
        .expectNext("first")
        // The first value arrived after the watch subscribed, so the second comes as a push.
        .then(() -> publisher.put(key, "second".getBytes(StandardCharsets.UTF_8)).block(BOUND))
        .expectNext("second")
        .thenCancel()
        .verify(BOUND);
  }

  @Test
  void aKeyHoldsNoMoreLargeValuesThanOneAnswerCarriesAndStaysReadable() {
    start();
    for (int i = 1; i < 6; i++) {
      start().bootstrap(List.of(nodes.get(0).contact().address())).block(BOUND);
    }
    Key key = Key.of("large values");
    // Three publishers each put the largest value: the third would not fit one answer.
    List<byte[]> accepted = new ArrayList<>();
    for (int p = 1; p <= 2; p++) {
      byte[] data = new byte[CONFIG.maxValueBytes()];
      random.nextBytes(data);
      assertThat(nodes.get(p).put(key, data).block(BOUND).acceptedCount()).isPositive();
      accepted.add(data);
    }
    byte[] third = new byte[CONFIG.maxValueBytes()];
    assertThatThrownBy(() -> nodes.get(3).put(key, third).block(BOUND))
        .isInstanceOf(StoreRejectedException.class)
        .hasMessageContaining("more than the " + CONFIG.keyWireBudget() + " one message carries");
    List<Value> got = nodes.get(5).get(key).collectList().block(BOUND);
    assertThat(got).extracting(Value::data).containsExactlyInAnyOrderElementsOf(accepted);
  }
}
