package dev.kad.examples.cli;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.BiConsumer;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.util.retry.Retry;

/**
 * The back-off of the command line's joins, {@code kad node --retry-join}'s and {@code kad watch}'s
 * rejoin: the first retry after {@link #FIRST_DELAY}, each delay double the one before up to {@link
 * #MAX_DELAY}, jittered by up to half of it within those bounds, with no limit on the number of
 * attempts. These are the delays of Reactor's {@code Retry.backoff(Long.MAX_VALUE,
 * FIRST_DELAY).maxBackoff(MAX_DELAY)}, written out because that spec does not tell when its next
 * attempt comes, and {@code kad node} logs it.
 */
final class Backoff {

  /** The delay before the first retry, before jitter. */
  static final Duration FIRST_DELAY = Duration.ofSeconds(1);

  /** The longest delay between two attempts. */
  static final Duration MAX_DELAY = Duration.ofSeconds(30);

  /** How far a delay may move either way, as a fraction of it: Reactor's default. */
  private static final double JITTER = 0.5;

  private Backoff() {}

  /**
   * The delay before a retry: {@code FIRST_DELAY * 2^retries} up to {@link #MAX_DELAY}, moved by a
   * random amount of at most half of it, never below {@link #FIRST_DELAY} nor above {@link
   * #MAX_DELAY} (1 to 1.5 s before the first retry, 15 to 30 s once at the maximum).
   *
   * @param retries the retries before this one, 0 for the first
   * @param random the source of the jitter
   */
  static Duration delay(long retries, RandomGenerator random) {
    if (retries < 0) {
      throw new IllegalArgumentException("retries must not be negative but was " + retries);
    }
    long first = FIRST_DELAY.toMillis();
    long max = MAX_DELAY.toMillis();
    long next = Math.min(max, first << Math.min(retries, 30)); // 1 s << 30 fits a long
    long offset = (long) (next * JITTER);
    long low = Math.max(first - next, -offset);
    long high = Math.min(max - next, offset);
    return Duration.ofMillis(next + (high > low ? random.nextLong(low, high + 1) : low));
  }

  /**
   * Retries the failures {@code retriable} accepts with these delays, without limit; any other
   * failure ends the retries and is signalled as it is.
   *
   * @param retriable which failures to retry
   * @param beforeDelay told of each retried failure and the delay before the next attempt, as the
   *     delay starts
   * @param scheduler where the delays run
   */
  static Retry retry(
      Predicate<? super Throwable> retriable,
      BiConsumer<? super Throwable, Duration> beforeDelay,
      Scheduler scheduler) {
    return Retry.from(
        signals ->
            signals.concatMap(
                signal -> {
                  Throwable failure = signal.failure();
                  if (!retriable.test(failure)) {
                    return Mono.error(failure);
                  }
                  Duration delay = delay(signal.totalRetries(), ThreadLocalRandom.current());
                  beforeDelay.accept(failure, delay);
                  return Mono.delay(delay, scheduler);
                }));
  }
}
