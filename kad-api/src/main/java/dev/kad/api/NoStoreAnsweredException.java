package dev.kad.api;

import java.util.Objects;
import java.util.Optional;

/**
 * A put reached no other node: none answered its stores, or its lookup found no live node among the
 * nodes this node knows. The network, not the value, is the problem, and a retry may help ({@link
 * #isTransient()}). {@link #putResult()} tells who did not answer and whether this node keeps a
 * copy: a full node among the key's closest keeps one, and republishes a value of {@link
 * KadNode#put(Key, byte[])}, which retries the replication.
 */
public class NoStoreAnsweredException extends UnreachableContactException {

  private static final long serialVersionUID = 1L;

  // PutResult is not Serializable: a deserialized exception has no put result.
  private final transient PutResult putResult;

  /**
   * The failure of a put, with its outcome.
   *
   * @param message what failed, naming the key and how many nodes were asked
   * @param putResult the put's outcome: who did not answer, and this node itself among {@link
   *     PutResult#accepted()} when it keeps a copy
   * @throws NullPointerException when {@code putResult} is null
   */
  public NoStoreAnsweredException(String message, PutResult putResult) {
    super(message);
    this.putResult = Objects.requireNonNull(putResult, "putResult");
  }

  /**
   * The outcome of the put that failed: where the value is stored nonetheless (only at this node,
   * or nowhere) and which nodes did not answer.
   *
   * @return the put's outcome; empty only for a deserialized exception
   */
  public Optional<PutResult> putResult() {
    return Optional.ofNullable(putResult);
  }
}
