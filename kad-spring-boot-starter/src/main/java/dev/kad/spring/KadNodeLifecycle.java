package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.KadNode;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;

/**
 * Bootstraps the node in the background when the context starts, so joining never delays
 * application start-up, and closes it when the context stops, without blocking.
 */
public class KadNodeLifecycle implements SmartLifecycle {

  private static final Logger log = LoggerFactory.getLogger(KadNodeLifecycle.class);

  private final KadNode node;
  private final List<Address> seeds;
  private final Clock clock;
  private final AtomicReference<BootstrapStatus> status;
  private volatile Disposable bootstrap;
  private volatile boolean running;

  /**
   * Creates the lifecycle of one node.
   *
   * @param node the node
   * @param seeds the bootstrap addresses, possibly none
   * @param clock the clock for the status timestamps
   */
  public KadNodeLifecycle(KadNode node, List<Address> seeds, Clock clock) {
    this.node = node;
    this.seeds = List.copyOf(seeds);
    this.clock = clock;
    this.status =
        new AtomicReference<>(
            new BootstrapStatus(
                seeds.isEmpty()
                    ? BootstrapStatus.State.NOT_CONFIGURED
                    : BootstrapStatus.State.RUNNING,
                clock.instant(),
                Optional.empty()));
  }

  /**
   * The last bootstrap outcome.
   *
   * @return the status
   */
  public BootstrapStatus status() {
    return status.get();
  }

  @Override
  public void start() {
    running = true;
    if (seeds.isEmpty()) {
      return;
    }
    status.set(
        new BootstrapStatus(BootstrapStatus.State.RUNNING, clock.instant(), Optional.empty()));
    bootstrap =
        node.bootstrap(seeds)
            .subscribe(
                null,
                e -> {
                  log.warn(
                      "kad node {} could not bootstrap from {}: {}",
                      node.id().toShortHex(),
                      seeds,
                      e.getMessage());
                  status.set(
                      new BootstrapStatus(
                          BootstrapStatus.State.FAILED,
                          clock.instant(),
                          Optional.of(String.valueOf(e.getMessage()))));
                },
                () ->
                    status.set(
                        new BootstrapStatus(
                            BootstrapStatus.State.DONE, clock.instant(), Optional.empty())));
  }

  @Override
  public void stop() {
    stop(() -> {});
  }

  @Override
  public void stop(Runnable callback) {
    running = false;
    Disposable b = bootstrap;
    if (b != null) {
      b.dispose();
    }
    node.close()
        .subscribe(
            null,
            e -> {
              log.warn(
                  "kad node {} did not close cleanly: {}", node.id().toShortHex(), e.toString());
              callback.run();
            },
            callback);
  }

  @Override
  public boolean isRunning() {
    return running;
  }
}
