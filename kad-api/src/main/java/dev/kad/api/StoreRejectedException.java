package dev.kad.api;

import java.util.Objects;
import java.util.Optional;

/**
 * A node refused to store a value (over a limit, expired, or a signature mismatch). From {@link
 * KadNode#put(Key, byte[])}: other nodes answered the put and none of them accepted the value;
 * {@link #putResult()} tells which refused and why, and whether this node keeps a copy.
 */
public class StoreRejectedException extends KadException {

  private static final long serialVersionUID = 1L;

  // PutResult is not Serializable: a deserialized exception has no put result.
  private final transient PutResult putResult;

  /** Whether every refusal was for the moment ({@code RATE_LIMITED}), so a retry may succeed. */
  private final boolean retryable;

  /**
   * An exception with a message naming what failed.
   *
   * @param message what failed, naming the contact, key or limit involved
   */
  public StoreRejectedException(String message) {
    super(message);
    this.putResult = null;
    this.retryable = false;
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what failed
   * @param cause the underlying failure
   */
  public StoreRejectedException(String message, Throwable cause) {
    super(message, cause);
    this.putResult = null;
    this.retryable = false;
  }

  /**
   * The failure of a put, with its outcome.
   *
   * @param message what failed, naming the key and the refusals
   * @param putResult the put's outcome: who refused and why, who did not answer, and this node
   *     itself among {@link PutResult#accepted()} when it keeps a copy
   * @throws NullPointerException when {@code putResult} is null
   */
  public StoreRejectedException(String message, PutResult putResult) {
    this(message, putResult, false);
  }

  /**
   * The failure of a put, with its outcome, that a retry may mend: every node refused only for the
   * moment ({@code RATE_LIMITED}: it was over its requests per second from this node's address).
   *
   * @param message what failed, naming the key and the refusals
   * @param putResult the put's outcome
   * @param retryable true when every refusal was for the moment, so {@link #isTransient()} is true
   * @throws NullPointerException when {@code putResult} is null
   */
  public StoreRejectedException(String message, PutResult putResult, boolean retryable) {
    super(message);
    this.putResult = Objects.requireNonNull(putResult, "putResult");
    this.retryable = retryable;
  }

  /**
   * The outcome of the put that failed, when this exception comes from one: where the value is
   * stored nonetheless (only at this node, or nowhere), who refused it and why, who did not answer.
   *
   * @return the put's outcome; empty when the exception was made without one, or deserialized
   */
  public Optional<PutResult> putResult() {
    return Optional.ofNullable(putResult);
  }

  /**
   * Whether a retry may succeed: only when every node refused for the moment ({@code
   * RATE_LIMITED}); a value refused for what it is (too large, expired, a bad signature, a full
   * store) is refused again.
   *
   * @return true when every refusal was {@code RATE_LIMITED}
   */
  @Override
  public boolean isTransient() {
    return retryable;
  }
}
