package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.SocketException;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import reactor.core.Exceptions;

/** How kad-bench reports a failure while running, through picocli's API. */
class ErrorHandlerTest {

  /** Fails as the tcp benchmark does when a node cannot bind: a wrapped chain of causes. */
  @Command(name = "failing")
  static final class Failing implements Callable<Integer> {
    @Override
    public Integer call() {
      SocketException root = new SocketException("Too many open files");
      KadException bind = new KadException("cannot listen on 127.0.0.1:0", root);
      // block() rethrows a failure wrapped like this
      throw new RunFailure("starting node 3 of 5 failed", Exceptions.propagate(bind));
    }
  }

  /**
   * Ends with an Error. (An OutOfMemoryError, which a network too large for the heap ends with, is
   * left to {@link BenchProcessTest}: JUnit aborts the whole run when one reaches it.)
   */
  @Command(name = "overflowing")
  static final class Overflowing implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new StackOverflowError();
    }
  }

  private static Cli.Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Bench.commandLine();
    commandLine.addSubcommand(new Failing());
    commandLine.addSubcommand(new Overflowing());
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    int code = commandLine.execute(args);
    return new Cli.Run(code, out.toString(), err.toString());
  }

  @Test
  void aFailureWhileRunningIsOneLineNamingWhatFailedAndExitCode1() {
    Cli.Run run = run("failing");

    assertThat(run.err().lines().toList())
        .containsExactly(
            "kad-bench failing: starting node 3 of 5 failed: cannot listen on 127.0.0.1:0"
                + " (SocketException: Too many open files) (-v prints the stack trace)");
    assertThat(run.failed()).startsWith("kad-bench failing: starting node 3 of 5 failed");
  }

  @Test
  void verboseAddsTheStackTraceBeforeTheLine() {
    for (List<String> args : List.of(List.of("-v", "failing"), List.of("failing", "--verbose"))) {
      Cli.Run run = run(args.toArray(String[]::new));

      assertThat(run.exitCode()).as("%s", args).isEqualTo(1);
      List<String> lines = run.err().lines().toList();
      assertThat(lines).as("%s", args).anyMatch(l -> l.startsWith("\tat "));
      assertThat(lines).contains("Caused by: java.net.SocketException: Too many open files");
      assertThat(lines.get(lines.size() - 1))
          .isEqualTo(
              "kad-bench failing: starting node 3 of 5 failed: cannot listen on 127.0.0.1:0"
                  + " (SocketException: Too many open files)");
    }
  }

  @Test
  void anErrorWhileRunningIsOneLineToo() {
    Cli.Run run = run("overflowing");

    assertThat(run.err().lines().toList())
        .containsExactly("kad-bench overflowing: StackOverflowError (-v prints the stack trace)");
    assertThat(run.exitCode()).isEqualTo(1);
  }

  @Test
  void anOutOfMemoryErrorTheJvmWrappedIsStillReportedAsOutOfMemory() {
    // How the parallel collector's "GC overhead" reached the handler while a lambda was linked
    // (java -XX:+UseParallelGC -Xmx48m -jar kad-bench.jar sim --nodes 30000 ...).
    String line =
        ErrorHandler.describe(
            new InternalError(
                new OutOfMemoryError("GC overhead limit exceeded").toString(),
                new OutOfMemoryError("GC overhead limit exceeded")));

    assertThat(line)
        .startsWith("out of memory (GC overhead limit exceeded) with a heap of at most ")
        .contains("-Xmx4g");
  }

  @Test
  void aBadOptionStaysOneLineWithExitCode2() {
    String line = Cli.run("tcp", "--nodes", "1", "--lookups", "1").rejected();

    assertThat(line)
        .isEqualTo("kad-bench tcp: --nodes must be in [2, 2000] but was 1 (see --help)");
  }
}
