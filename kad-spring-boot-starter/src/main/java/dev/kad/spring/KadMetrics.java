package dev.kad.spring;

import dev.kad.api.spi.NodeListener;
import dev.kad.reactor.metrics.NodeMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.BeansException;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;

/**
 * Turns what the node reports into Micrometer meters, as {@link NodeMetrics} does ({@code
 * kad.rpc.sent}, {@code kad.rpc.received}, {@code kad.operations}), for a registry that is a bean
 * of the application context. The registry is resolved once, when every singleton of the context
 * exists: the node may report before (inbound requests reach a bound port at once), and those
 * reports are dropped rather than making the registry bean on a node's thread. With no registry, or
 * several and none primary, nothing is recorded; a report never throws, since an exception in a
 * listener would fail the request it reports.
 */
public class KadMetrics implements NodeListener, SmartInitializingSingleton {

  private static final Logger log = LoggerFactory.getLogger(KadMetrics.class);

  private final ObjectProvider<MeterRegistry> registries;
  private final Tags tags;
  private volatile NodeMetrics metrics;

  /**
   * Creates the listener.
   *
   * @param registry the application's meter registry, when there is one
   */
  public KadMetrics(ObjectProvider<MeterRegistry> registry) {
    this(registry, Tags.empty());
  }

  /**
   * Creates the listener whose meters carry {@code tags}.
   *
   * @param registry the application's meter registry, when there is one
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   */
  public KadMetrics(ObjectProvider<MeterRegistry> registry, Iterable<Tag> tags) {
    this.registries = Objects.requireNonNull(registry, "registry");
    this.tags = NodeMetrics.checkedTags(tags);
  }

  /**
   * Creates the listener of one registry.
   *
   * @param registry where the meters go
   */
  public KadMetrics(MeterRegistry registry) {
    this(registry, Tags.empty());
  }

  /**
   * Creates the listener of one registry whose meters carry {@code tags}.
   *
   * @param registry where the meters go
   * @param tags added to every meter, e.g. {@code node=a} when several nodes report to one registry
   */
  public KadMetrics(MeterRegistry registry, Iterable<Tag> tags) {
    this.registries = null;
    this.tags = NodeMetrics.checkedTags(tags);
    this.metrics = new NodeMetrics(Objects.requireNonNull(registry, "registry"), this.tags);
  }

  @Override
  public void afterSingletonsInstantiated() {
    if (registries == null) {
      return;
    }
    MeterRegistry r;
    try {
      r = registries.getIfUnique();
    } catch (BeansException e) {
      log.warn("kad metrics are off: the meter registry could not be resolved: {}", e.toString());
      return;
    }
    if (r != null) {
      metrics = new NodeMetrics(r, tags);
    } else if (registries.stream().findAny().isPresent()) {
      log.warn("kad metrics are off: several meter registries and none is primary");
    }
  }

  @Override
  public void rpcSent(String type, String outcome, Duration elapsed) {
    NodeMetrics m = metrics;
    if (m != null) {
      m.rpcSent(type, outcome, elapsed);
    }
  }

  @Override
  public void rpcReceived(String type, String outcome) {
    NodeMetrics m = metrics;
    if (m != null) {
      m.rpcReceived(type, outcome);
    }
  }

  @Override
  public void operationFinished(String kind, String outcome, Duration elapsed) {
    NodeMetrics m = metrics;
    if (m != null) {
      m.operationFinished(kind, outcome, elapsed);
    }
  }
}
