package dev.kad.reactor.store;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;
import java.util.function.Predicate;

/**
 * The default {@link RecordStore}: values in memory, with the limits of {@link KadConfig} ({@code
 * maxValueBytes}, {@code maxValuesPerKey}, {@code maxStoredBytes}). One short lock guards the whole
 * store; nothing inside it does I/O.
 *
 * <p>Values are also indexed by the instant they go (their expiry, or a cached copy's earlier
 * time), so every store first drops the values of every key whose time has come, at O(log n) each
 * and O(log n) when there are none: an expired value never counts against a limit at a store, and
 * an expiry run costs what it drops, not a scan of the store.
 */
public final class InMemoryRecordStore implements RecordStore {

  private final KadConfig config;
  private final Map<Key, Map<Identity, StoredValue>> byKey = new HashMap<>();

  /** Every value held, once, by when it goes: soonest first. */
  private final TreeSet<Due> byExpiry = new TreeSet<>();

  private long storedBytes;
  private int size;

  /**
   * Creates an empty store with the limits of {@code config}.
   *
   * @param config the node's configuration
   * @throws NullPointerException when {@code config} is null
   */
  public InMemoryRecordStore(KadConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  private record Identity(NodeId publisher, long valueId) {
    static Identity of(Value v) {
      return new Identity(v.publisher(), v.valueId());
    }
  }

  /** When a value held goes, and which one it is: an entry of the expiry index. */
  private record Due(Instant at, Key key, Identity identity) implements Comparable<Due> {
    static Due of(StoredValue v, Identity identity) {
      Instant expires = v.value().expiresAt();
      return new Due(v.keepUntil().isBefore(expires) ? v.keepUntil() : expires, v.key(), identity);
    }

    @Override
    public int compareTo(Due other) {
      int c = at.compareTo(other.at);
      if (c == 0) {
        c = key.compareTo(other.key);
      }
      if (c == 0) {
        c = identity.publisher().compareTo(other.identity.publisher());
      }
      return c != 0 ? c : Long.compare(identity.valueId(), other.identity.valueId());
    }
  }

  @Override
  public StoreOutcome store(Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
    Optional<StoreOutcome> bad = signatureRejection(key, value);
    return bad.isPresent() ? bad.get() : storeVerified(key, value, keepUntil, cached, now);
  }

  /**
   * The refusal of a signed value whose signature does not hold for {@code key}: a check that takes
   * about a millisecond, done before any lock is taken.
   *
   * @return the refusal, or empty for an unsigned value or a good signature
   */
  static Optional<StoreOutcome> signatureRejection(Key key, Value value) {
    if (!value.isSigned()) {
      return Optional.empty();
    }
    // The reason names the part at fault: "value signature does not verify", or a public key of
    // small order (under which anyone can sign), or a non-canonical key or signature.
    return value.signatureProblem(key).map(problem -> StoreOutcome.rejected("value " + problem));
  }

  /**
   * {@link #store} of a value whose signature, if any, was checked by the caller ({@link
   * #signatureRejection}) or when it was first stored (a {@link FileRecordStore} replaying its
   * log).
   */
  StoreOutcome storeVerified(Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
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
    Instant until = keepUntil.isBefore(value.expiresAt()) ? keepUntil : value.expiresAt();
    synchronized (this) {
      // Values that expired, of every key, make room at once, not at the next expiry run (never,
      // with that job off): until then they counted against maxValuesPerKey and maxStoredBytes
      // though no one saw them.
      purge(now);
      Map<Identity, StoredValue> values = byKey.computeIfAbsent(key, k -> new LinkedHashMap<>());
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
    // An original stays an original: a cached copy arriving later never downgrades it, and never
    // restarts its replication clock either. Replication skips a value received by Store within
    // the interval, trusting that its sender stored it at the other k - 1 closest nodes too
    // (Kademlia §4.1); the sender of a cached copy stored it here alone (§2.5).
    boolean stillCached = old.cached() && cached;
    Instant storedAt = cached && !old.cached() ? old.storedAt() : now;
    if (value.seq() == held.seq()) {
      if (!sameContent(held, value)) {
        return StoreOutcome.rejected(
            "seq " + value.seq() + " is already stored with different content");
      }
      // The same value again, possibly republished with a later expiry: a renewal.
      Value kept = value.expiresAt().isAfter(held.expiresAt()) ? value : held;
      Instant later = stillCached ? max(until, old.keepUntil()) : kept.expiresAt();
      renew(values, identity, old, new StoredValue(old.key(), kept, storedAt, later, stillCached));
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
    put(values, identity, new StoredValue(old.key(), value, storedAt, keep, stillCached));
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
  public synchronized List<StoredValue> entries(Instant now, Predicate<Key> wanted) {
    List<StoredValue> out = new ArrayList<>();
    for (Map.Entry<Key, Map<Identity, StoredValue>> e : byKey.entrySet()) {
      if (!wanted.test(e.getKey())) {
        continue;
      }
      for (StoredValue v : e.getValue().values()) {
        if (!v.isExpiredAt(now)) {
          out.add(v);
        }
      }
    }
    return out;
  }

  @Override
  public synchronized int expire(Instant now) {
    return purge(now);
  }

  @Override
  public synchronized int size() {
    return size;
  }

  @Override
  public synchronized long storedBytes() {
    return storedBytes;
  }

  /**
   * Equal but for the expiry, and for a signed value the signature over it: the same data signed
   * with the same key (each signature verified before it gets here). A publisher that renews a
   * signed value signs its new expiry, keeping the seq, so that the renewal is not a change.
   */
  private static boolean sameContent(Value a, Value b) {
    return a.equals(b)
        || Arrays.equals(a.publicKey(), b.publicKey()) && Arrays.equals(a.data(), b.data());
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
    byExpiry.add(Due.of(v, identity));
    storedBytes += cost(v.value());
    size++;
  }

  private void drop(Map<Identity, StoredValue> values, Identity identity, StoredValue v) {
    values.remove(identity);
    byExpiry.remove(Due.of(v, identity));
    storedBytes -= cost(v.value());
    size--;
  }

  /** The same value held on with new times: the same bytes, another place in the index. */
  private void renew(
      Map<Identity, StoredValue> values, Identity identity, StoredValue old, StoredValue v) {
    byExpiry.remove(Due.of(old, identity));
    values.put(identity, v);
    byExpiry.add(Due.of(v, identity));
  }

  /** Drops every value, of every key, that expired at {@code now}; returns how many. */
  private int purge(Instant now) {
    int dropped = 0;
    while (!byExpiry.isEmpty() && !byExpiry.first().at().isAfter(now)) {
      Due due = byExpiry.pollFirst();
      Map<Identity, StoredValue> values = byKey.get(due.key());
      StoredValue v = values.remove(due.identity());
      storedBytes -= cost(v.value());
      size--;
      dropped++;
      if (values.isEmpty()) {
        byKey.remove(due.key());
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
