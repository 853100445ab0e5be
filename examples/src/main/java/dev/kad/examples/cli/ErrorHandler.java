package dev.kad.examples.cli;

import dev.kad.api.KadException;
import java.io.PrintWriter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.UnmatchedArgumentException;
import reactor.core.Exceptions;

/**
 * Turns every failure into one line on stderr and an exit code, never a stack trace unless asked
 * for: bad input (unknown option, unparsable address, value too large, a setting a builder refuses)
 * exits with picocli's usage code 2, a failure while running (unreachable bootstrap node, timeout,
 * refused store) with 1. So does an {@link Error} ({@code OutOfMemoryError}, {@code
 * NoClassDefFoundError}), which {@link KadCli#commandLine()} hands here wrapped. A failure the
 * command line does not raise itself (an {@code Error}, or an exception of a kind that is a bug)
 * has its stack trace printed before the line when the command ran with {@code -v}; commands with
 * {@code -v} say so at the end of the line otherwise, so the last line is always the summary.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    String message = unknownCommand(cmd).or(() -> misspelt(cmd)).orElse(ex.getMessage());
    cmd.getErr().println(name + ": " + message + " (see '" + name + " --help')");
    cmd.getErr().flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  /**
   * An unknown option, with the option it most looks like: said first, since a misspelt option
   * explains whatever else went wrong (the option it stood for missing, its value taken for an
   * argument, or for another unknown option).
   */
  private static Optional<String> misspelt(CommandLine cmd) {
    return cmd.getUnmatchedArguments().stream()
        .filter(a -> a.startsWith("-"))
        .findFirst()
        .map(
            unknown -> {
              List<String> like =
                  new UnmatchedArgumentException(cmd, List.of(unknown)).getSuggestions();
              return "Unknown option: '"
                  + unknown
                  + "'"
                  + (like.isEmpty() ? "" : " (did you mean '" + like.get(0) + "'?)");
            });
  }

  /**
   * A word where a command was expected ({@code kad nosuch}), with the command it most looks like
   * and the list of them, rather than picocli's "Unmatched argument at index 0".
   */
  private static Optional<String> unknownCommand(CommandLine cmd) {
    List<String> unmatched = cmd.getUnmatchedArguments();
    if (cmd.getSubcommands().isEmpty() || unmatched.isEmpty() || unmatched.get(0).startsWith("-")) {
      return Optional.empty();
    }
    String unknown = unmatched.get(0);
    // picocli's suggestions reach far ('frobnicate' would be 'watch'): only a command that
    // begins as the word does ('nodes', 'wacth').
    Optional<String> like =
        cmd.getSubcommands().keySet().stream()
            .filter(c -> commonPrefix(c, unknown) >= 2)
            .max(Comparator.comparingInt(c -> commonPrefix(c, unknown)));
    return Optional.of(
        "Unknown command: '"
            + unknown
            + "'"
            + like.map(c -> " (did you mean '" + c + "'?)").orElse("")
            + "; the commands are "
            + String.join(", ", cmd.getSubcommands().keySet()));
  }

  /** How many leading characters {@code a} and {@code b} share. */
  private static int commonPrefix(String a, String b) {
    int n = 0;
    while (n < a.length() && n < b.length() && a.charAt(n) == b.charAt(n)) {
      n++;
    }
    return n;
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    Throwable failure = cause(ex);
    String line = cmd.getCommandSpec().qualifiedName() + ": " + describe(failure);
    if (!expected(failure)) {
      OptionSpec verbose = cmd.getCommandSpec().findOption("--verbose");
      if (verbose != null && Boolean.TRUE.equals(verbose.getValue())) {
        failure.printStackTrace(err);
      } else if (verbose != null) {
        line += " (-v prints the stack trace)";
      }
    }
    err.println(line);
    err.flush();
    // An argument the options parsed but a builder refused (a port out of range, 0.0.0.0
    // without --advertise) is bad input like any other.
    return failure instanceof IllegalArgumentException
        ? cmd.getCommandSpec().exitCodeOnInvalidInput()
        : cmd.getCommandSpec().exitCodeOnExecutionException();
  }

  /** The message of the failure that matters, on one line. */
  static String describe(Throwable failure) {
    Throwable e = cause(failure);
    String message = e.getMessage();
    if (e instanceof OutOfMemoryError) {
      message =
          String.format(
              Locale.ROOT,
              "out of memory (%s) with a heap of at most %d MB; give the JVM more,"
                  + " e.g. KAD_JAVA_OPTS=-Xmx1g ./kad ...",
              message,
              Runtime.getRuntime().maxMemory() >> 20);
    } else if (message == null || message.isBlank()) {
      message = e.getClass().getSimpleName();
    } else if (!expected(e)) {
      message = e.getClass().getSimpleName() + ": " + message;
    }
    return message.replace('\n', ' ').replace('\r', ' ').strip();
  }

  /** Whether the message of {@code e} stands alone: a failure this toolkit raises on purpose. */
  private static boolean expected(Throwable e) {
    return e instanceof KadException
        || e instanceof CliException
        || e instanceof IllegalArgumentException;
  }

  /** The failure itself, without picocli's and Reactor's wrappers. */
  private static Throwable cause(Throwable failure) {
    Throwable e = failure;
    if (e instanceof CommandLine.ExecutionException && e.getCause() instanceof Error) {
      e = e.getCause(); // picocli does not unwrap an Error: see KadCli.commandLine
    }
    return Exceptions.unwrap(e);
  }
}
