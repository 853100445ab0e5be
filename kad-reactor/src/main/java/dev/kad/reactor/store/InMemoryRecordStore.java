package dev.kad.reactor.store;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The default {@link RecordStore}: values in memory, with the limits of {@link KadConfig} ({@code
 * maxValueBytes}, {@code maxValuesPerKey}, {@code maxStoredBytes}). One short lock guards the whole
 * store; nothing inside it does I/O.
 */
public final class InMemoryRecordStore implements RecordStore {

  private final KadConfig config;
  private final Map<Key, Map<Identity, StoredValue>> byKey = new HashMap<>();
  private long storedBytes;
  private int size;

  /**
   * Creates an empty store with the limits of {@code config}.
   *
   * @param config the node's configuration
   */
  public InMemoryRecordStore(KadConfig config) {
    this.config = config;
  }

  private record Identity(NodeId publisher, long valueId) {
    static Identity of(Value v) {
      return new Identity(v.publisher(), v.valueId());
    }
  }

  @Override
  public StoreOutcome store(Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(keepUntil, "keepUntil");
    Objects.requireNonNull(now, "now");
    if (value.size() > config.maxValueBytes()) {
      return StoreOutcome.rejected(
          "value of " + value.size() + " bytes exceeds maxValueBytes " + config.maxValueBytes());
    }
    if (value.isExpiredAt(now)) {
      return StoreOutcome.rejected("value expired at " + value.expiresAt());
    }
    if (value.isSigned() && !value.verifySignature(key)) {
      return StoreOutcome.rejected("value signature does not verify");
    }
    Instant until = keepUntil.isBefore(value.expiresAt()) ? keepUntil : value.expiresAt();
    synchronized (this) {
      Map<Identity, StoredValue> values = byKey.computeIfAbsent(key, k -> new LinkedHashMap<>());
      // Values of the key that expired make room at once, not at the next expiry run: until
      // then they counted against maxValuesPerKey and maxStoredBytes though no one saw them.
      dropExpired(values, now);
      Identity identity = Identity.of(value);
      StoredValue old = values.get(identity);
      String overBudget = overBudget(key, values, identity, value, now);
      if (overBudget != null) {
        removeIfEmpty(key, values);
        return StoreOutcome.rejected(overBudget);
      }
      if (old == null) {
        if (values.size() >= config.maxValuesPerKey()) {
          removeIfEmpty(key, values);
          return StoreOutcome.rejected(
              "key "
                  + key.toShortHex()
                  + " already holds maxValuesPerKey "
                  + config.maxValuesPerKey()
                  + " values");
        }
        if (storedBytes + cost(value) > config.maxStoredBytes()) {
          removeIfEmpty(key, values);
          return StoreOutcome.rejected(
              "storing "
                  + cost(value)
                  + " bytes would exceed maxStoredBytes "
                  + config.maxStoredBytes());
        }
        put(values, identity, new StoredValue(key, value, now, until, cached));
        return StoreOutcome.stored();
      }
      return replace(values, identity, old, value, until, cached, now);
    }
  }

  private StoreOutcome replace(
      Map<Identity, StoredValue> values,
      Identity identity,
      StoredValue old,
      Value value,
      Instant until,
      boolean cached,
      Instant now) {
    Value held = old.value();
    if (held.isSigned() && !Arrays.equals(held.publicKey(), value.publicKey())) {
      return StoreOutcome.rejected(
          "value is signed: a replacement must be signed with the same key");
    }
    if (value.seq() < held.seq()) {
      return StoreOutcome.rejected(
          "seq " + value.seq() + " is older than the stored seq " + held.seq());
    }
    // An original stays an original: a cached copy arriving later never downgrades it.
    boolean stillCached = old.cached() && cached;
    if (value.seq() == held.seq()) {
      if (!sameContent(held, value)) {
        return StoreOutcome.rejected(
            "seq " + value.seq() + " is already stored with different content");
      }
      // The same value again, possibly republished with a later expiry: a renewal.
      Value kept = value.expiresAt().isAfter(held.expiresAt()) ? value : held;
      Instant later = stillCached ? max(until, old.keepUntil()) : kept.expiresAt();
      values.put(identity, new StoredValue(old.key(), kept, now, later, stillCached));
      return StoreOutcome.renewed();
    }
    long grown = cost(value) - cost(held);
    if (storedBytes + grown > config.maxStoredBytes()) {
      return StoreOutcome.rejected(
          "storing "
              + cost(value)
              + " bytes would exceed maxStoredBytes "
              + config.maxStoredBytes());
    }
    drop(values, identity, old);
    Instant keep = stillCached ? until : value.expiresAt();
    put(values, identity, new StoredValue(old.key(), value, now, keep, stillCached));
    return StoreOutcome.stored();
  }

  @Override
  public synchronized List<Value> get(Key key, Instant now) {
    Map<Identity, StoredValue> values = byKey.get(key);
    if (values == null) {
      return List.of();
    }
    List<Value> out = new ArrayList<>(values.size());
    for (StoredValue v : values.values()) {
      if (!v.isExpiredAt(now)) {
        out.add(v.value());
      }
    }
    return out;
  }

  @Override
  public synchronized List<StoredValue> entries(Instant now) {
    List<StoredValue> out = new ArrayList<>(size);
    for (Map<Identity, StoredValue> values : byKey.values()) {
      for (StoredValue v : values.values()) {
        if (!v.isExpiredAt(now)) {
          out.add(v);
        }
      }
    }
    return out;
  }

  @Override
  public synchronized int expire(Instant now) {
    int dropped = 0;
    Iterator<Map<Identity, StoredValue>> keys = byKey.values().iterator();
    while (keys.hasNext()) {
      Map<Identity, StoredValue> values = keys.next();
      dropped += dropExpired(values, now);
      if (values.isEmpty()) {
        keys.remove();
      }
    }
    return dropped;
  }

  @Override
  public synchronized int size() {
    return size;
  }

  @Override
  public synchronized long storedBytes() {
    return storedBytes;
  }

  /** Equal but for the expiry of an unsigned value (a signature covers the expiry). */
  private static boolean sameContent(Value a, Value b) {
    return a.equals(b) || !a.isSigned() && !b.isSigned() && Arrays.equals(a.data(), b.data());
  }

  /** Why {@code value} would take the key's values over what one message carries, or null. */
  private String overBudget(
      Key key, Map<Identity, StoredValue> values, Identity identity, Value value, Instant now) {
    long bytes = config.valueWireBytes(value);
    for (Map.Entry<Identity, StoredValue> e : values.entrySet()) {
      if (!e.getKey().equals(identity) && !e.getValue().isExpiredAt(now)) {
        bytes += config.valueWireBytes(e.getValue().value());
      }
    }
    long budget = config.keyWireBudget();
    return bytes <= budget
        ? null
        : "key "
            + key.toShortHex()
            + " would hold "
            + bytes
            + " bytes of values encoded, more than the "
            + budget
            + " one message carries (maxFrameBytes)";
  }

  /** What a value counts against maxStoredBytes: its payload and what is kept with it. */
  private static long cost(Value v) {
    return (long) v.size() + KadConfig.STORED_VALUE_OVERHEAD;
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private void put(Map<Identity, StoredValue> values, Identity identity, StoredValue v) {
    values.put(identity, v);
    storedBytes += cost(v.value());
    size++;
  }

  private void drop(Map<Identity, StoredValue> values, Identity identity, StoredValue v) {
    values.remove(identity);
    storedBytes -= cost(v.value());
    size--;
  }

  /** Drops the expired values of one key; returns how many. */
  private int dropExpired(Map<Identity, StoredValue> values, Instant now) {
    int dropped = 0;
    Iterator<StoredValue> it = values.values().iterator();
    while (it.hasNext()) {
      StoredValue v = it.next();
      if (v.isExpiredAt(now)) {
        it.remove();
        storedBytes -= cost(v.value());
        size--;
        dropped++;
      }
    }
    return dropped;
  }

  private void removeIfEmpty(Key key, Map<Identity, StoredValue> values) {
    if (values.isEmpty()) {
      byKey.remove(key);
    }
  }
}
