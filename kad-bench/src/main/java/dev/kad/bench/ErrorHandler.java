package dev.kad.bench;

import dev.kad.api.KadException;
import java.io.PrintWriter;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import reactor.core.Exceptions;

/**
 * Turns every failure into one line on stderr and an exit code: a bad option exits with picocli's
 * usage code 2 ({@code kad-bench tcp: --nodes must be in [2, 2000] but was 1 (see --help)}), a
 * failure while running with 1 ({@code kad-bench tcp: starting node 46 of 100 failed: cannot listen
 * on 127.0.0.1:0: ...}). The stack trace is printed only with {@code -v}, before that line, so the
 * last line on stderr is always the summary.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine failed = ex.getCommandLine();
    PrintWriter err = failed.getErr();
    err.println(failed.getCommandSpec().qualifiedName() + ": " + ex.getMessage() + " (see --help)");
    err.flush();
    return failed.getCommandSpec().exitCodeOnInvalidInput();
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    PrintWriter err = cmd.getErr();
    boolean verbose =
        cmd.getCommandSpec().root().userObject() instanceof Bench bench && bench.verbose;
    if (verbose) {
      cause(ex).printStackTrace(err);
    }
    err.println(
        cmd.getCommandSpec().qualifiedName()
            + ": "
            + describe(ex)
            + (verbose ? "" : " (-v prints the stack trace)"));
    err.flush();
    return cmd.getCommandSpec().exitCodeOnExecutionException();
  }

  /**
   * The failure on one line: its message, and the root cause's when it adds something (a bind that
   * failed because the process ran out of file descriptors says so).
   */
  static String describe(Throwable failure) {
    Throwable e = cause(failure);
    OutOfMemoryError outOfMemory = outOfMemory(e);
    String message;
    if (outOfMemory != null) {
      message =
          String.format(
              Locale.ROOT,
              "out of memory (%s) with a heap of at most %d MB; give the JVM more with -Xmx,"
                  + " e.g. java -Xmx4g -jar kad-bench.jar ...",
              outOfMemory.getMessage(),
              Runtime.getRuntime().maxMemory() >> 20);
    } else {
      message = text(e);
      Throwable root = e;
      for (int i = 0; i < 32 && root.getCause() != null && root.getCause() != root; i++) {
        root = root.getCause();
      }
      String because = root.getMessage();
      if (root != e && (because == null || !message.contains(because))) {
        message +=
            " (" + root.getClass().getSimpleName() + (because == null ? "" : ": " + because) + ")";
      }
    }
    return message.replace('\n', ' ').replace('\r', ' ').strip();
  }

  /**
   * The {@link OutOfMemoryError} among {@code e} and its causes, or null: the JVM may wrap one that
   * struck while it linked a lambda or reflected ({@code InternalError}).
   */
  private static OutOfMemoryError outOfMemory(Throwable e) {
    Throwable t = e;
    for (int i = 0; i < 32 && t != null; i++) {
      if (t instanceof OutOfMemoryError oom) {
        return oom;
      }
      t = t.getCause() == t ? null : t.getCause();
    }
    return null;
  }

  /** The failure itself, without picocli's and Reactor's wrappers. */
  private static Throwable cause(Throwable failure) {
    Throwable e = failure;
    if (e instanceof CommandLine.ExecutionException && e.getCause() != null) {
      e = e.getCause(); // an Error, which picocli does not unwrap (see Bench.commandLine)
    }
    return Exceptions.unwrap(e);
  }

  /**
   * The message of one exception. Messages of the failures this toolkit raises stand alone; for
   * anything else the type says what kind of failure it was ({@code SocketException: ...}).
   */
  private static String text(Throwable e) {
    String message = e.getMessage();
    if (message == null || message.isBlank()) {
      return e.getClass().getSimpleName();
    }
    boolean standsAlone =
        e instanceof RunFailure
            || e instanceof KadException
            || e instanceof IllegalArgumentException
            || e instanceof IllegalStateException;
    if (e instanceof RunFailure && e.getCause() != null) {
      return message + ": " + text(Exceptions.unwrap(e.getCause()));
    }
    return standsAlone ? message : e.getClass().getSimpleName() + ": " + message;
  }
}
