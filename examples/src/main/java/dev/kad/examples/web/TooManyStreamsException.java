package dev.kad.examples.web;

import java.time.Duration;

/**
 * A stream refused at a {@link StreamLimit}: {@link ProblemHandler} answers it 429 with a {@code
 * Retry-After}. It is how a refusal travels, no failure: it has no stack trace.
 */
final class TooManyStreamsException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final Duration retryAfter;

  TooManyStreamsException(String message, Duration retryAfter) {
    super(message, null, false, false);
    this.retryAfter = retryAfter;
  }

  /** What the client is told to wait before it tries again. */
  Duration retryAfter() {
    return retryAfter;
  }
}
