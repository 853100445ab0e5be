package dev.kad.spring;

import dev.kad.api.spi.NodeListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;

/**
 * Turns what the node reports into Micrometer meters: {@code kad.rpc.sent} (timer, by type and
 * outcome), {@code kad.rpc.received} (counter, by type and outcome) and {@code kad.operations}
 * (timer, by kind and outcome). The registry is looked up lazily, so the node may report before the
 * registry exists; until then reports are dropped.
 */
public class KadMetrics implements NodeListener {

  private final ObjectProvider<MeterRegistry> registry;

  /**
   * Creates the listener.
   *
   * @param registry the application's meter registry, when there is one
   */
  public KadMetrics(ObjectProvider<MeterRegistry> registry) {
    this.registry = registry;
  }

  @Override
  public void rpcSent(String type, String outcome, Duration elapsed) {
    MeterRegistry r = registry.getIfAvailable();
    if (r != null) {
      Timer.builder("kad.rpc.sent")
          .description("Requests this node sent, by type and outcome")
          .tag("type", type)
          .tag("outcome", outcome)
          .register(r)
          .record(elapsed);
    }
  }

  @Override
  public void rpcReceived(String type, String outcome) {
    MeterRegistry r = registry.getIfAvailable();
    if (r != null) {
      Counter.builder("kad.rpc.received")
          .description("Requests this node answered, by type and outcome")
          .tag("type", type)
          .tag("outcome", outcome)
          .register(r)
          .increment();
    }
  }

  @Override
  public void operationFinished(String kind, String outcome, Duration elapsed) {
    MeterRegistry r = registry.getIfAvailable();
    if (r != null) {
      Timer.builder("kad.operations")
          .description("Lookups and stores of this node, by kind and outcome")
          .tag("kind", kind)
          .tag("outcome", outcome)
          .register(r)
          .record(elapsed);
    }
  }
}
