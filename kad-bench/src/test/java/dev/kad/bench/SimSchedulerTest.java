package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

class SimSchedulerTest {

  private record Scheduled(int id, long time, Disposable handle) {}

  @Test
  void runsTasksByDueTimeThenSchedulingOrderAndSkipsCancelledOnes() {
    long seed = 42;
    SplittableRandom random = new SplittableRandom(seed);
    SimScheduler scheduler = new SimScheduler();
    List<Integer> ran = new ArrayList<>();
    List<Scheduled> scheduled = new ArrayList<>();
    for (int i = 0; i < 5_000; i++) {
      int id = i;
      // Few distinct times, so ties on the due time are common; none due at once (those run
      // as they are scheduled).
      long delay = 1 + random.nextInt(50);
      Disposable handle = scheduler.schedule(() -> ran.add(id), delay, TimeUnit.NANOSECONDS);
      scheduled.add(new Scheduled(id, delay, handle));
    }
    List<Integer> expected = new ArrayList<>();
    for (Scheduled s : scheduled) {
      if (random.nextInt(3) == 0) {
        s.handle().dispose();
      }
    }
    scheduled.stream()
        .filter(s -> !s.handle().isDisposed())
        .sorted(Comparator.comparingLong(Scheduled::time).thenComparingInt(Scheduled::id))
        .forEach(s -> expected.add(s.id()));

    scheduler.advanceBy(Duration.ofNanos(100));

    assertThat(ran).as("seed %d", seed).isEqualTo(expected);
    assertThat(scheduler.queued()).isZero();
  }

  @Test
  void aTaskCancelledByAnEarlierTaskDoesNotRun() {
    SimScheduler scheduler = new SimScheduler();
    List<String> ran = new ArrayList<>();
    Disposable later = scheduler.schedule(() -> ran.add("later"), 2, TimeUnit.SECONDS);
    scheduler.schedule(
        () -> {
          ran.add("first");
          later.dispose();
        },
        1,
        TimeUnit.SECONDS);

    scheduler.advanceBy(Duration.ofSeconds(3));

    assertThat(ran).containsExactly("first");
    assertThat(scheduler.queued()).isZero();
  }

  @Test
  void tasksScheduledByARunningTaskRunInOrderWithTheRest() {
    SimScheduler scheduler = new SimScheduler();
    List<String> ran = new ArrayList<>();
    scheduler.schedule(
        () -> {
          ran.add("a@1");
          scheduler.schedule(() -> ran.add("c@2"), 1, TimeUnit.SECONDS);
          scheduler.schedule(() -> ran.add("b@1"), 0, TimeUnit.SECONDS);
        },
        1,
        TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("d@3"), 3, TimeUnit.SECONDS);

    scheduler.advanceBy(Duration.ofSeconds(2));
    assertThat(ran).containsExactly("a@1", "b@1", "c@2");
    assertThat(scheduler.now(TimeUnit.SECONDS)).isEqualTo(2);

    scheduler.advanceBy(Duration.ofSeconds(1));
    assertThat(ran).containsExactly("a@1", "b@1", "c@2", "d@3");
  }

  @Test
  void periodicTasksRepeatUntilDisposed() {
    SimScheduler scheduler = new SimScheduler();
    List<Long> at = new ArrayList<>();
    Disposable periodic =
        scheduler.schedulePeriodically(
            () -> at.add(scheduler.now(TimeUnit.SECONDS)), 1, 2, TimeUnit.SECONDS);

    scheduler.advanceBy(Duration.ofSeconds(6));
    periodic.dispose();
    scheduler.advanceBy(Duration.ofSeconds(6));

    assertThat(at).containsExactly(1L, 3L, 5L);
    assertThat(scheduler.queued()).isZero();
  }

  @Test
  void aDisposedWorkersTasksDoNotRun() {
    SimScheduler scheduler = new SimScheduler();
    Scheduler.Worker worker = scheduler.createWorker();
    List<String> ran = new ArrayList<>();
    worker.schedule(() -> ran.add("worker"), 1, TimeUnit.SECONDS);
    scheduler.schedule(() -> ran.add("scheduler"), 1, TimeUnit.SECONDS);

    worker.dispose();
    scheduler.advanceBy(Duration.ofSeconds(2));

    assertThat(ran).containsExactly("scheduler");
  }

  @Test
  void aCancelledIntervalLeavesTheQueue() {
    SimScheduler scheduler = new SimScheduler();
    List<Long> ticks = new ArrayList<>();
    // Flux.interval schedules through a worker and cancels by disposing the worker.
    Disposable interval = Flux.interval(Duration.ofSeconds(1), scheduler).subscribe(ticks::add);
    scheduler.advanceBy(Duration.ofMillis(3_500));

    interval.dispose();
    long ranBefore = scheduler.tasksRun();
    scheduler.advanceBy(Duration.ofHours(1));

    assertThat(ticks).containsExactly(0L, 1L, 2L);
    assertThat(scheduler.queued()).as("tasks left in the queue").isZero();
    assertThat(scheduler.tasksRun()).as("tasks run after the cancel").isEqualTo(ranBefore);
  }
}
