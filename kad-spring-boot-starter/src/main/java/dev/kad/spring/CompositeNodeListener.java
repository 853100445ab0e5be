package dev.kad.spring;

import dev.kad.api.spi.NodeListener;
import java.time.Duration;
import java.util.List;

/**
 * Tells every listener of the application, in order, what the node reports: a node takes one
 * listener, and the starter's metrics are one among the application's own.
 */
final class CompositeNodeListener implements NodeListener {

  private final List<NodeListener> listeners;

  private CompositeNodeListener(List<NodeListener> listeners) {
    this.listeners = listeners;
  }

  /**
   * One listener for all of them.
   *
   * @param listeners the listeners, in the order they are told
   * @return {@link NodeListener#NONE} for none, the listener itself for one, else a composite
   */
  static NodeListener of(List<NodeListener> listeners) {
    if (listeners.isEmpty()) {
      return NodeListener.NONE;
    }
    if (listeners.size() == 1) {
      return listeners.get(0);
    }
    return new CompositeNodeListener(List.copyOf(listeners));
  }

  @Override
  public void rpcSent(String type, String outcome, Duration elapsed) {
    for (NodeListener l : listeners) {
      l.rpcSent(type, outcome, elapsed);
    }
  }

  @Override
  public void rpcReceived(String type, String outcome) {
    for (NodeListener l : listeners) {
      l.rpcReceived(type, outcome);
    }
  }

  @Override
  public void operationFinished(String kind, String outcome, Duration elapsed) {
    for (NodeListener l : listeners) {
      l.operationFinished(kind, outcome, elapsed);
    }
  }

  @Override
  public String toString() {
    return "CompositeNodeListener" + listeners;
  }
}
