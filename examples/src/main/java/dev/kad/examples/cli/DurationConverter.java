package dev.kad.examples.cli;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Parses {@code 500ms}, {@code 15s}, {@code 2m}, {@code 1h} or ISO-8601 ({@code PT15S}), positive
 * and at most a day: a bound of centuries overflowed Reactor's nanosecond timers and failed at run
 * time as {@code ArithmeticException: long overflow}, exit 1, instead of as bad input.
 */
final class DurationConverter implements ITypeConverter<Duration> {

  private static final Pattern SHORT = Pattern.compile("(\\d+)(ms|s|m|h)");

  /** The longest duration accepted. */
  static final Duration MAX = Duration.ofDays(1);

  @Override
  public Duration convert(String value) {
    String text = value.trim().toLowerCase(Locale.ROOT);
    Matcher m = SHORT.matcher(text);
    Duration d;
    if (m.matches()) {
      try {
        long n = Long.parseLong(m.group(1));
        d =
            switch (m.group(2)) {
              case "ms" -> Duration.ofMillis(n);
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              default -> Duration.ofHours(n);
            };
      } catch (ArithmeticException | NumberFormatException tooLong) {
        d = null;
      }
    } else {
      try {
        d = Duration.parse(value.trim());
      } catch (DateTimeParseException e) {
        throw new TypeConversionException(
            "duration must look like 500ms, 15s, 2m or PT15S but was '" + value + "'");
      }
    }
    if (d == null || d.compareTo(MAX) > 0) {
      throw new TypeConversionException("duration must be at most 24h but was '" + value + "'");
    }
    if (d.isNegative() || d.isZero()) {
      throw new TypeConversionException("duration must be positive but was '" + value + "'");
    }
    return d;
  }
}
