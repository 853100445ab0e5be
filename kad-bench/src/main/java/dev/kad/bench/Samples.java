package dev.kad.bench;

import java.util.Arrays;

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

  /** The nearest-rank percentile: the smallest value with at least p of the samples at or below. */
  double percentile(double p) {
    if (size == 0) {
      return 0;
    }
    double[] sorted = Arrays.copyOf(values, size);
    Arrays.sort(sorted);
    int rank = (int) Math.ceil(p * size);
    return sorted[Math.min(size, Math.max(1, rank)) - 1];
  }
}
