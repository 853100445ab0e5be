package dev.kad.bench;

import picocli.CommandLine.Option;

/**
 * {@code --churn-per-hour} of {@code sim} and {@code watch}, a picocli mixin. Each command declares
 * its own {@code --hours}, since the hours mean more in {@code watch} (its puts are spread over
 * them), and passes it to {@link #check}: the rate needs hours to run in.
 */
final class ChurnOption {

  @Option(
      names = "--churn-per-hour",
      paramLabel = "<churnPerHour>",
      defaultValue = "0.0",
      description =
          "Fraction of the live nodes replaced by fresh nodes per simulated hour, in [0, 1)"
              + " (default: ${DEFAULT-VALUE}); needs --hours.")
  double perHour;

  /** Checks the rate, the command's {@code --hours}, and that a rate comes with hours. */
  void check(OptionChecks checks, int hours) {
    checks
        .fraction("--churn-per-hour", perHour)
        .inRange("--hours", hours, 0, 24 * 365)
        .that(
            perHour == 0.0 || hours > 0,
            "--churn-per-hour " + perHour + " needs --hours of at least 1");
  }
}
