package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.KadNode;
import dev.kad.api.NodeClosedException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * Bootstraps the node in the background when the context starts, so joining never delays
 * application start-up, and closes it when the context closes, after every lifecycle has stopped. A
 * failed bootstrap is tried again after {@link #FIRST_RETRY_DELAY}, the delay doubling up to {@link
 * #MAX_RETRY_DELAY} (with jitter), until the node joins, the context stops or the node closes;
 * {@link #status()} is the last attempt's outcome meanwhile.
 *
 * <p>Stopping the context ({@code stop()}, or {@code pause()}, which Spring's test framework does
 * to a cached context it is not using) only pauses: the bootstrap retries end, but the node stays
 * open, keeps its routing table and store, and goes on answering its peers, since the node bean
 * cannot be replaced under the beans it was injected into and a closed node cannot open again.
 * Starting the context again resumes joining when the node has not joined or has since lost every
 * contact. The node closes only when the context closes: {@link #close()} is this bean's destroy
 * method.
 */
public class KadNodeLifecycle implements SmartLifecycle {

  /**
   * The phase: below Spring Boot's web server lifecycles (graceful shutdown at {@code DEFAULT_PHASE
   * - 1024}, start and stop at {@code DEFAULT_PHASE - 2048}). Lower phases start first and stop
   * last: the node starts joining before requests arrive, and goes on joining until the web server
   * has finished the requests in flight (the node itself closes later still, with the context).
   */
  public static final int PHASE = SmartLifecycle.DEFAULT_PHASE - 4096;

  /** The delay before the first retry of a failed bootstrap. */
  public static final Duration FIRST_RETRY_DELAY = Duration.ofSeconds(1);

  /** The longest delay between two bootstrap attempts. */
  public static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(1);

  private static final Logger log = LoggerFactory.getLogger(KadNodeLifecycle.class);

  private final KadNode node;
  private final List<Address> seeds;
  private final Clock clock;
  private final Scheduler scheduler;
  private final AtomicReference<BootstrapStatus> status;
  private volatile Disposable bootstrap;
  private volatile boolean running;

  /**
   * Creates the lifecycle of one node.
   *
   * @param node the node
   * @param seeds the bootstrap addresses, possibly none
   * @param clock the clock for the status timestamps
   * @param scheduler where the delays between bootstrap attempts run: the node's scheduler
   */
  public KadNodeLifecycle(KadNode node, List<Address> seeds, Clock clock, Scheduler scheduler) {
    this.node = node;
    this.seeds = List.copyOf(seeds);
    this.clock = clock;
    this.scheduler = scheduler;
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

  /**
   * Starts joining in the background, unless there is no bootstrap address or the node has joined
   * and still knows a contact. Starting again after {@link #stop()} resumes joining.
   */
  @Override
  public void start() {
    if (running) {
      return;
    }
    running = true;
    if (seeds.isEmpty() || joined()) {
      return;
    }
    status.set(
        new BootstrapStatus(BootstrapStatus.State.RUNNING, clock.instant(), Optional.empty()));
    bootstrap =
        node.bootstrap(seeds)
            .doOnError(e -> !(e instanceof NodeClosedException), this::failed)
            .retryWhen(
                Retry.backoff(Long.MAX_VALUE, FIRST_RETRY_DELAY)
                    .maxBackoff(MAX_RETRY_DELAY)
                    .filter(e -> !(e instanceof NodeClosedException))
                    .scheduler(scheduler))
            .subscribe(
                null,
                e ->
                    log.debug(
                        "kad node {} stopped bootstrapping: {}",
                        node.id().toShortHex(),
                        e.toString()),
                () ->
                    status.set(
                        new BootstrapStatus(
                            BootstrapStatus.State.DONE, clock.instant(), Optional.empty())));
  }

  private boolean joined() {
    return status.get().state() == BootstrapStatus.State.DONE && node.stats().contacts() > 0;
  }

  /** Records a failed attempt; warns on the first of a run of failures only. */
  private void failed(Throwable e) {
    BootstrapStatus previous =
        status.getAndSet(
            new BootstrapStatus(
                BootstrapStatus.State.FAILED,
                clock.instant(),
                Optional.of(String.valueOf(e.getMessage()))));
    if (previous.state() == BootstrapStatus.State.FAILED) {
      log.debug(
          "kad node {} could not bootstrap from {} again: {}",
          node.id().toShortHex(),
          seeds,
          e.getMessage());
    } else {
      log.warn(
          "kad node {} could not bootstrap from {}: {}; retrying, at least every {}",
          node.id().toShortHex(),
          seeds,
          e.getMessage(),
          MAX_RETRY_DELAY);
    }
  }

  /**
   * Pauses: ends the bootstrap attempts, if any, and leaves the node open. The attempt in flight is
   * cancelled; {@link #status()} keeps the last outcome.
   */
  @Override
  public void stop() {
    running = false;
    Disposable b = bootstrap;
    if (b != null) {
      b.dispose();
    }
  }

  /**
   * Ends the bootstrap attempts and closes the node. As the bean's destroy method, it runs when the
   * context closes, once every lifecycle has stopped, so the web server has finished the requests
   * in flight while the node was still open; Spring waits for the {@code Mono}. Closing twice is
   * harmless; a failure to close is logged, not signalled.
   *
   * @return completes when the node is closed
   */
  public Mono<Void> close() {
    return Mono.defer(
        () -> {
          stop();
          return node.close()
              .doOnError(
                  e ->
                      log.warn(
                          "kad node {} did not close cleanly: {}",
                          node.id().toShortHex(),
                          e.toString()))
              .onErrorComplete();
        });
  }

  @Override
  public boolean isRunning() {
    return running;
  }

  @Override
  public int getPhase() {
    return PHASE;
  }
}
