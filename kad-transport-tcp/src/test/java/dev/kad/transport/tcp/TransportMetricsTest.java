package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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

  /**
   * A violation's detail quotes what the peer sent (a message type, a field name): a peer must not
   * write lines of its own into the log, nor fill it with one frame's worth of text per line.
   */
  @Test
  void aViolationIsLoggedOnOneShortLineWhateverThePeerSent() {
    TransportMetrics metrics = new TransportMetrics("test");
    String sent =
        "teleport'\n[main] ERROR dev.kad.Forged - node compromised\u001b[2J" + "x".repeat(60_000);
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      metrics.violation(
          Violation.MALFORMED_MESSAGE,
          new InetSocketAddress("127.0.0.1", 9),
          "unknown message type '" + sent + "'");
    } finally {
      System.setErr(err);
    }
    String logged = captured.toString(StandardCharsets.UTF_8);
    assertThat(logged.lines().filter(l -> l.contains("closing connection peer=127.0.0.1:9")))
        .singleElement()
        .satisfies(
            line -> {
              assertThat(line).contains("unknown message type 'teleport'\\n[main] ERROR");
              assertThat(line).doesNotContain("\u001b").hasSizeLessThan(1000);
            });
    assertThat(logged).doesNotContain("\n[main] ERROR dev.kad.Forged");
    assertThat(metrics.count(Violation.MALFORMED_MESSAGE)).isEqualTo(1);
  }
}
