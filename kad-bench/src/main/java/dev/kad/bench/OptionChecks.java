package dev.kad.bench;

import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * Checks of a command's option values after parsing. A failed check is a usage error, which {@link
 * Bench} prints as one line before exiting with 2; the message names the option, the allowed values
 * and the value given: {@code --k must be in [1, 256] but was 0}.
 */
final class OptionChecks {

  private final CommandSpec spec;

  OptionChecks(CommandSpec spec) {
    this.spec = spec;
  }

  /** Fails with {@code message} unless {@code condition} holds. */
  OptionChecks that(boolean condition, String message) {
    if (!condition) {
      throw new ParameterException(spec.commandLine(), message);
    }
    return this;
  }

  /** Fails unless {@code value >= min}. */
  OptionChecks atLeast(String option, long value, long min) {
    return that(value >= min, option + " must be at least " + min + " but was " + value);
  }

  /** Fails unless {@code min <= value <= max}. */
  OptionChecks inRange(String option, long value, long min, long max) {
    return that(
        value >= min && value <= max,
        option + " must be in [" + min + ", " + max + "] but was " + value);
  }

  /** Fails unless {@code value} is a fraction in [0, 1). */
  OptionChecks fraction(String option, double value) {
    return that(value >= 0.0 && value < 1.0, option + " must be in [0, 1) but was " + value);
  }
}
