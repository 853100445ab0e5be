package dev.kad.api;

/** A contact could not be reached: the connection failed or closed, or no seed answered. */
public class UnreachableContactException extends KadException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message naming what failed.
   *
   * @param message what failed, naming the contact, key or limit involved
   */
  public UnreachableContactException(String message) {
    super(message);
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public UnreachableContactException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isTransient() {
    return true;
  }
}
