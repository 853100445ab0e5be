package dev.kad.api;

/**
 * A value larger than the node's {@link KadConfig#maxValueBytes()}, refused by {@code put} at call
 * time. An {@link IllegalArgumentException} like every bad argument; its own type and figures let a
 * caller answer it apart from other bad input (an HTTP service may answer 413).
 */
public final class ValueTooLargeException extends IllegalArgumentException {

  private static final long serialVersionUID = 1L;

  /** The refused value's size in bytes. */
  private final int size;

  /** The largest size the node accepts, in bytes. */
  private final int limit;

  /**
   * An exception naming both figures.
   *
   * @param size the value's size in bytes
   * @param limit the largest size the node accepts
   */
  public ValueTooLargeException(int size, int limit) {
    super("value of " + size + " bytes exceeds maxValueBytes " + limit);
    this.size = size;
    this.limit = limit;
  }

  /**
   * The refused value's size.
   *
   * @return its size in bytes
   */
  public int size() {
    return size;
  }

  /**
   * The limit the value exceeds.
   *
   * @return {@link KadConfig#maxValueBytes()} of the node that refused it
   */
  public int limit() {
    return limit;
  }
}
