package dev.kad.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
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
 * <p>Exit codes: 0 on success, 2 for bad options (one line on stderr), 1 when a run fails.
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
   * The command line with kad-bench's error handling: a bad option prints one line on stderr and
   * exits with 2, without the usage text.
   *
   * @return a fresh command line
   */
  static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Bench());
    commandLine.setParameterExceptionHandler(
        (ex, args) -> {
          CommandLine failed = ex.getCommandLine();
          failed
              .getErr()
              .println(failed.getCommandName() + ": " + ex.getMessage() + " (see --help)");
          failed.getErr().flush();
          return failed.getCommandSpec().exitCodeOnInvalidInput();
        });
    return commandLine;
  }

  @Override
  public void run() {
    throw new ParameterException(
        spec.commandLine(), "a command is required: sim, tcp, rpc or watch");
  }
}
