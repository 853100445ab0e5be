package dev.kad.bench;

import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * The options of the simulated network that {@code sim} and {@code watch} both build: its seed,
 * latency and bucket size. A picocli mixin ({@code @Mixin SimOptions network;}); the command calls
 * {@link #check} among its own checks.
 */
final class SimOptions {

  @Option(names = "--seed", required = true, description = "Seed of every random draw.")
  long seed;

  @Option(
      names = "--latency-ms",
      paramLabel = "MIN-MAX",
      defaultValue = "10-100",
      converter = LatencyConverter.class,
      description =
          "One-way latency in ms: uniform in MIN-MAX, or fixed; at most 60000 (default: 10-100).")
  Latency latency;

  @Option(
      names = "--k",
      defaultValue = "20",
      description = "Bucket size and replication (default: ${DEFAULT-VALUE}).")
  int k;

  void check(OptionChecks checks) {
    checks.inRange("--k", k, 1, 256);
  }

  /** A one-way latency range in milliseconds. */
  record Latency(long minMs, long maxMs) {}

  /**
   * The longest one-way latency accepted, in ms: a minute, twelve times the default hard timeout.
   * Without a bound, a value past 292 years of nanoseconds overflowed in the simulated network and
   * ended the run with a stack trace.
   */
  static final long MAX_LATENCY_MS = 60_000;

  /** Parses {@code 10-100} or {@code 50}. */
  static final class LatencyConverter implements ITypeConverter<Latency> {
    @Override
    public Latency convert(String value) {
      String[] parts = value.trim().split("-", -1);
      try {
        long min = Long.parseLong(parts[0].trim());
        long max = parts.length == 2 ? Long.parseLong(parts[1].trim()) : min;
        if (parts.length > 2 || min < 0 || max < min || max > MAX_LATENCY_MS) {
          throw new NumberFormatException();
        }
        return new Latency(min, max);
      } catch (NumberFormatException e) {
        throw new TypeConversionException(
            "'"
                + value
                + "' is not MIN-MAX or a single value in ms with 0 <= MIN <= MAX <= "
                + MAX_LATENCY_MS);
      }
    }
  }
}
