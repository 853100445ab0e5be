package dev.kad.reactor;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.TimeUnit;
import reactor.core.scheduler.Scheduler;

/**
 * A clock that reads a scheduler's time, so a node on a {@code VirtualTimeScheduler} sees virtual
 * time in its expiries and grace periods too.
 */
final class SchedulerClock extends Clock {

  private final Scheduler scheduler;

  SchedulerClock(Scheduler scheduler) {
    this.scheduler = scheduler;
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
    return Instant.ofEpochSecond(0, nanos);
  }
}
