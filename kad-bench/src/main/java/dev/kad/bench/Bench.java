package dev.kad.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExecutionException;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code kad-bench} command line: one subcommand per benchmark, each printing one JSON line on
 * stdout and its progress and logs on stderr.
 *
 * <pre>{@code
 * java -jar kad-bench/target/kad-bench.jar sim --nodes 10000 --lookups 1000 --seed 1
 * java -jar kad-bench/target/kad-bench.jar sim --nodes 5000 --lookups 1000 --seed 1 \
 *     --churn-per-hour 0.1 --hours 24
 * java -jar kad-bench/target/kad-bench.jar tcp --nodes 200 --lookups 1000
 * java -jar kad-bench/target/kad-bench.jar rpc --seconds 10 --concurrency 64 --format cbor
 * java -jar kad-bench/target/kad-bench.jar watch --nodes 2000 --puts 1000 --seed 1
 * java -cp kad-bench/target/kad-bench.jar org.openjdk.jmh.Main Distance
 * }</pre>
 *
 * <p>Exit codes: 0 on success, 2 for bad options, 1 when a run fails; either failure is one line on
 * stderr ({@code -v} adds the stack trace of a failed run).
 */
@Command(
    name = "kad-bench",
    mixinStandardHelpOptions = true,
    version = "kad-bench 0.1.0",
    description = "Benchmarks of the kad Kademlia toolkit.",
    subcommands = {
      SimCommand.class,
      TcpCommand.class,
      RpcCommand.class,
      WatchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Bench implements Runnable {

  @Spec CommandSpec spec;

  /**
   * Runs the command line and exits with its code.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * On a failure while running, print its stack trace too; an option of every command ({@code
   * kad-bench tcp -v ...}).
   */
  @Option(
      names = {"-v", "--verbose"},
      scope = ScopeType.INHERIT,
      description = "On a failure, print its stack trace before the one-line summary.")
  boolean verbose;

  /**
   * The command line with kad-bench's error handling: a bad option prints one line on stderr and
   * exits with 2, without the usage text; a failure while running (a node that cannot start, a heap
   * too small) prints one line naming it and exits with 1, the stack trace only with {@code -v}.
   *
   * @return a fresh command line
   */
  static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Bench());
    ErrorHandler errors = new ErrorHandler();
    commandLine.setParameterExceptionHandler(errors);
    commandLine.setExecutionExceptionHandler(errors);
    // picocli hands only Exceptions to the handler; an Error (OutOfMemoryError from a network too
    // large for the heap) escaped with a stack trace, and could leave the JVM running.
    commandLine.setExecutionStrategy(
        parseResult -> {
          try {
            return new CommandLine.RunLast().execute(parseResult);
          } catch (Error e) {
            throw new ExecutionException(leaf(parseResult).commandLine(), e.toString(), e);
          }
        });
    return commandLine;
  }

  /** The command that ran: the last subcommand parsed. */
  private static CommandSpec leaf(ParseResult parseResult) {
    ParseResult last = parseResult;
    while (last.hasSubcommand()) {
      last = last.subcommand();
    }
    return last.commandSpec();
  }

  @Override
  public void run() {
    throw new ParameterException(
        spec.commandLine(), "a command is required: sim, tcp, rpc or watch");
  }
}
