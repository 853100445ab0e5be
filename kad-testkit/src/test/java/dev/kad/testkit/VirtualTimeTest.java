package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class VirtualTimeTest {

  private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();

  @AfterEach
  void dispose() {
    vts.dispose();
  }

  @Test
  void returnsTheValueAfterAdvancingVirtualTimeStepByStep() {
    Mono<String> later = Mono.delay(Duration.ofMillis(25), vts).thenReturn("done");

    assertThat(VirtualTime.await(vts, later, Duration.ofMillis(10), Duration.ofSeconds(1)))
        .isEqualTo("done");
    assertThat(vts.now(TimeUnit.MILLISECONDS)).isEqualTo(30);
  }

  @Test
  void aClockStepVerifierDisposedIsNamedInsteadOfDrivingNothing() {
    StepVerifier.withVirtualTime(() -> Mono.delay(Duration.ofSeconds(1), vts), () -> vts, 1)
        .thenAwait(Duration.ofSeconds(1))
        .expectNext(0L)
        .verifyComplete();

    // A Mono that needs the clock fails; one done at subscription (a close) still completes.
    assertThat(VirtualTime.await(vts, Mono.just("now"))).isEqualTo("now");
    assertThatThrownBy(() -> VirtualTime.await(vts, Mono.delay(Duration.ofSeconds(1), vts)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is disposed")
        .hasMessageContaining("StepVerifier.withVirtualTime disposes the scheduler");
  }

  @Test
  void aStepThatIsNotPositiveIsRejectedInsteadOfSpinning() {
    // Before, a zero step meant limit / 1 ns rounds of advancing by nothing: 3.6e12 for an hour.
    assertTimeoutPreemptively(
        Duration.ofSeconds(10),
        () ->
            assertThatThrownBy(
                    () -> VirtualTime.await(vts, Mono.never(), Duration.ZERO, Duration.ofHours(1)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("step must be positive but was PT0S"));
    assertThatThrownBy(
            () ->
                VirtualTime.await(vts, Mono.never(), Duration.ofMillis(10), Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("limit must not be negative but was PT-1S");
  }

  @Test
  void neverSpendsMoreVirtualTimeThanTheLimit() {
    // Before, a step longer than the limit was taken whole: a 2 s operation "finished within" 1 s.
    Mono<String> late = Mono.delay(Duration.ofSeconds(2), vts).thenReturn("late");

    assertThatThrownBy(
            () -> VirtualTime.await(vts, late, Duration.ofHours(1), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("not done within PT1S")
        .hasMessageContaining("Retry.backoff(...) not given the virtual one");
    assertThat(vts.now(TimeUnit.MILLISECONDS)).isEqualTo(1000);
  }
}
