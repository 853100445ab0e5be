package dev.kad.spring;

import java.time.Instant;
import java.util.Optional;

/**
 * The outcome of the node's last bootstrap, as the health indicator reports it.
 *
 * @param state where bootstrapping stands
 * @param at when it reached that state
 * @param error the failure's message, empty unless {@code state} is {@code FAILED}
 */
public record BootstrapStatus(State state, Instant at, Optional<String> error) {

  /** Where bootstrapping stands. */
  public enum State {
    /** No bootstrap addresses were configured: the node is the first of its network. */
    NOT_CONFIGURED,
    /** Joining is under way. */
    RUNNING,
    /** Joined. */
    DONE,
    /** No seed answered, or the join failed. */
    FAILED
  }
}
