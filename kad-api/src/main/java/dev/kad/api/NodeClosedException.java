package dev.kad.api;

/** The operation was started or still running when its node was closed. */
public class NodeClosedException extends KadException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message naming what failed.
   *
   * @param message what failed, naming the contact, key or limit involved
   */
  public NodeClosedException(String message) {
    super(message);
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public NodeClosedException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isTransient() {
    return false;
  }
}
