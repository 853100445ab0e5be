package dev.kad.bench;

import java.util.Arrays;
import java.util.OptionalDouble;

/** A growable list of measurements with mean and nearest-rank percentiles. */
final class Samples {

  private double[] values = new double[16];
  private int size;

  void add(double value) {
    if (size == values.length) {
      values = Arrays.copyOf(values, size * 2);
    }
    values[size++] = value;
  }

  int size() {
    return size;
  }

  /** The mean, 0 when empty. */
  double mean() {
    double sum = 0;
    for (int i = 0; i < size; i++) {
      sum += values[i];
    }
    return size == 0 ? 0 : sum / size;
  }

  /** The mean, empty when there are no samples: {@link JsonLine} writes it as {@code null}. */
  OptionalDouble meanIfAny() {
    return size == 0 ? OptionalDouble.empty() : OptionalDouble.of(mean());
  }

  /**
   * The nearest-rank percentile: the smallest value with at least p of the samples at or below; 0
   * when empty (for progress lines: the JSON line takes {@link #percentileIfAny}).
   */
  double percentile(double p) {
    return percentileIfAny(p).orElse(0);
  }

  /**
   * The nearest-rank percentile, empty when there are no samples: a figure of nothing measured,
   * which {@link JsonLine} writes as {@code null} rather than a 0 that looks measured.
   */
  OptionalDouble percentileIfAny(double p) {
    if (size == 0) {
      return OptionalDouble.empty();
    }
    double[] sorted = Arrays.copyOf(values, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p * size);
    return OptionalDouble.of(sorted[Math.min(size, Math.max(1, rank)) - 1]);
  }
}
