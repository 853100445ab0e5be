package dev.kad.reactor;

import dev.kad.api.spi.NodeListener;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An application's {@link NodeListener} with its exceptions kept out of the node: the listener is
 * called inside the node's operators, where an exception would fail a put that succeeded, answer a
 * peer with {@code Failure(INTERNAL)} and count an answered request as failed. The first exception
 * is logged at WARN with its stack trace, later ones at DEBUG.
 */
final class GuardedListener implements NodeListener {

  private static final Logger log = LoggerFactory.getLogger(GuardedListener.class);

  private final NodeListener listener;
  private final AtomicBoolean warned = new AtomicBoolean();

  private GuardedListener(NodeListener listener) {
    this.listener = listener;
  }

  /** {@code listener} guarded; {@link NodeListener#NONE} as it is, so the node can skip it. */
  static NodeListener of(NodeListener listener) {
    return listener == NodeListener.NONE || listener instanceof GuardedListener
        ? listener
        : new GuardedListener(listener);
  }

  @Override
  public void rpcSent(String type, String outcome, Duration elapsed) {
    try {
      listener.rpcSent(type, outcome, elapsed);
    } catch (RuntimeException e) {
      failed("rpcSent", e);
    }
  }

  @Override
  public void rpcReceived(String type, String outcome) {
    try {
      listener.rpcReceived(type, outcome);
    } catch (RuntimeException e) {
      failed("rpcReceived", e);
    }
  }

  @Override
  public void operationFinished(String kind, String outcome, Duration elapsed) {
    try {
      listener.operationFinished(kind, outcome, elapsed);
    } catch (RuntimeException e) {
      failed("operationFinished", e);
    }
  }

  private void failed(String method, RuntimeException e) {
    if (warned.compareAndSet(false, true)) {
      log.warn(
          "node listener {} threw from {}; the node goes on, and later failures are logged at"
              + " DEBUG",
          listener.getClass().getName(),
          method,
          e);
    } else {
      log.debug("node listener {} threw from {}", listener.getClass().getName(), method, e);
    }
  }
}
