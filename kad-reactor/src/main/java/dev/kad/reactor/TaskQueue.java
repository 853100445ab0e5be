package dev.kad.reactor;

import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.FluxSink;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Fire-and-forget work of a node, run a few at a time: at most {@code maxQueued} wait or run, and a
 * task submitted beyond that is refused, so a flood of requests from the network cannot grow memory
 * or starve other queues. A failed task is logged at DEBUG and forgotten.
 *
 * <p>Tasks start on the node's scheduler, never on the thread that submits them: that is usually a
 * transport's event loop answering a request, and a hand-over may read the whole store.
 */
final class TaskQueue {

  private static final Logger log = LoggerFactory.getLogger(TaskQueue.class);

  private final String name;
  private final int maxQueued;
  private final int concurrency;
  private final Scheduler scheduler;
  private final AtomicInteger queued = new AtomicInteger();
  private volatile FluxSink<Mono<Void>> sink;

  /**
   * Creates a queue that runs nothing until {@link #start()}.
   *
   * @param name for log lines, e.g. the node's short id and what the queue holds
   * @param maxQueued the most tasks waiting or running
   * @param concurrency the most tasks running at once
   * @param scheduler where tasks start
   */
  TaskQueue(String name, int maxQueued, int concurrency, Scheduler scheduler) {
    this.name = name;
    this.maxQueued = maxQueued;
    this.concurrency = concurrency;
    this.scheduler = scheduler;
  }

  /**
   * Starts running tasks.
   *
   * @return disposing it stops the queue: waiting tasks are dropped, running ones cancelled
   */
  Disposable start() {
    return Flux.<Mono<Void>>create(s -> sink = s)
        .flatMap(
            task ->
                task.subscribeOn(scheduler)
                    .onErrorResume(
                        e -> {
                          log.debug("{}: task failed: {}", name, e.toString());
                          return Mono.empty();
                        }),
            concurrency)
        .subscribe();
  }

  /**
   * Queues a task.
   *
   * @return false when it was not queued: the queue is not started, or full
   */
  boolean submit(Mono<Void> task) {
    FluxSink<Mono<Void>> s = sink;
    if (s == null || s.isCancelled()) {
      return false;
    }
    if (queued.incrementAndGet() > maxQueued) {
      queued.decrementAndGet();
      log.debug("{}: full, task dropped", name);
      return false;
    }
    s.next(task.doFinally(signal -> queued.decrementAndGet()));
    return true;
  }
}
