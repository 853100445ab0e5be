package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import dev.kad.api.NodeClosedException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Whether a simulated node was closed. */
final class Closed {

  private Closed() {}

  /**
   * Asserts that {@code node} refuses a lookup as a closed node does. The lookup of a node still
   * open would need the (disposed) virtual clock, and fail otherwise or never end.
   */
  static void assertClosed(KadNode node) throws InterruptedException {
    CompletableFuture<?> lookup = node.findNode(node.id()).toFuture();
    Throwable failure = null;
    try {
      lookup.get(5, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      failure = e.getCause();
    } catch (TimeoutException e) {
      failure = e;
    }
    assertThat(failure).as("node %s", node.id()).isInstanceOf(NodeClosedException.class);
  }
}
