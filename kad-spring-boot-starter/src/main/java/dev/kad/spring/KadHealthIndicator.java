package dev.kad.spring;

import dev.kad.api.KadNode;
import dev.kad.api.NodeStats;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Reports the node's routing-table size and last bootstrap result. A node that knows no contact
 * cannot serve lookups, so:
 *
 * <ul>
 *   <li>up when the node knows at least one contact, or is the first node of its network (no
 *       bootstrap addresses, so nobody to know yet);
 *   <li>unknown while it joins for the first time, its table still empty;
 *   <li>down when its table is empty and the last bootstrap attempt failed (it is retried), or it
 *       had joined and has since lost every contact: the node is cut off from its network.
 * </ul>
 */
public class KadHealthIndicator implements HealthIndicator {

  private final KadNode node;
  private final KadNodeLifecycle lifecycle;

  /**
   * Creates the indicator.
   *
   * @param node the node
   * @param lifecycle its lifecycle, which knows the bootstrap outcome
   */
  public KadHealthIndicator(KadNode node, KadNodeLifecycle lifecycle) {
    this.node = node;
    this.lifecycle = lifecycle;
  }

  @Override
  public Health health() {
    NodeStats stats = node.stats();
    BootstrapStatus bootstrap = lifecycle.status();
    Health.Builder builder;
    if (stats.contacts() > 0 || bootstrap.state() == BootstrapStatus.State.NOT_CONFIGURED) {
      builder = Health.up();
    } else if (bootstrap.state() == BootstrapStatus.State.RUNNING) {
      builder = Health.unknown();
    } else {
      builder = Health.down();
    }
    builder
        .withDetail("id", node.id().toHex())
        .withDetail("address", node.contact().address().toString())
        .withDetail("contacts", stats.contacts())
        .withDetail("buckets", stats.buckets())
        .withDetail("storedValues", stats.storedValues())
        .withDetail("bootstrap", bootstrap.state().name())
        .withDetail("bootstrapAt", bootstrap.at().toString());
    bootstrap.error().ifPresent(e -> builder.withDetail("bootstrapError", e));
    return builder.build();
  }
}
