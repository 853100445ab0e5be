package dev.kad.api;

/** The maintenance jobs of a node, each switched on or off by {@link KadConfig#jobs()}. */
public enum MaintenanceJob {
  /** A lookup in every bucket not looked up within {@code refreshInterval}. */
  REFRESH,
  /** A ping of each bucket's least-recently-seen contact when it has been quiet. */
  LIVENESS,
  /** Dropping expired values and subscriptions every {@code expiryInterval}. */
  EXPIRY,
  /** Re-storing held values at the k closest nodes every {@code replicateInterval}. */
  REPLICATE,
  /** Re-putting this node's own values before they expire. */
  REPUBLISH
}
