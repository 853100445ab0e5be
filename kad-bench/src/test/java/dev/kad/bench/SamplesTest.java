package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SamplesTest {

  @Test
  void withoutSamplesTheMeanAndPercentilesAreEmptyAndJsonNull() {
    Samples none = new Samples();

    assertThat(none.meanIfAny()).isEmpty();
    assertThat(none.percentileIfAny(0.5)).isEmpty();
    assertThat(new JsonLine().field("find_node_rpcs_mean", none.meanIfAny(), 2).toString())
        .isEqualTo("{\"find_node_rpcs_mean\":null}");
  }

  @Test
  void nearestRankPercentilesAndMean() {
    Samples s = new Samples();
    for (int i = 100; i >= 1; i--) {
      s.add(i);
    }

    assertThat(s.meanIfAny()).hasValue(50.5);
    assertThat(s.percentileIfAny(0.50)).hasValue(50.0);
    assertThat(s.percentileIfAny(0.99)).hasValue(99.0);
    assertThat(s.percentileIfAny(1.0)).hasValue(100.0);
  }
}
