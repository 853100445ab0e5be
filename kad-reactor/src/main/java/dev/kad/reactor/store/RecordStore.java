package dev.kad.reactor.store;

import dev.kad.api.Key;
import dev.kad.api.Value;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;

/**
 * Where a node keeps the values it stores for the network. A key holds a set of values, each
 * identified by {@code (publisher, valueId)}; a higher {@code seq} replaces a lower one. The same
 * {@code seq} with the same data (and, for a signed value, the same public key, its new signature
 * verified) and a later expiry is a renewal: the later expiry is kept, and it is no change (the
 * publisher's republish, which re-signs a signed value since the signature covers the expiry). The
 * same {@code seq} with other content is refused. Expired values are never returned. Limits reject
 * with a reason; a store never evicts a value silently to make room. Besides the configured counts
 * and bytes, a store refuses a value that would take its key's values over {@link
 * dev.kad.api.KadConfig#keyWireBudget()}, so that whatever it holds for a key fits one answer.
 *
 * <p>Implementations are thread-safe and fast: the engine calls them on its scheduler, so they must
 * not block (a persistent store keeps an in-memory index and writes behind).
 */
public interface RecordStore {

  /**
   * Stores one value.
   *
   * @param key the key
   * @param value the value
   * @param keepUntil when to drop it at the latest (its expiry, or earlier for a cached copy)
   * @param cached whether it is a cached copy from a lookup; a cached copy never downgrades an
   *     original already held, shortens its time or restarts its {@link StoredValue#storedAt()}
   * @param now the current instant
   * @return whether it was accepted and changed what the key holds, or why it was refused
   */
  StoreOutcome store(Key key, Value value, Instant keepUntil, boolean cached, Instant now);

  /**
   * The values held for {@code key} that have not expired.
   *
   * @param key the key
   * @param now the current instant
   * @return the values, in no particular order
   */
  List<Value> get(Key key, Instant now);

  /**
   * Every value held that has not expired, with its bookkeeping.
   *
   * @param now the current instant
   * @return the stored values
   */
  List<StoredValue> entries(Instant now);

  /**
   * The values held for the keys {@code wanted} accepts that have not expired, with their
   * bookkeeping: for a caller that rules out most keys by the key alone (the hand-over to a new
   * node), so that a store need not copy every value to return a few. The default filters {@link
   * #entries(Instant)}; a store with an index by key tests each key once.
   *
   * @param now the current instant
   * @param wanted whether the values of a key are wanted; cheap, and called under the store's lock
   *     by stores that have one
   * @return the stored values of the wanted keys
   */
  default List<StoredValue> entries(Instant now, Predicate<Key> wanted) {
    return entries(now).stream().filter(v -> wanted.test(v.key())).toList();
  }

  /**
   * Drops every value that expired at {@code now}.
   *
   * @param now the current instant
   * @return how many values were dropped
   */
  int expire(Instant now);

  /**
   * The number of values held (expired ones may be included until {@link #expire(Instant)}).
   *
   * @return the count
   */
  int size();

  /**
   * The bytes held, as counted against {@link dev.kad.api.KadConfig#maxStoredBytes()}.
   *
   * @return the sum of the values' sizes plus {@link dev.kad.api.KadConfig#STORED_VALUE_OVERHEAD}
   *     each
   */
  long storedBytes();
}
