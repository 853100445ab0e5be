package dev.kad.reactor;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;

/**
 * A clock that reads a scheduler's time, so a node on a {@code VirtualTimeScheduler} sees virtual
 * time in its expiries and grace periods too: the clock {@link KadNodes.Builder} gives a node when
 * a scheduler but no clock was set. Tests that read the node's time (health, metrics) use the same.
 */
public final class SchedulerClock extends Clock {

  private final Scheduler scheduler;

  private SchedulerClock(Scheduler scheduler) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
  }

  /**
   * A clock reading {@code scheduler}'s time, in UTC from the epoch.
   *
   * @param scheduler the scheduler whose {@code now} is the time
   * @return the clock
   */
  public static Clock of(Scheduler scheduler) {
    return new SchedulerClock(scheduler);
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }

  @Override
  public Instant instant() {
    long nanos = scheduler.now(TimeUnit.NANOSECONDS);
    long millis = scheduler.now(TimeUnit.MILLISECONDS);
    // Reactor's default now(NANOSECONDS) is System.nanoTime(), which counts from no epoch (the
    // machine's boot, say): only its milliseconds are the wall clock. A scheduler whose
    // nanoseconds agree with its milliseconds (VirtualTimeScheduler) counts both from the epoch.
    if (Math.abs(TimeUnit.NANOSECONDS.toMillis(nanos) - millis) < 1000) {
      return Instant.ofEpochSecond(0, nanos);
    }
    return Instant.ofEpochMilli(millis);
  }
}
