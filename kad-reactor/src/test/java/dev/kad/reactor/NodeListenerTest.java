package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeStats;
import dev.kad.api.PutResult;
import dev.kad.api.spi.NodeListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class NodeListenerTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(4).maintenance(false).build();

  /** Remembers every call as "sent|received|op:type:outcome". */
  static final class Recorder implements NodeListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void rpcSent(String type, String outcome, Duration elapsed) {
      events.add("sent:" + type + ":" + outcome);
    }

    @Override
    public void rpcReceived(String type, String outcome) {
      events.add("received:" + type + ":" + outcome);
    }

    @Override
    public void operationFinished(String kind, String outcome, Duration elapsed) {
      events.add("op:" + kind + ":" + outcome);
    }
  }

  @Test
  void theListenerHearsEveryRequestAndOperationAndStatsFollowTheState() {
    try (Cluster c = new Cluster(41, CONFIG).grow(10)) {
      Recorder recorder = new Recorder();
      KadNode node = c.startWithListener(recorder);
      assertThat(recorder.events).contains("op:bootstrap:ok", "sent:ping:ok", "sent:find_node:ok");
      c.await(node.put(Key.of("metered"), new byte[] {1}));
      assertThat(recorder.events).contains("sent:store:ok", "op:put:ok");
      c.await(node.get(Key.of("metered")).collectList());
      assertThat(recorder.events).contains("op:get:ok");
      c.await(c.node(3).findNode(node.id()));
      assertThat(recorder.events).contains("received:find_node:ok");

      c.network.kill(c.node(1).contact().address());
      c.await(
          node.bootstrap(List.of(c.node(1).contact().address()))
              .onErrorResume(e -> reactor.core.publisher.Mono.empty()));
      assertThat(recorder.events).contains("sent:ping:timeout", "op:bootstrap:error");

      NodeStats stats = node.stats();
      assertThat(stats.contacts()).isEqualTo(node.routingTable().size()).isPositive();
      assertThat(stats.buckets()).isPositive();
      assertThat(stats.activeWatches()).isZero();
    }
  }

  @Test
  void aListenerThatThrowsFailsNoOperationAndNoAnswer() {
    try (Cluster c = new Cluster(43, CONFIG).grow(10)) {
      NodeListener broken =
          new NodeListener() {
            @Override
            public void rpcSent(String type, String outcome, Duration elapsed) {
              throw new IllegalStateException("meter registry closed");
            }

            @Override
            public void rpcReceived(String type, String outcome) {
              throw new IllegalStateException("meter registry closed");
            }

            @Override
            public void operationFinished(String kind, String outcome, Duration elapsed) {
              throw new IllegalStateException("meter registry closed");
            }
          };
      KadNode node = c.startWithListener(broken);

      PutResult put = c.await(node.put(Key.of("metered"), new byte[] {1}));
      assertThat(put.acceptedCount()).isGreaterThan(1);
      assertThat(c.await(node.get(Key.of("metered")).collectList())).hasSize(1);
      // Its answers to another node's requests are answers, not Failure(INTERNAL).
      assertThat(c.await(c.node(3).findNode(node.id())))
          .extracting(Contact::id)
          .contains(node.id());
      assertThat(c.node(3).routingTable().contacts()).extracting(Contact::id).contains(node.id());
    }
  }

  @Test
  void anOperationIsReportedOnceEvenWhenACancelFollowsItsEnd() {
    try (Cluster c = new Cluster(42, CONFIG).grow(10)) {
      Recorder recorder = new Recorder();
      KadNode node = c.startWithListener(recorder);
      recorder.events.clear();
      // take(1) cancels the Mono once its value arrives, after the operation has ended.
      c.await(node.findNode(c.node(3).id()).flux().take(1).collectList());
      assertThat(recorder.events)
          .filteredOn(e -> e.startsWith("op:"))
          .containsExactly("op:find_node:ok");
    }
  }
}
