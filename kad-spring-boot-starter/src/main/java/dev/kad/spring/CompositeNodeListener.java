package dev.kad.spring;

import dev.kad.api.spi.NodeListener;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Tells every listener of the application, in order, what the node reports: a node takes one
 * listener, and the starter's metrics are one among the application's own. A listener that throws
 * is logged (a WARN the first time, DEBUG after) and skipped, and the next ones are still told: the
 * engine calls its listener inside the operators of the request it reports, so one exception would
 * otherwise fail that request, every ping and lookup of the node with it.
 */
final class CompositeNodeListener implements NodeListener {

  private static final Logger log = LoggerFactory.getLogger(CompositeNodeListener.class);

  private final List<Guarded> listeners;

  private CompositeNodeListener(List<NodeListener> listeners) {
    this.listeners = listeners.stream().map(Guarded::new).toList();
  }

  /**
   * One listener for all of them.
   *
   * @param listeners the listeners, in the order they are told
   * @return {@link NodeListener#NONE} for none, else a composite that never throws
   */
  static NodeListener of(List<NodeListener> listeners) {
    if (listeners.isEmpty()) {
      return NodeListener.NONE;
    }
    return new CompositeNodeListener(List.copyOf(listeners));
  }

  @Override
  public void rpcSent(String type, String outcome, Duration elapsed) {
    for (Guarded g : listeners) {
      try {
        g.listener.rpcSent(type, outcome, elapsed);
      } catch (RuntimeException e) {
        g.failed(e);
      }
    }
  }

  @Override
  public void rpcReceived(String type, String outcome) {
    for (Guarded g : listeners) {
      try {
        g.listener.rpcReceived(type, outcome);
      } catch (RuntimeException e) {
        g.failed(e);
      }
    }
  }

  @Override
  public void operationFinished(String kind, String outcome, Duration elapsed) {
    for (Guarded g : listeners) {
      try {
        g.listener.operationFinished(kind, outcome, elapsed);
      } catch (RuntimeException e) {
        g.failed(e);
      }
    }
  }

  @Override
  public String toString() {
    return "CompositeNodeListener" + listeners.stream().map(g -> g.listener).toList();
  }

  /** A listener, and whether it has thrown yet. */
  private static final class Guarded {
    final NodeListener listener;
    private final AtomicBoolean warned = new AtomicBoolean();

    Guarded(NodeListener listener) {
      this.listener = listener;
    }

    void failed(RuntimeException e) {
      if (warned.compareAndSet(false, true)) {
        log.warn(
            "kad node listener {} threw; ignored, now and from now on (DEBUG): {}",
            listener,
            e.toString());
      } else {
        log.debug("kad node listener {} threw again: {}", listener, e.toString());
      }
    }
  }
}
