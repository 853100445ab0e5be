package dev.kad.api;

/**
 * The root of kad's run-time failures, delivered through {@code onError}. {@link #isTransient()}
 * tells whether retrying the same operation later may succeed, for {@code
 * retryWhen(Retry.backoff(...).filter(e -> e instanceof KadException k && k.isTransient()))}.
 */
public class KadException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message naming what failed.
   *
   * @param message what failed
   */
  public KadException(String message) {
    super(message);
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public KadException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Whether a retry may succeed. This, not the exception's type, is the retry signal: an {@link
   * IncompatiblePeerException} is an {@link UnreachableContactException} that no retry mends, and a
   * {@link NoSeedAnsweredException} is transient only when some seed may yet answer.
   *
   * @return true for failures caused by the network or by load, false for invalid input
   */
  public boolean isTransient() {
    return false;
  }
}
