package dev.kad.reactor.store;

import java.util.Objects;

/**
 * What a store did with one value.
 *
 * @param accepted whether the value is now held
 * @param changed whether what the key holds changed (a new value, or a higher seq): the trigger for
 *     notifying watchers
 * @param reason why it was refused, empty when accepted
 */
public record StoreOutcome(boolean accepted, boolean changed, String reason) {

  private static final StoreOutcome CHANGED = new StoreOutcome(true, true, "");
  private static final StoreOutcome REFRESHED = new StoreOutcome(true, false, "");

  /**
   * Checks the parts.
   *
   * @param accepted whether the value is now held
   * @param changed whether what the key holds changed
   * @param reason why it was refused
   */
  public StoreOutcome {
    Objects.requireNonNull(reason, "reason");
  }

  /**
   * The value was new or replaced an older one.
   *
   * @return the outcome
   */
  public static StoreOutcome stored() {
    return CHANGED;
  }

  /**
   * The value was already held; its time was renewed.
   *
   * @return the outcome
   */
  public static StoreOutcome renewed() {
    return REFRESHED;
  }

  /**
   * The value was refused.
   *
   * @param reason why, naming the limit and value involved
   * @return the outcome
   */
  public static StoreOutcome rejected(String reason) {
    return new StoreOutcome(false, false, reason);
  }
}
