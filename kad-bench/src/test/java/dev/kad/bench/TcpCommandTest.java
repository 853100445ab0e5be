package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TcpCommandTest {

  private static final List<String> FIELDS =
      List.of(
          "scenario",
          "nodes",
          "lookups",
          "setup_ms",
          "ping_us_p50",
          "find_node_hops_p50",
          "find_node_ms_p50",
          "find_node_ms_p90",
          "find_node_ms_p99",
          "find_node_rpcs_mean",
          "get_ms_p50",
          "get_ms_p99",
          "get_success",
          "heap_bytes_per_node",
          "find_node_dials_mean",
          "event_loops",
          "origins",
          "warmup");

  @Test
  void realNodesOnLoopbackPrintOneJsonLineWithTheIssueFields() {
    Map<String, String> fields = Cli.run("tcp", "--nodes", "6", "--lookups", "5").json();

    assertThat(fields.keySet()).containsExactlyElementsOf(FIELDS);
    assertThat(fields.get("scenario")).isEqualTo("\"tcp\"");
    assertThat(Cli.number(fields, "get_success")).isEqualTo(1.0);
    assertThat(Cli.number(fields, "ping_us_p50")).isPositive();
    assertThat(Cli.number(fields, "find_node_rpcs_mean")).isPositive();
    assertThat(Cli.number(fields, "origins")).isEqualTo(6);
    assertThat(Cli.number(fields, "warmup")).as("as many as --lookups").isEqualTo(5);
  }

  @Test
  void warmupSetsTheUntimedLookups() {
    Map<String, String> fields =
        Cli.run("tcp", "--nodes", "6", "--lookups", "5", "--warmup", "12").json();

    assertThat(Cli.number(fields, "warmup")).isEqualTo(12);
    assertThat(Cli.number(fields, "get_success")).isEqualTo(1.0);
  }

  @Test
  void aNegativeWarmupIsOneLineOnStderrAndExitCode2() {
    String line = Cli.run("tcp", "--nodes", "6", "--lookups", "5", "--warmup", "-1").rejected();

    assertThat(line).contains("--warmup must be in [0, 1000000] but was -1");
  }

  @Test
  void randomOriginsOnLoopsOfTheirOwnStillWork() {
    Map<String, String> fields =
        Cli.run("tcp", "--nodes", "6", "--lookups", "5", "--origins", "0", "--event-loops", "0")
            .json();

    assertThat(Cli.number(fields, "get_success")).isEqualTo(1.0);
    assertThat(Cli.number(fields, "event_loops")).isZero();
    assertThat(Cli.number(fields, "origins")).isZero();
    assertThat(Cli.number(fields, "warmup")).as("no origins, no warm-up").isZero();
  }

  @Test
  void noNativeRunsTheNodesOnNio() {
    Map<String, String> fields =
        Cli.run("tcp", "--nodes", "6", "--lookups", "5", "--no-native").json();

    assertThat(fields.keySet()).containsExactlyElementsOf(FIELDS);
    assertThat(Cli.number(fields, "get_success")).isEqualTo(1.0);
  }

  @Test
  void tooFewNodesIsOneLineOnStderrAndExitCode2() {
    String line = Cli.run("tcp", "--nodes", "1", "--lookups", "5").rejected();

    assertThat(line).contains("--nodes must be in [2, 2000]");
  }
}
