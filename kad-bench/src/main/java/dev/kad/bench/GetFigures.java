package dev.kad.bench;

import java.util.Locale;
import java.util.OptionalDouble;

/**
 * The get figures of {@code tcp}: how long the gets that returned the value took, and the fraction
 * that did. A failed get (it errored, timed out, or ended without the value) counts in {@link
 * #success()} only: its time is that of a failure, often a timeout, and timing it with the others
 * made the latencies describe neither.
 */
final class GetFigures {

  private final Samples succeededMs = new Samples();
  private int gets;

  /** One get, which took {@code ms} and returned the value put or not. */
  void add(double ms, boolean succeeded) {
    gets++;
    if (succeeded) {
      succeededMs.add(ms);
    }
  }

  /** The gets made. */
  int gets() {
    return gets;
  }

  /** The gets that returned the value. */
  int succeeded() {
    return succeededMs.size();
  }

  /** The fraction of gets that returned the value, 0 before any get. */
  double success() {
    return gets == 0 ? 0 : (double) succeededMs.size() / gets;
  }

  /** A percentile of the successful gets' times in ms; empty when none succeeded. */
  OptionalDouble ms(double p) {
    return succeededMs.percentileIfAny(p);
  }

  /** For the progress lines: {@code success 0.9800 (49 of 50), p50 1.52 ms of those}. */
  String summary() {
    String line =
        String.format(Locale.ROOT, "success %.4f (%d of %d)", success(), succeeded(), gets);
    OptionalDouble p50 = ms(0.50);
    return p50.isPresent()
        ? line + String.format(Locale.ROOT, ", p50 %.2f ms of those", p50.getAsDouble())
        : line;
  }

  /**
   * Writes {@code get_ms_p50}, {@code get_ms_p99} and {@code get_success}, in that order; the
   * latencies are {@code null} when no get succeeded.
   */
  JsonLine writeTo(JsonLine json) {
    return json.field("get_ms_p50", ms(0.50), 3)
        .field("get_ms_p99", ms(0.99), 3)
        .field("get_success", success(), 4);
  }
}
