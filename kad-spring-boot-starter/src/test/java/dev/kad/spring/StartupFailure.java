package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import org.assertj.core.api.AbstractThrowableAssert;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;

/** What the starter's tests check of a context that failed to start: the reason at its root. */
final class StartupFailure {

  private StartupFailure() {}

  /**
   * Asserts that {@code context} failed to start and gives the root cause of the failure, whose
   * message names the offending property.
   */
  static AbstractThrowableAssert<?, ? extends Throwable> rootCause(
      AssertableApplicationContext context) {
    return assertThat(context).hasFailed().getFailure().rootCause();
  }
}
