package dev.kad.examples.cli;

/** A failure the command line reports as one line on stderr, with exit code 1. */
final class CliException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message, null, false, false);
  }
}
