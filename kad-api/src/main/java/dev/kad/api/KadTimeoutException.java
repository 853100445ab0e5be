package dev.kad.api;

/** A request or operation did not complete within its timeout. */
public class KadTimeoutException extends KadException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message naming what failed.
   *
   * @param message what failed, naming the contact, key or limit involved
   */
  public KadTimeoutException(String message) {
    super(message);
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public KadTimeoutException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isTransient() {
    return true;
  }
}
