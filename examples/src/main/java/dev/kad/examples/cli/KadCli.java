package dev.kad.examples.cli;

import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ExecutionException;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/**
 * The {@code kad} command line, packaged as {@code examples/target/kad.jar} and started by the
 * {@code ./kad} launcher at the repository root.
 *
 * <pre>{@code
 * ./kad demo --nodes 8 --seed 42                  # a local cluster, step by step
 * ./kad node --port 7000                          # one node, until Ctrl-C
 * ./kad node --port 7001 --bootstrap 127.0.0.1:7000
 * ./kad put --bootstrap 127.0.0.1:7000 greeting hello
 * ./kad get --bootstrap 127.0.0.1:7001 greeting
 * ./kad watch --bootstrap 127.0.0.1:7001 greeting
 * }</pre>
 *
 * <p>Exit codes: 0 success, 1 a failure while running (one line on stderr), 2 bad input (one line
 * on stderr), 130 after Ctrl-C and 143 after SIGTERM (the JVM's, once the node has closed).
 * Embedders and tests get a fully configured command line from {@link #commandLine()}.
 */
@Command(
    name = "kad",
    mixinStandardHelpOptions = true,
    versionProvider = KadCli.Version.class,
    description = "A Kademlia DHT on the JVM: run a local demo, a node, or one operation.",
    footer = {
      "",
      "Examples:",
      "  kad demo --nodes 8 --seed 42",
      "  kad node --port 7000",
      "  kad node --port 7001 --bootstrap 127.0.0.1:7000",
      "  kad put --bootstrap 127.0.0.1:7000 greeting hello",
      "  kad get --bootstrap 127.0.0.1:7001 greeting",
      "  kad watch --bootstrap 127.0.0.1:7001 greeting",
      "",
      "Exit codes: 0 success, 1 failure while running, 2 bad input,",
      "130 after Ctrl-C, 143 after SIGTERM (once the node has closed)."
    },
    subcommands = {
      DemoCommand.class,
      NodeCommand.class,
      PutCommand.class,
      GetCommand.class,
      WatchCommand.class,
      CommandLine.HelpCommand.class
    })
public final class KadCli implements Callable<Integer> {

  @Spec private CommandSpec spec;

  /** The environment the commands read (a password named by {@code --tls-password-env}). */
  private final Function<String, String> environment;

  /** Creates the top-level command; prefer {@link #commandLine()}, which adds error handling. */
  public KadCli() {
    this(System::getenv);
  }

  private KadCli(Function<String, String> environment) {
    this.environment = environment;
  }

  /**
   * Runs the command line and exits the JVM with its exit code.
   *
   * @param args the arguments, e.g. {@code demo --nodes 8}
   */
  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * A {@code kad} command line whose errors, an {@link Error} too, are one line on stderr with exit
   * code 1 (failure while running) or 2 (bad input); the stack trace of a failure that is a bug or
   * an {@code Error} only with {@code -v}.
   *
   * @return the configured command line; call {@code execute(args)} on it
   */
  public static CommandLine commandLine() {
    return commandLine(System::getenv);
  }

  /**
   * A {@code kad} command line, as {@link #commandLine()}, whose commands read environment
   * variables from {@code environment}: tests hand it a password.
   */
  static CommandLine commandLine(Function<String, String> environment) {
    ErrorHandler errors = new ErrorHandler();
    return new CommandLine(new KadCli(environment))
        .setExecutionExceptionHandler(errors)
        .setParameterExceptionHandler(errors)
        // picocli hands only Exceptions to the handler; an Error (OutOfMemoryError,
        // NoClassDefFoundError, StackOverflowError) escaped with picocli's stack trace.
        .setExecutionStrategy(
            parseResult -> {
              try {
                return new CommandLine.RunLast().execute(parseResult);
              } catch (Error e) {
                throw new ExecutionException(leaf(parseResult).commandLine(), e.toString(), e);
              }
            })
        // a VALUE starting with '@' is data, not an argument file
        .setExpandAtFiles(false)
        .setCaseInsensitiveEnumValuesAllowed(true);
  }

  /**
   * The value of the environment variable {@code name} as a command of {@code spec}'s command line
   * sees it.
   *
   * @return the value, or null when it is not set
   */
  static String environment(CommandSpec spec, String name) {
    return spec.root().userObject() instanceof KadCli cli
        ? cli.environment.apply(name)
        : System.getenv(name);
  }

  /** The command that ran: the last subcommand parsed. */
  private static CommandSpec leaf(ParseResult parseResult) {
    ParseResult last = parseResult;
    while (last.hasSubcommand()) {
      last = last.subcommand();
    }
    return last.commandSpec();
  }

  /**
   * Without a subcommand there is nothing to do: a usage error.
   *
   * @return never returns normally
   */
  @Override
  public Integer call() {
    throw new ParameterException(
        spec.commandLine(), "Missing command: one of demo, node, put, get, watch, help");
  }

  /** The version from the jar's manifest ({@code dev} when run from classes). */
  static final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = KadCli.class.getPackage().getImplementationVersion();
      return new String[] {"kad " + (v == null ? "dev" : v)};
    }
  }
}
