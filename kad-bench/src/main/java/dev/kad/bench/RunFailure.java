package dev.kad.bench;

/**
 * A benchmark failed while running; the message names the step ({@code starting node 46 of 100
 * failed}) and {@link ErrorHandler} prints it with its cause on one line, exit code 1.
 */
final class RunFailure extends RuntimeException {

  private static final long serialVersionUID = 1L;

  RunFailure(String message, Throwable cause) {
    super(message, cause);
  }
}
