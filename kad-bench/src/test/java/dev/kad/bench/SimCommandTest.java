package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class SimCommandTest {

  private static final List<String> FIELDS =
      List.of(
          "scenario",
          "nodes",
          "lookups",
          "seed",
          "k",
          "alpha",
          "loss",
          "dead",
          "bootstrap",
          "find_node_accuracy",
          "find_node_hops_p50",
          "find_node_hops_p99",
          "find_node_rpcs_mean",
          "find_node_ms_p50",
          "find_node_ms_p99",
          "get_success",
          "get_rpcs_mean",
          "get_ms_p50",
          "put_acks_mean",
          "heap_bytes_per_node",
          "wall_s",
          "gc");

  private static final Pattern FIELD = Pattern.compile("\"([a-z0-9_]+)\":(\"[^\"]*\"|[-0-9.eE]+)");

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Bench.commandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    int code = commandLine.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  private static Map<String, String> parse(String line) {
    assertThat(line).startsWith("{").endsWith("}");
    Map<String, String> fields = new LinkedHashMap<>();
    Matcher m = FIELD.matcher(line);
    while (m.find()) {
      fields.put(m.group(1), m.group(2));
    }
    return fields;
  }

  private static Map<String, String> sim(long seed) {
    Run run = run("sim", "--nodes", "60", "--lookups", "10", "--seed", Long.toString(seed));
    assertThat(run.exitCode()).as("stderr: %s", run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).as("stdout has one line").hasSize(1);
    return parse(lines.get(0));
  }

  @Test
  void printsOneJsonLineWithEveryFieldAndFindsTheClosestNodes() {
    Map<String, String> fields = sim(7);

    assertThat(fields.keySet()).containsExactlyElementsOf(FIELDS);
    assertThat(fields.get("scenario")).isEqualTo("\"sim\"");
    assertThat(fields.get("bootstrap")).isEqualTo("\"protocol\"");
    assertThat(fields.get("nodes")).isEqualTo("60");
    assertThat(Double.parseDouble(fields.get("find_node_accuracy"))).isGreaterThan(0.9);
    assertThat(Double.parseDouble(fields.get("get_success"))).isEqualTo(1.0);
    assertThat(Double.parseDouble(fields.get("put_acks_mean"))).isPositive();
    assertThat(Double.parseDouble(fields.get("find_node_hops_p50"))).isGreaterThanOrEqualTo(1.0);
  }

  @Test
  void withNoContactReturnedTheHopsAreNullNotZero() {
    // 95% loss: no node joins, so every lookup ends with no contact and has no hop to sample.
    Map<String, String> fields =
        Cli.run("sim", "--nodes", "30", "--lookups", "5", "--seed", "1", "--loss", "0.95").json();

    assertThat(Cli.number(fields, "find_node_accuracy")).isZero();
    assertThat(fields)
        .containsEntry("find_node_hops_p50", "null")
        .containsEntry("find_node_hops_p99", "null");
  }

  @Test
  void theSameSeedGivesTheSameFigures() {
    Map<String, String> first = sim(11);
    Map<String, String> second = sim(11);

    for (String volatileField : List.of("heap_bytes_per_node", "wall_s")) {
      first.remove(volatileField);
      second.remove(volatileField);
    }
    assertThat(second).isEqualTo(first);
  }

  @Test
  void warmBootstrapFindsTheClosestNodesWithoutMessages() {
    Run run = run("sim", "--nodes", "200", "--lookups", "10", "--seed", "3", "--bootstrap", "warm");

    assertThat(run.exitCode()).as("stderr: %s", run.err()).isZero();
    Map<String, String> fields = parse(run.out().strip());
    assertThat(fields.get("bootstrap")).isEqualTo("\"warm\"");
    assertThat(Double.parseDouble(fields.get("find_node_accuracy"))).isGreaterThan(0.9);
  }

  @Test
  void aBadOptionIsOneLineOnStderrAndANonZeroExit() {
    Run run = run("sim", "--nodes", "1", "--lookups", "10", "--seed", "1");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.out()).isEmpty();
    assertThat(run.err().lines().toList())
        .singleElement()
        .asString()
        .contains("--nodes must be at least 2");
  }

  @Test
  void churnHoursAddRetrievabilityAndMaintenanceTraffic() {
    Map<String, String> fields =
        Cli.run(
                "sim",
                "--nodes",
                "50",
                "--lookups",
                "5",
                "--values",
                "10",
                "--seed",
                "2",
                "--churn-per-hour",
                "0.1",
                "--hours",
                "1")
            .json();

    List<String> churnFields =
        List.of(
            "churn_per_hour",
            "hours",
            "values",
            "values_retrievable",
            "maintenance_rpcs_per_node_hour",
            "nodes_replaced",
            "join_failures");
    assertThat(fields.keySet()).startsWith(FIELDS.toArray(String[]::new));
    assertThat(List.copyOf(fields.keySet()).subList(FIELDS.size(), fields.size()))
        .containsExactlyElementsOf(churnFields);
    assertThat(Cli.number(fields, "values_retrievable")).isEqualTo(1.0);
    assertThat(Cli.number(fields, "nodes_replaced")).isEqualTo(5.0);
    assertThat(Cli.number(fields, "maintenance_rpcs_per_node_hour")).isPositive();
    assertThat(Cli.number(fields, "find_node_accuracy")).isGreaterThan(0.8);
  }

  @Test
  void churnWithoutHoursIsRejected() {
    String line =
        Cli.run("sim", "--nodes", "50", "--lookups", "5", "--seed", "2", "--churn-per-hour", "0.1")
            .rejected();

    assertThat(line).contains("--churn-per-hour 0.1 needs --hours");
  }

  @Test
  void valuesWithoutHoursAreRejectedRatherThanIgnored() {
    String line =
        Cli.run("sim", "--nodes", "50", "--lookups", "5", "--seed", "2", "--values", "10")
            .rejected();

    assertThat(line).contains("--values 10 needs --hours");
  }

  @Test
  void aLatencyTooLargeToSimulateIsRejectedNamingIt() {
    String line =
        Cli.run(
                "sim",
                "--nodes",
                "10",
                "--lookups",
                "1",
                "--seed",
                "1",
                "--latency-ms",
                "9223372036854775807")
            .rejected();

    assertThat(line).contains("'9223372036854775807'").contains("MAX <= 60000");
  }

  @Test
  void aBadLatencyIsRejected() {
    Run run = run("sim", "--nodes", "10", "--lookups", "1", "--seed", "1", "--latency-ms", "9-3");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err().lines().toList()).singleElement().asString().contains("9-3");
  }

  @Test
  void everyNodeIsClosedWhenTheRunEnds() throws InterruptedException {
    Simulation simulation =
        new Simulation(
            new Simulation.Settings(
                30, 3, 5, 20, 3, 0.0, 0.1, 10, 100, Simulation.Join.PROTOCOL, 0.0, 0, 3),
            new PrintWriter(Writer.nullWriter()));

    simulation.run();

    assertThat(simulation.network().live()).hasSize(27);
    for (KadNode node : simulation.network().live()) {
      Closed.assertClosed(node);
    }
  }
}
