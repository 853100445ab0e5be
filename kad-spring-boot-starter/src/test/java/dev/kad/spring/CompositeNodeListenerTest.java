package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.spi.NodeListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class CompositeNodeListenerTest {

  @Test
  void aListenerThatThrowsIsSkippedAndTheNextStillHears() {
    List<String> heard = new CopyOnWriteArrayList<>();
    NodeListener composite =
        CompositeNodeListener.of(
            List.of(new KadAutoConfigurationTest.ThrowingListener(), recording(heard)));
    composite.rpcSent("ping", "ok", Duration.ofMillis(3));
    composite.rpcReceived("ping", "ok");
    composite.operationFinished("bootstrap", "ok", Duration.ofMillis(9));
    composite.rpcSent("ping", "ok", Duration.ofMillis(3));
    assertThat(heard).containsExactly("sent ping", "received ping", "bootstrap", "sent ping");
  }

  @Test
  void aSingleListenerThatThrowsNeverThrowsIntoTheNode() {
    NodeListener only =
        CompositeNodeListener.of(List.of(new KadAutoConfigurationTest.ThrowingListener()));
    only.rpcSent("ping", "ok", Duration.ZERO);
    only.rpcReceived("ping", "ok");
    only.operationFinished("bootstrap", "ok", Duration.ZERO);
    assertThat(CompositeNodeListener.of(List.of())).isSameAs(NodeListener.NONE);
  }

  private static NodeListener recording(List<String> heard) {
    return new NodeListener() {
      @Override
      public void rpcSent(String type, String outcome, Duration elapsed) {
        heard.add("sent " + type);
      }

      @Override
      public void rpcReceived(String type, String outcome) {
        heard.add("received " + type);
      }

      @Override
      public void operationFinished(String kind, String outcome, Duration elapsed) {
        heard.add(kind);
      }
    };
  }
}
