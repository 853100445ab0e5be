package dev.kad.reactor.store;

import dev.kad.api.Key;
import dev.kad.api.Value;
import java.time.Instant;
import java.util.Objects;

/**
 * A value as a store holds it.
 *
 * @param key the key it is stored under
 * @param value the value
 * @param storedAt when it was last received by a Store request (the replication rule skips values
 *     received within the replication interval); a cached copy of an original held does not count,
 *     as its sender stored it at this node alone
 * @param keepUntil when this node drops it: the value's expiry, or earlier for a cached copy
 * @param cached whether it is a cached copy left by a lookup rather than a stored original
 */
public record StoredValue(
    Key key, Value value, Instant storedAt, Instant keepUntil, boolean cached) {

  /**
   * Checks the parts.
   *
   * @param key the key
   * @param value the value
   * @param storedAt when it was last received
   * @param keepUntil when this node drops it
   * @param cached whether it is a cached copy
   */
  public StoredValue {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(storedAt, "storedAt");
    Objects.requireNonNull(keepUntil, "keepUntil");
  }

  /**
   * Whether this node no longer serves the value at {@code now}.
   *
   * @param now the current instant
   * @return true once the value expired or the cached copy's time ran out
   */
  public boolean isExpiredAt(Instant now) {
    return !now.isBefore(keepUntil) || value.isExpiredAt(now);
  }
}
