package dev.kad.api;

/** A node refused to store a value (over a limit, expired, or a signature mismatch). */
public class StoreRejectedException extends KadException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message naming what failed.
   *
   * @param message what failed, naming the contact, key or limit involved
   */
  public StoreRejectedException(String message) {
    super(message);
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public StoreRejectedException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isTransient() {
    return false;
  }
}
