package dev.kad.api.spi;

import java.time.Duration;

/**
 * Receives what a node does, for metrics. Called on the node's threads: implementations must be
 * fast, thread-safe and must not block. Every method does nothing by default. A node built with
 * {@code KadNodes.builder().listener(...)} logs an exception a listener throws and goes on: it
 * never fails an operation or an answer.
 */
public interface NodeListener {

  /** A listener that ignores everything. */
  NodeListener NONE = new NodeListener() {};

  /**
   * A request this node sent was settled.
   *
   * @param type the request type, e.g. {@code "find_node"}
   * @param outcome {@code "ok"}, {@code "refused"}, {@code "timeout"}, {@code "unreachable"} or
   *     {@code "error"}
   * @param elapsed from sending to the outcome
   */
  default void rpcSent(String type, String outcome, Duration elapsed) {}

  /**
   * A request from another node was answered.
   *
   * @param type the request type, e.g. {@code "store"}
   * @param outcome {@code "ok"} or {@code "refused"}
   */
  default void rpcReceived(String type, String outcome) {}

  /**
   * An operation of the node finished. {@code "find_node"} counts every node lookup: those of the
   * application's {@code findNode} calls, and those a put, a bootstrap (one per bucket it
   * refreshes), a bucket refresh and a watch run on their own; a {@code "put"} or {@code
   * "bootstrap"} is reported once more as itself.
   *
   * @param kind {@code "find_node"}, {@code "get"}, {@code "put"} or {@code "bootstrap"}
   * @param outcome {@code "ok"}, {@code "error"} or {@code "cancelled"}
   * @param elapsed from subscription to the end
   */
  default void operationFinished(String kind, String outcome, Duration elapsed) {}
}
