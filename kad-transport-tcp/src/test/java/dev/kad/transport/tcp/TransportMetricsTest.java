package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TransportMetricsTest {

  @Test
  void aFloodOfHandlerFailuresLogsAboutOneWarningASecond() {
    TransportMetrics metrics = new TransportMetrics("test");
    long start = System.nanoTime();
    int atWarn = 0;
    for (int i = 0; i < 1000; i++) {
      if (metrics.warn(
          TransportMetrics.Warning.HANDLER_FAILURE,
          "{}: request handler failed on {}",
          "test",
          "Ping",
          new IllegalStateException("boom " + i))) {
        atWarn++;
      }
    }
    long seconds = (System.nanoTime() - start) / 1_000_000_000L;
    assertThat(atWarn).isBetween(1, 1 + (int) seconds + 1);
  }

  @Test
  void eachKindHasItsOwnAllowance() {
    TransportMetrics metrics = new TransportMetrics("test");
    assertThat(metrics.warn(TransportMetrics.Warning.HANDLER_FAILURE, "first of one kind"))
        .isTrue();
    assertThat(metrics.warn(TransportMetrics.Warning.OVERSIZED_RESPONSE, "first of another"))
        .isTrue();
  }
}
