package dev.kad.testkit;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Runs a {@code Mono} to completion on a {@link VirtualTimeScheduler} by advancing virtual time in
 * small steps: how simulations set up clusters and drive operations without any real-time wait.
 */
public final class VirtualTime {

  private VirtualTime() {}

  /**
   * Subscribes to {@code mono} and advances {@code scheduler} by {@code step} until it terminates.
   *
   * @param <T> the value type
   * @param scheduler the virtual clock every node of the simulation uses
   * @param mono the operation
   * @param step how far to advance per round, positive (the last round is cut short at {@code
   *     limit})
   * @param limit the most virtual time to spend, not negative
   * @return the value, or null when the {@code Mono} completed empty
   * @throws IllegalArgumentException when {@code step} is not positive or {@code limit} is negative
   * @throws IllegalStateException when {@code limit} passes first, or {@code scheduler} is disposed
   *     (as {@code StepVerifier.withVirtualTime} leaves the scheduler it is given) and the {@code
   *     Mono} did not terminate at subscription
   * @throws RuntimeException the {@code Mono}'s error, unwrapped
   */
  public static <T> T await(
      VirtualTimeScheduler scheduler, Mono<T> mono, Duration step, Duration limit) {
    Objects.requireNonNull(scheduler, "scheduler");
    Objects.requireNonNull(mono, "mono");
    Objects.requireNonNull(step, "step");
    Objects.requireNonNull(limit, "limit");
    if (step.isNegative() || step.isZero()) {
      throw new IllegalArgumentException("step must be positive but was " + step);
    }
    if (limit.isNegative()) {
      throw new IllegalArgumentException("limit must not be negative but was " + limit);
    }
    CompletableFuture<T> future = mono.toFuture();
    if (scheduler.isDisposed() && (!future.isDone() || future.isCompletedExceptionally())) {
      // Only what needs the clock fails (Reactor's own "Scheduler unavailable" kept as the
      // cause): a close that completes at once still runs.
      Throwable cause = future.isDone() ? future.handle((value, error) -> error).join() : null;
      future.cancel(true);
      throw new IllegalStateException(disposed(scheduler), cause);
    }
    Duration spent = Duration.ZERO;
    while (!future.isDone() && spent.compareTo(limit) < 0) {
      Duration left = limit.minus(spent);
      Duration advance = step.compareTo(left) < 0 ? step : left;
      scheduler.advanceTimeBy(advance);
      spent = spent.plus(advance);
    }
    return resultOf(future, limit);
  }

  /**
   * Why a disposed virtual clock cannot drive anything, and the usual way it got disposed.
   *
   * @param scheduler the disposed clock
   * @return the message
   */
  static String disposed(Scheduler scheduler) {
    return "the virtual clock "
        + scheduler
        + " is disposed, so nothing scheduled on it runs: StepVerifier.withVirtualTime disposes"
        + " the scheduler it is given when verify() ends; make it the test's last step, or drive"
        + " the step with VirtualTime.await instead";
  }

  /**
   * The outcome of an operation that virtual time has been driven for: its value, or its error
   * unwrapped. For simulations with their own virtual clock.
   *
   * @param <T> the value type
   * @param future the operation, subscribed with {@code Mono.toFuture()}
   * @param limit the virtual time that was spent, for the message
   * @return the value, or null when the operation completed empty
   * @throws IllegalStateException when the operation is not done (it is cancelled)
   * @throws RuntimeException the operation's error, unwrapped
   */
  public static <T> T resultOf(CompletableFuture<T> future, Duration limit) {
    if (!future.isDone()) {
      future.cancel(true);
      throw new IllegalStateException(
          "not done within "
              + limit
              + " of virtual time (an operator that waits on another scheduler, such as"
              + " timeout(d) or Retry.backoff(...) not given the virtual one, is never advanced)");
    }
    try {
      return future.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * As {@link #await(VirtualTimeScheduler, Mono, Duration, Duration)} with 10 ms steps and at most
   * one virtual hour.
   *
   * @param <T> the value type
   * @param scheduler the virtual clock
   * @param mono the operation
   * @return the value, or null when empty
   */
  public static <T> T await(VirtualTimeScheduler scheduler, Mono<T> mono) {
    return await(scheduler, mono, Duration.ofMillis(10), Duration.ofHours(1));
  }
}
