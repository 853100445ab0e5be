package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

class SchedulerClockTest {

  /**
   * Reactor's {@code Scheduler.now(NANOSECONDS)} is {@code System.nanoTime()} on a real scheduler,
   * counted from no epoch (the machine's boot, say): a node on {@code Schedulers.parallel()} (an
   * in-memory network on it, as the README's Spring test recipe builds) dated its values 1970.
   */
  @Test
  void onARealSchedulerItIsTheWallClock() {
    for (var scheduler :
        new reactor.core.scheduler.Scheduler[] {
          Schedulers.parallel(), Schedulers.single(), Schedulers.immediate()
        }) {
      Instant read = SchedulerClock.of(scheduler).instant();
      assertThat(Duration.between(Instant.now(), read).abs())
          .as("%s", scheduler)
          .isLessThan(Duration.ofMinutes(1));
    }
  }

  @Test
  void onAVirtualTimeSchedulerItIsVirtualTimeFromTheEpochToTheNanosecond() {
    VirtualTimeScheduler time = VirtualTimeScheduler.create();
    Clock clock = SchedulerClock.of(time);
    assertThat(clock.instant()).isEqualTo(Instant.EPOCH);
    time.advanceTimeBy(Duration.ofHours(3).plusNanos(7));
    assertThat(clock.instant()).isEqualTo(Instant.EPOCH.plus(Duration.ofHours(3).plusNanos(7)));
  }
}
