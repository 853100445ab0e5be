package dev.kad.bench;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.OptionalDouble;

/** Writes one flat JSON object on one line, fields in insertion order. Not thread-safe. */
final class JsonLine {

  private final StringBuilder text = new StringBuilder("{");

  JsonLine field(String name, String value) {
    name(name);
    quote(value);
    return this;
  }

  JsonLine field(String name, long value) {
    name(name);
    text.append(value);
    return this;
  }

  /** A number rounded half-up to {@code decimals} places, without trailing zeros. */
  JsonLine field(String name, double value, int decimals) {
    if (!Double.isFinite(value)) {
      throw new IllegalArgumentException(name + " must be finite but was " + value);
    }
    name(name);
    BigDecimal rounded = BigDecimal.valueOf(value).setScale(decimals, RoundingMode.HALF_UP);
    String plain = rounded.stripTrailingZeros().toPlainString();
    text.append(plain.contains(".") ? plain : plain + ".0");
    return this;
  }

  /**
   * A number as {@link #field(String, double, int)} writes it, or {@code null} when there is none
   * (a latency of gets when no get succeeded): the field stays, and nothing unmeasured passes for a
   * measurement.
   */
  JsonLine field(String name, OptionalDouble value, int decimals) {
    if (value.isPresent()) {
      return field(name, value.getAsDouble(), decimals);
    }
    name(name);
    text.append("null");
    return this;
  }

  @Override
  public String toString() {
    return text + "}";
  }

  private void name(String name) {
    if (text.length() > 1) {
      text.append(',');
    }
    quote(name);
    text.append(':');
  }

  private void quote(String s) {
    text.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        text.append('\\').append(c);
      } else if (c < 0x20) {
        text.append(String.format("\\u%04x", (int) c));
      } else {
        text.append(c);
      }
    }
    text.append('"');
  }
}
