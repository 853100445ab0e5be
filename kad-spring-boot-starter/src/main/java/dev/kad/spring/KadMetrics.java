package dev.kad.spring;

import dev.kad.api.spi.NodeListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Turns what the node reports into Micrometer meters: {@code kad.rpc.sent} (timer, by type and
 * outcome), {@code kad.rpc.received} (counter, by type and outcome) and {@code kad.operations}
 * (timer, by kind and outcome). The registry is resolved once, when every singleton of the context
 * exists: the node may report before (inbound requests reach a bound port at once), and those
 * reports are dropped rather than making the registry bean on a node's thread. With no registry, or
 * several and none primary, nothing is recorded; a report never throws, since an exception in a
 * listener would fail the request it reports.
 */
public class KadMetrics implements NodeListener, SmartInitializingSingleton {

  private static final Logger log = LoggerFactory.getLogger(KadMetrics.class);

  private final ObjectProvider<MeterRegistry> registries;
  private volatile MeterRegistry registry;

  /**
   * Creates the listener.
   *
   * @param registry the application's meter registry, when there is one
   */
  public KadMetrics(ObjectProvider<MeterRegistry> registry) {
    this.registries = registry;
  }

  /**
   * Creates the listener of one registry.
   *
   * @param registry where the meters go
   */
  public KadMetrics(MeterRegistry registry) {
    this.registries = null;
    this.registry = registry;
  }

  @Override
  public void afterSingletonsInstantiated() {
    if (registries == null) {
      return;
    }
    try {
      registry = registries.getIfUnique();
    } catch (BeansException e) {
      log.warn("kad metrics are off: the meter registry could not be resolved: {}", e.toString());
      return;
    }
    if (registry == null && registries.stream().findAny().isPresent()) {
      log.warn("kad metrics are off: several meter registries and none is primary");
    }
  }

  @Override
  public void rpcSent(String type, String outcome, Duration elapsed) {
    record(
        r ->
            Timer.builder("kad.rpc.sent")
                .description("Requests this node sent, by type and outcome")
                .tag("type", type)
                .tag("outcome", outcome)
                .register(r)
                .record(elapsed));
  }

  @Override
  public void rpcReceived(String type, String outcome) {
    record(
        r ->
            Counter.builder("kad.rpc.received")
                .description("Requests this node answered, by type and outcome")
                .tag("type", type)
                .tag("outcome", outcome)
                .register(r)
                .increment());
  }

  @Override
  public void operationFinished(String kind, String outcome, Duration elapsed) {
    record(
        r ->
            Timer.builder("kad.operations")
                .description("Lookups and stores of this node, by kind and outcome")
                .tag("kind", kind)
                .tag("outcome", outcome)
                .register(r)
                .record(elapsed));
  }

  private void record(java.util.function.Consumer<MeterRegistry> meter) {
    MeterRegistry r = registry;
    if (r == null) {
      return;
    }
    try {
      meter.accept(r);
    } catch (RuntimeException e) {
      // A registry may refuse a meter (Prometheus: a name already used with other tag keys).
      log.debug("kad metrics: a meter was refused: {}", e.toString());
    }
  }
}
