package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import java.io.PrintWriter;
import java.io.Writer;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class WatchCommandTest {

  @Test
  void aWatcherHearsOfEveryPutWithoutChurn() {
    Map<String, String> fields =
        Cli.run("watch", "--nodes", "40", "--puts", "10", "--seed", "5").json();

    assertThat(fields.keySet())
        .containsExactlyElementsOf(
            List.of(
                "scenario",
                "nodes",
                "puts",
                "seed",
                "notify_ms_p50",
                "notify_ms_p99",
                "delivered_fraction",
                "puts_failed",
                "wall_s",
                "gc"));
    assertThat(Cli.number(fields, "delivered_fraction")).isEqualTo(1.0);
    assertThat(Cli.number(fields, "notify_ms_p50")).isPositive();
  }

  @Test
  void withChurnTheLineGainsTheChurnFigures() {
    Map<String, String> fields =
        Cli.run(
                "watch",
                "--nodes",
                "40",
                "--puts",
                "10",
                "--seed",
                "5",
                "--churn-per-hour",
                "0.1",
                "--hours",
                "1")
            .json();

    assertThat(fields)
        .containsKeys("churn_per_hour", "hours", "churn_delivered_fraction", "nodes_replaced");
    assertThat(Cli.number(fields, "nodes_replaced")).isEqualTo(4.0);
    assertThat(Cli.number(fields, "churn_delivered_fraction")).isBetween(0.0, 1.0);
  }

  @Test
  void theSameSeedGivesTheSameFigures() {
    Map<String, String> first =
        Cli.run("watch", "--nodes", "30", "--puts", "5", "--seed", "9").json();
    Map<String, String> second =
        Cli.run("watch", "--nodes", "30", "--puts", "5", "--seed", "9").json();

    first.remove("wall_s");
    second.remove("wall_s");
    assertThat(second).isEqualTo(first);
  }

  @Test
  void withNothingDeliveredTheLatenciesAreNullNotZero() {
    // A one-way latency of a minute is past every timeout: no subscription, no delivery.
    Map<String, String> fields =
        Cli.run("watch", "--nodes", "5", "--puts", "3", "--seed", "1", "--latency-ms", "60000")
            .json();

    assertThat(Cli.number(fields, "delivered_fraction")).isZero();
    assertThat(fields)
        .containsEntry("notify_ms_p50", "null")
        .containsEntry("notify_ms_p99", "null");
  }

  @Test
  void twoPutsFromOneNodeAtOnceAreTwoValuesBothDelivered() {
    // Six nodes, 600 puts: each putter makes about 120, and some of one node's puts overlap. Its
    // second put of the key replaced its first (one identity per node and key), which then never
    // reached the watcher, or was refused as older: 0.9983 delivered and one put failed.
    Map<String, String> fields =
        Cli.run("watch", "--nodes", "6", "--puts", "600", "--seed", "1").json();

    assertThat(fields).containsEntry("puts_failed", "0");
    assertThat(Cli.number(fields, "delivered_fraction")).isEqualTo(1.0);
  }

  @Test
  void churnWithoutHoursIsRejected() {
    String line =
        Cli.run("watch", "--nodes", "40", "--puts", "10", "--seed", "5", "--churn-per-hour", "0.1")
            .rejected();

    assertThat(line).contains("needs --hours");
  }

  @Test
  void everyNodeIsClosedWhenTheRunEnds() throws InterruptedException {
    CommandLine commandLine = Bench.commandLine();
    commandLine.setOut(new PrintWriter(Writer.nullWriter()));
    commandLine.setErr(new PrintWriter(Writer.nullWriter()));

    int code = commandLine.execute("watch", "--nodes", "20", "--puts", "3", "--seed", "4");

    assertThat(code).isZero();
    WatchCommand watch = commandLine.getSubcommands().get("watch").getCommand();
    assertThat(watch.lastNetwork.live()).hasSize(20);
    for (KadNode node : watch.lastNetwork.live()) {
      Closed.assertClosed(node);
    }
  }
}
