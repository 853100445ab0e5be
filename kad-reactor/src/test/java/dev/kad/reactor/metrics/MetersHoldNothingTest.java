package dev.kad.reactor.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.ref.WeakReference;
import java.lang.reflect.Proxy;
import java.time.Clock;
import org.junit.jupiter.api.Test;

/**
 * A long-lived registry keeps nothing of a node the application dropped: {@link NodeGauges} hold
 * the node weakly, as Micrometer's gauges do, and {@link NodeMetrics} its meters (the registry
 * keeps its meter-removed listeners for good).
 */
class MetersHoldNothingTest {

  @Test
  void theRegistryDoesNotKeepADroppedNode() {
    MeterRegistry registry = new SimpleMeterRegistry();
    WeakReference<KadNode> dropped = bindAndDrop(registry);

    for (int i = 0; i < 50 && dropped.get() != null; i++) {
      System.gc();
    }

    assertThat(registry.find("kad.network.silence").timeGauge()).isNotNull();
    assertThat(dropped.get()).as("the node, after 50 collections").isNull();
  }

  private static WeakReference<KadNode> bindAndDrop(MeterRegistry registry) {
    KadNode node =
        (KadNode)
            Proxy.newProxyInstance(
                KadNode.class.getClassLoader(),
                new Class<?>[] {KadNode.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("stats")) {
                    return null; // never read here
                  }
                  if (method.getName().equals("hashCode")) {
                    return System.identityHashCode(proxy);
                  }
                  if (method.getName().equals("equals")) {
                    return proxy == args[0];
                  }
                  return method.getName().equals("toString") ? "stub" : null;
                });
    new NodeGauges(node, Tags.empty(), Clock.systemUTC()).bindTo(registry);
    return new WeakReference<>(node);
  }

  @Test
  void theRegistryDoesNotKeepADroppedListener() {
    MeterRegistry registry = new SimpleMeterRegistry();
    WeakReference<NodeMetrics> dropped = listenAndDrop(registry);

    for (int i = 0; i < 50 && dropped.get() != null; i++) {
      System.gc();
    }

    assertThat(registry.find("kad.rpc.sent").timer()).isNotNull();
    assertThat(dropped.get()).as("the listener, after 50 collections").isNull();
  }

  private static WeakReference<NodeMetrics> listenAndDrop(MeterRegistry registry) {
    NodeMetrics metrics = new NodeMetrics(registry);
    metrics.rpcSent("ping", "ok", java.time.Duration.ofMillis(1));
    return new WeakReference<>(metrics);
  }
}
