package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** How {@code kad} reports an {@link Error} while a command runs, through picocli's API. */
class ErrorHandlerTest {

  /** Ends with an Error, and has {@code -v} as put, get, watch and demo do. */
  @Command(name = "overflowing")
  static final class Overflowing implements Callable<Integer> {
    @Option(names = {"-v", "--verbose"})
    boolean verbose;

    @Override
    public Integer call() {
      throw new StackOverflowError();
    }
  }

  /** Ends with an Error, and has no {@code -v}, as node does. */
  @Command(name = "unlinked")
  static final class Unlinked implements Callable<Integer> {
    @Override
    public Integer call() {
      throw new NoClassDefFoundError("io/netty/channel/EventLoopGroup");
    }
  }

  private static Cli.Run kad(String... args) {
    Cli cli = new Cli();
    CommandLine commandLine = KadCli.commandLine();
    commandLine.addSubcommand(new Overflowing());
    commandLine.addSubcommand(new Unlinked());
    commandLine.setOut(new PrintWriter(cli.out, true));
    commandLine.setErr(new PrintWriter(cli.err, true));
    int code = commandLine.execute(args);
    return new Cli.Run(code, cli.out.all(), cli.err.all());
  }

  @Test
  void anErrorIsOneLineWithExitCode1() {
    Cli.Run run = kad("overflowing");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .containsExactly("kad overflowing: StackOverflowError (-v prints the stack trace)");
  }

  @Test
  void aCommandWithoutVerboseGivesTheLineAlone() {
    Cli.Run run = kad("unlinked");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .containsExactly("kad unlinked: NoClassDefFoundError: io/netty/channel/EventLoopGroup");
  }

  @Test
  void verbosePrintsTheStackTraceBeforeTheLine() {
    Cli.Run run = kad("overflowing", "-v");

    assertThat(run.exitCode()).isEqualTo(1);
    List<String> lines = run.err();
    assertThat(lines.get(0)).isEqualTo("java.lang.StackOverflowError");
    assertThat(lines).anyMatch(l -> l.startsWith("\tat ") && l.contains("Overflowing.call"));
    assertThat(lines.get(lines.size() - 1)).isEqualTo("kad overflowing: StackOverflowError");
  }

  @Test
  void outOfMemorySaysHowToGiveTheJvmMore() {
    assertThat(ErrorHandler.describe(new OutOfMemoryError("Java heap space")))
        .startsWith("out of memory (Java heap space) with a heap of at most ")
        .endsWith(" MB; give the JVM more, e.g. KAD_JAVA_OPTS=-Xmx1g ./kad ...");
  }
}
