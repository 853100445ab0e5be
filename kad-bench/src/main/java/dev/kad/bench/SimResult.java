package dev.kad.bench;

import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The figures of one {@code sim} run, as printed on its JSON line.
 *
 * @param settings what was run
 * @param findNodeAccuracy mean fraction of the true k closest live nodes a lookup returned
 * @param findNodeHopsP50 median hop count of the closest contact returned; empty when no lookup
 *     returned a contact
 * @param findNodeHopsP99 99th percentile of that hop count; empty as the median
 * @param findNodeRpcsMean mean requests per lookup
 * @param findNodeMsP50 median simulated lookup time
 * @param findNodeMsP99 99th percentile of the simulated lookup time
 * @param getSuccess fraction of gets that returned the value put
 * @param getRpcsMean mean requests sent by the network per get
 * @param getMsP50 median simulated time of a get
 * @param putAcksMean mean number of nodes that accepted a put
 * @param heapBytesPerNode used heap of the built network divided by the node count
 * @param wallSeconds real time of the whole run
 * @param churn the churn phase's figures, when there was one; the lookup and get figures are then
 *     measured after it
 */
record SimResult(
    Simulation.Settings settings,
    double findNodeAccuracy,
    OptionalDouble findNodeHopsP50,
    OptionalDouble findNodeHopsP99,
    double findNodeRpcsMean,
    double findNodeMsP50,
    double findNodeMsP99,
    double getSuccess,
    double getRpcsMean,
    double getMsP50,
    double putAcksMean,
    long heapBytesPerNode,
    double wallSeconds,
    Optional<ChurnFigures> churn) {

  /**
   * What survived the churn.
   *
   * @param valuesRetrievable fraction of the values put before the churn that a get from a random
   *     live node found after it
   * @param maintenanceRpcsPerNodeHour requests per live node and hour during the churn, the
   *     replacements' own bootstrap requests left out
   * @param replaced nodes killed and replaced
   * @param joinFailures replacements whose bootstrap failed
   */
  record ChurnFigures(
      double valuesRetrievable,
      double maintenanceRpcsPerNodeHour,
      int replaced,
      int joinFailures) {}

  /** The JSON line: every field, in a fixed order. */
  String toJson() {
    Simulation.Settings s = settings;
    JsonLine json =
        new JsonLine()
            .field("scenario", "sim")
            .field("nodes", s.nodes())
            .field("lookups", s.lookups())
            .field("seed", s.seed())
            .field("k", s.k())
            .field("alpha", s.alpha())
            .field("loss", s.loss(), 6)
            .field("dead", s.dead(), 6)
            .field("bootstrap", s.join().label())
            .field("find_node_accuracy", findNodeAccuracy, 4)
            .field("find_node_hops_p50", findNodeHopsP50, 1)
            .field("find_node_hops_p99", findNodeHopsP99, 1)
            .field("find_node_rpcs_mean", findNodeRpcsMean, 2)
            .field("find_node_ms_p50", findNodeMsP50, 1)
            .field("find_node_ms_p99", findNodeMsP99, 1)
            .field("get_success", getSuccess, 4)
            .field("get_rpcs_mean", getRpcsMean, 2)
            .field("get_ms_p50", getMsP50, 1)
            .field("put_acks_mean", putAcksMean, 2)
            .field("heap_bytes_per_node", heapBytesPerNode)
            .field("wall_s", wallSeconds, 2)
            .field("gc", Collector.name());
    churn.ifPresent(
        c ->
            json.field("churn_per_hour", s.churnPerHour(), 6)
                .field("hours", s.hours())
                .field("values", s.values())
                .field("values_retrievable", c.valuesRetrievable(), 4)
                .field("maintenance_rpcs_per_node_hour", c.maintenanceRpcsPerNodeHour(), 1)
                .field("nodes_replaced", c.replaced())
                .field("join_failures", c.joinFailures()));
    return json.toString();
  }
}
