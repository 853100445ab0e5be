package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

class TaskQueueTest {

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();

  @Test
  void aTaskNeverRunsOnTheThreadThatSubmitsIt() {
    TaskQueue queue = new TaskQueue("test", 8, 2, time);
    Disposable running = queue.start();
    List<String> order = new ArrayList<>();
    // The submitter is a task of the node's scheduler, as a transport's handler is of its loop:
    // the task waits until the submitter is done instead of running inside it.
    time.schedule(
        () -> {
          assertThat(queue.submit(Mono.fromRunnable(() -> order.add("task")))).isTrue();
          order.add("submitter");
        });
    assertThat(order).containsExactly("submitter", "task");
    running.dispose();
    time.dispose();
  }

  @Test
  void aTaskBeyondTheBoundIsRefusedAndTheQueueTakesTasksAgainOnceThoseEnd() {
    TaskQueue queue = new TaskQueue("test", 2, 1, time);
    Disposable running = queue.start();
    Mono<Void> slow = Mono.delay(java.time.Duration.ofSeconds(1), time).then();
    assertThat(queue.submit(slow)).isTrue();
    assertThat(queue.submit(slow)).isTrue();
    assertThat(queue.submit(slow)).isFalse();
    time.advanceTimeBy(java.time.Duration.ofSeconds(2));
    assertThat(queue.submit(Mono.error(new IllegalStateException("broken")))).isTrue();
    assertThat(queue.submit(slow)).isTrue();
    assertThat(queue.submit(slow)).isTrue();
    running.dispose();
    assertThat(queue.submit(slow)).isFalse();
    time.dispose();
  }
}
