package dev.kad.examples.cli;

import dev.kad.api.KadException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import reactor.core.Exceptions;

/**
 * Turns every failure into one line on stderr and an exit code, never a stack trace: bad input
 * (unknown option, unparsable address, value too large, a setting a builder refuses) exits with
 * picocli's usage code 2, a failure while running (unreachable bootstrap node, timeout, refused
 * store) with 1.
 */
final class ErrorHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

  @Override
  public int handleParseException(ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    String name = cmd.getCommandSpec().qualifiedName();
    cmd.getErr().println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
    cmd.getErr().flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  @Override
  public int handleExecutionException(Exception ex, CommandLine cmd, ParseResult parseResult) {
    cmd.getErr().println(cmd.getCommandSpec().qualifiedName() + ": " + describe(ex));
    cmd.getErr().flush();
    // An argument the options parsed but a builder refused (a port out of range, 0.0.0.0
    // without --advertise) is bad input like any other.
    return Exceptions.unwrap(ex) instanceof IllegalArgumentException
        ? cmd.getCommandSpec().exitCodeOnInvalidInput()
        : cmd.getCommandSpec().exitCodeOnExecutionException();
  }

  /** The message of the failure that matters, on one line. */
  static String describe(Throwable failure) {
    Throwable e = Exceptions.unwrap(failure);
    String message = e.getMessage();
    boolean expected =
        e instanceof KadException
            || e instanceof CliException
            || e instanceof IllegalArgumentException;
    if (message == null || message.isBlank()) {
      message = e.getClass().getSimpleName();
    } else if (!expected) {
      message = e.getClass().getSimpleName() + ": " + message;
    }
    return message.replace('\n', ' ').strip();
  }
}
