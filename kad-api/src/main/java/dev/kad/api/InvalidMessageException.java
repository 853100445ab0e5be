package dev.kad.api;

/**
 * A message was malformed or violated the protocol (wrong id length, oversized value, unexpected
 * reply).
 */
public class InvalidMessageException extends KadException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message naming what failed.
   *
   * @param message what failed, naming the contact, key or limit involved
   */
  public InvalidMessageException(String message) {
    super(message);
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public InvalidMessageException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isTransient() {
    return false;
  }
}
