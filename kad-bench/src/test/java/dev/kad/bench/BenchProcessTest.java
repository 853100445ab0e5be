package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real failures of a benchmark run, in a JVM of their own: what a user sees on stderr and the exit
 * code, and that the process ends (a failure left non-daemon threads running before).
 */
class BenchProcessTest {

  private static final long WAIT_SECONDS = 60;

  @TempDir Path dir;

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aHeapTooSmallForTheNetworkIsOneLineAndExitCode1() throws Exception {
    Result result =
        run(
            List.of(),
            List.of("-Xmx48m"),
            "sim",
            "--nodes",
            "30000",
            "--lookups",
            "1",
            "--seed",
            "1");

    assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.lines()).as("no stack trace").noneMatch(l -> l.startsWith("\tat "));
    // Java heap space, or GC overhead with a collector that gives up so (the parallel one)
    assertThat(result.last())
        .matches(
            "kad-bench sim: out of memory \\((Java heap space|GC overhead limit exceeded)\\)"
                + " with a heap of at most \\d+ MB; .*")
        .contains("-Xmx4g");
  }

  @Test
  @EnabledOnOs(OS.LINUX)
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aNodeThatCannotStartIsOneLineNamingItAndExitCode1() throws Exception {
    // 128 file descriptors: the JVM's own and about a hundred nodes' listening sockets.
    Result result =
        run(
            List.of("/bin/sh", "-c", "ulimit -n 128 && exec \"$0\" \"$@\""),
            List.of("-Xmx256m"),
            "tcp",
            "--nodes",
            "400",
            "--lookups",
            "1");

    assertThat(result.exitCode()).as(result.err()).isEqualTo(1);
    assertThat(result.out()).isEmpty();
    assertThat(result.lines()).as("no stack trace").noneMatch(l -> l.startsWith("\tat "));
    assertThat(result.last())
        .matches(
            "kad-bench tcp: starting node \\d+ of 400 failed: cannot listen on 127\\.0\\.0\\.1:0.*")
        .contains("Too many open files");
    // the nodes that started were closed before the line
    assertThat(result.lines()).anyMatch(l -> l.matches("\\[tcp +[0-9.]+s\\] closed \\d+ nodes"));
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void theLineNamesTheCollectorThatRan() throws Exception {
    String[] sim = {"sim", "--nodes", "30", "--lookups", "2", "--seed", "1"};

    Result serial = run(List.of(), List.of("-Xmx256m", "-XX:+UseSerialGC"), sim);
    Result parallel = run(List.of(), List.of("-Xmx256m", "-XX:+UseParallelGC"), sim);

    assertThat(serial.exitCode()).as(serial.err()).isZero();
    assertThat(serial.out()).contains("\"gc\":\"serial\"").contains("\"get_success\":1.0");
    assertThat(parallel.exitCode()).as(parallel.err()).isZero();
    assertThat(parallel.out()).contains("\"gc\":\"parallel\"");
  }

  private record Result(int exitCode, String out, String err) {
    List<String> lines() {
      return err.lines().toList();
    }

    String last() {
      List<String> lines = lines();
      assertThat(lines).isNotEmpty();
      return lines.get(lines.size() - 1);
    }
  }

  /** Runs kad-bench on this test's class path, behind {@code prefix} (a shell), and waits. */
  private Result run(List<String> prefix, List<String> jvmOptions, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(prefix);
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:TieredStopAtLevel=1");
    command.addAll(jvmOptions);
    command.add("-cp");
    command.add(
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    command.add(Bench.class.getName());
    command.addAll(List.of(args));
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process process =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    try {
      assertThat(process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS))
          .as("the process ended; stderr: %s", Files.readString(err))
          .isTrue();
      return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      if (process.isAlive()) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
