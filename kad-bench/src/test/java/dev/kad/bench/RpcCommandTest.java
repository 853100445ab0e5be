package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RpcCommandTest {

  @Test
  void drivesFindNodeRpcsAndPrintsThroughputAndLatency() {
    Cli.Run run =
        Cli.run(
            "rpc",
            "--seconds",
            "1",
            "--warmup",
            "0",
            "--concurrency",
            "4",
            "--format",
            "cbor",
            "--table",
            "50");
    Map<String, String> fields = run.json();

    assertThat(fields.keySet())
        .containsExactly(
            "scenario",
            "seconds",
            "concurrency",
            "format",
            "rpcs_per_s",
            "p50_us",
            "p99_us",
            "errors");
    assertThat(fields.get("format")).isEqualTo("\"cbor\"");
    assertThat(Cli.number(fields, "rpcs_per_s")).as("stderr: %s", run.err()).isPositive();
    assertThat(Cli.number(fields, "p99_us")).isGreaterThanOrEqualTo(Cli.number(fields, "p50_us"));
    assertThat(Cli.number(fields, "errors")).isZero();
  }

  @Test
  void noNativeRunsBothNodesOnNio() {
    Cli.Run run =
        Cli.run("rpc", "--seconds", "1", "--warmup", "0", "--concurrency", "4", "--no-native");
    Map<String, String> fields = run.json();

    assertThat(Cli.number(fields, "rpcs_per_s")).as("stderr: %s", run.err()).isPositive();
    assertThat(Cli.number(fields, "errors")).isZero();
  }

  @Test
  void anUnknownFormatIsRejected() {
    String line = Cli.run("rpc", "--seconds", "1", "--format", "xml").rejected();

    assertThat(line).contains("'xml' is not json, cbor or smile");
  }

  @Test
  void zeroConcurrencyIsRejected() {
    String line = Cli.run("rpc", "--concurrency", "0").rejected();

    assertThat(line).contains("--concurrency must be in [1, 65536]");
  }
}
