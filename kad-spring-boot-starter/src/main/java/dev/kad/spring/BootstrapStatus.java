package dev.kad.spring;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the node's joining stands, as the health indicator reports it.
 *
 * @param state where joining stands
 * @param at when it reached that state
 * @param error the last failure's message, empty unless {@code state} is {@code FAILED}
 * @param attempts the bootstrap attempts of the current run of joining so far, the one under way
 *     included: a run is the first join, or one rejoin, and ends when the node has joined
 * @param rejoin whether the current run (or the last, once it ended) is a rejoin: the node had
 *     joined, then lost every contact or heard from no node for longer than the silence threshold
 * @param ownSeed whether a bootstrap found this node among its own seeds (every node of a cluster
 *     given the same seed list): it is the first node of its network, up like a node without
 *     bootstrap addresses while it knows no contact or hears from none of those it knows (waiting
 *     for peers), whether every seed is itself ({@code DONE}) or the others have not answered yet
 *     ({@code FAILED}, retried)
 */
public record BootstrapStatus(
    State state,
    Instant at,
    Optional<String> error,
    int attempts,
    boolean rejoin,
    boolean ownSeed) {

  /**
   * Checks the status.
   *
   * @param state where joining stands
   * @param at when it reached that state
   * @param error the last failure's message, empty unless {@code state} is {@code FAILED}
   * @param attempts the bootstrap attempts of the current run so far, at least zero
   * @param rejoin whether the current run is a rejoin
   * @param ownSeed whether a bootstrap found this node among its own seeds
   * @throws IllegalArgumentException when {@code attempts} is negative
   */
  public BootstrapStatus {
    Objects.requireNonNull(state, "state");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(error, "error");
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must not be negative but was " + attempts);
    }
  }

  /**
   * A status of a node not known to be among its own seeds.
   *
   * @param state where joining stands
   * @param at when it reached that state
   * @param error the last failure's message, empty unless {@code state} is {@code FAILED}
   * @param attempts the bootstrap attempts of the current run so far, at least zero
   * @param rejoin whether the current run is a rejoin
   * @throws IllegalArgumentException when {@code attempts} is negative
   */
  public BootstrapStatus(
      State state, Instant at, Optional<String> error, int attempts, boolean rejoin) {
    this(state, at, error, attempts, rejoin, false);
  }

  /**
   * A status outside any rejoin, with no attempt counted.
   *
   * @param state where joining stands
   * @param at when it reached that state
   * @param error the last failure's message, empty unless {@code state} is {@code FAILED}
   */
  public BootstrapStatus(State state, Instant at, Optional<String> error) {
    this(state, at, error, 0, false);
  }

  /**
   * Whether the node is trying to join again after it had joined: a rejoin runs and has not
   * succeeded yet.
   *
   * @return true while a rejoin's attempts go on
   */
  public boolean rejoining() {
    return rejoin && (state == State.RUNNING || state == State.FAILED);
  }

  /** Where joining stands. */
  public enum State {
    /** No bootstrap addresses were configured: the node is the first of its network. */
    NOT_CONFIGURED,
    /** A run of joining is under way and none of its attempts has failed yet. */
    RUNNING,
    /**
     * Joined: a bootstrap succeeded (through a seed, or as the first node of its network when every
     * seed is the node itself), or a rejoining node is evidently back in its network (it knows a
     * contact and has heard from a node within the silence threshold) though its seeds did not
     * answer.
     */
    DONE,
    /**
     * The last attempt failed: no seed (other than the node itself) answered; attempts go on with
     * back-off.
     */
    FAILED
  }
}
