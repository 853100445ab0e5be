package dev.kad.reactor.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link InMemoryRecordStore} against a model of the {@link RecordStore} contract under random
 * sequences of stores, reads, expiry runs and a clock moving forward: a higher seq replaces, an
 * equal one with the same content renews, a lower one is refused; expired values are never
 * returned; every limit refuses with a reason naming it and nothing is evicted to make room; the
 * store's count and bytes always equal the model's.
 */
class InMemoryRecordStoreProperties {

  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  /** Two signers, made once: a key pair takes a while and the property needs only two. */
  private static final KeyPair[] SIGNERS = {ed25519(), ed25519()};

  private static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Property(tries = 80)
  void behavesLikeAModelOfValuesSeqsExpiryAndLimits(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 250) int steps,
      @ForAll @IntRange(min = 1, max = 4) int k,
      @ForAll @IntRange(min = 1, max = 96) int maxValueBytes,
      @ForAll @IntRange(min = 1, max = 6) int maxValuesPerKey,
      @ForAll @IntRange(min = 0, max = 3000) int extraStoredBytes,
      @ForAll @IntRange(min = 1536, max = 4096) int maxFrameBytes) {
    SplittableRandom rng = new SplittableRandom(seed);
    // Small limits, so that every one of them is reached: values per key, total bytes and the
    // key's wire budget (a few values at most with frames this small).
    KadConfig config =
        KadConfig.builder()
            .k(k)
            .maxFrameBytes(maxFrameBytes)
            .maxValueBytes(maxValueBytes)
            .maxValuesPerKey(maxValuesPerKey)
            .maxStoredBytes(maxValueBytes + KadConfig.STORED_VALUE_OVERHEAD + extraStoredBytes)
            .build();
    InMemoryRecordStore store = new InMemoryRecordStore(config);
    Model model = new Model(config);
    Key[] keys = {Key.of("a"), Key.of("b"), Key.of("c")};
    NodeId[] publishers = {NodeId.random(rng), NodeId.random(rng), NodeId.random(rng)};
    Values values = new Values(keys, publishers, maxValueBytes, rng);
    Instant now = START;
    for (int step = 0; step < steps; step++) {
      int op = rng.nextInt(20);
      if (op < 10) {
        Key key = keys[rng.nextInt(keys.length)];
        Value value = values.next(key, now);
        boolean cached = rng.nextInt(3) == 0;
        // An original is kept until its expiry (RequestHandling passes Instant.MAX); a cached
        // copy until a time of its own, possibly before or after that.
        Instant keepUntil =
            cached
                ? now.plusSeconds(1 + rng.nextInt(40))
                : rng.nextBoolean() ? Instant.MAX : value.expiresAt();
        List<StoredValue> before = store.entries(now);
        StoreOutcome outcome = store.store(key, value, keepUntil, cached, now);
        Expected expected = model.store(key, value, keepUntil, cached, now);
        assertThat(outcome.accepted())
            .as("accepted %s: %s", value, outcome)
            .isEqualTo(expected.accepted);
        assertThat(outcome.changed())
            .as("changed %s: %s", value, outcome)
            .isEqualTo(expected.changed);
        if (expected.accepted) {
          assertThat(outcome.reason()).isEmpty();
          // Nothing but the value's own older version left the store.
          List<StoredValue> after = store.entries(now);
          for (StoredValue v : before) {
            if (!v.key().equals(key) || !v.value().sameIdentity(value)) {
              assertThat(after).as("not evicted by %s", value).contains(v);
            }
          }
        } else {
          assertThat(expected.reasons)
              .as("refused %s for %s", value, outcome.reason())
              .anyMatch(outcome.reason()::contains);
          assertThat(store.entries(now))
              .as("a refusal changes nothing")
              .containsExactlyInAnyOrderElementsOf(before);
        }
      } else if (op < 15) {
        // Often to the very instant a value or a cached copy ends, where it must vanish.
        List<StoredValue> held = model.entries(now);
        if (held.isEmpty() || rng.nextBoolean()) {
          now = now.plusMillis(rng.nextInt(8000));
        } else {
          StoredValue v = held.get(rng.nextInt(held.size()));
          now =
              v.keepUntil().isBefore(v.value().expiresAt()) ? v.keepUntil() : v.value().expiresAt();
        }
      } else if (op < 16) {
        assertThat(store.expire(now)).as("dropped at %s", now).isEqualTo(model.expire(now));
      } else {
        assertThat(store.entries(now))
            .as("entries at %s", now)
            .containsExactlyInAnyOrderElementsOf(model.entries(now));
        // Those of some keys only, as a hand-over asks for them.
        Key wanted = keys[rng.nextInt(keys.length)];
        assertThat(store.entries(now, other -> !other.equals(wanted)))
            .as("entries of every key but %s at %s", wanted, now)
            .containsExactlyInAnyOrderElementsOf(
                model.entries(now).stream().filter(v -> !v.key().equals(wanted)).toList());
      }
      for (Key key : keys) {
        List<Value> held = store.get(key, now);
        assertThat(held)
            .as("values of %s at %s", key, now)
            .containsExactlyInAnyOrderElementsOf(model.get(key, now));
        assertThat(held).hasSizeLessThanOrEqualTo(maxValuesPerKey);
        assertThat(held.stream().mapToLong(config::valueWireBytes).sum())
            .as("a key's values fit one answer")
            .isLessThanOrEqualTo(config.keyWireBudget());
        for (Value v : held) {
          assertThat(v.expiresAt()).as("expired values are never returned").isAfter(now);
        }
      }
      assertThat(store.size()).as("size").isEqualTo(model.size());
      assertThat(store.storedBytes()).as("storedBytes").isEqualTo(model.storedBytes());
      assertThat(store.storedBytes()).isLessThanOrEqualTo(config.maxStoredBytes());
    }
  }

  /**
   * Values to store: often one already sent (the same again, a later expiry, a higher or lower
   * seq), sometimes signed, by either signer, for this key or another. Ed25519 is slow on JDK 17
   * (about a millisecond), so a run signs at most three values and resends them.
   */
  private static final class Values {
    final Key[] keys;
    final NodeId[] publishers;
    final int maxValueBytes;
    final SplittableRandom rng;
    final List<Value> sent = new ArrayList<>();
    final List<Value> signed = new ArrayList<>();
    int signatures;

    Values(Key[] keys, NodeId[] publishers, int maxValueBytes, SplittableRandom rng) {
      this.keys = keys;
      this.publishers = publishers;
      this.maxValueBytes = maxValueBytes;
      this.rng = rng;
      this.signatures = rng.nextInt(4);
    }

    Value next(Key key, Instant now) {
      Value v = draw(key, now);
      (v.isSigned() ? signed : sent).add(v);
      return v;
    }

    private Value draw(Key key, Instant now) {
      // The few signed values come back often: their replacement rules need them held. An
      // expired value comes back seldom: the store refuses it before anything else.
      List<Value> from = signed.isEmpty() || rng.nextBoolean() ? sent : signed;
      if (rng.nextInt(8) != 0) {
        from = from.stream().filter(v -> v.expiresAt().isAfter(now)).toList();
      }
      if (!from.isEmpty() && rng.nextInt(3) == 0) {
        Value old = from.get(rng.nextInt(from.size()));
        return switch (rng.nextInt(3)) {
          case 0 -> old;
          case 1 ->
              // A renewal: a signed one is signed again over its new expiry.
              sign(
                  old.withUpdate(old.data(), old.seq(), now.plusSeconds(1 + rng.nextInt(60))),
                  key,
                  old.isSigned());
          default ->
              sign(
                  old.withUpdate(old.data(), old.seq() + rng.nextInt(3) - 1, old.expiresAt()),
                  key,
                  old.isSigned() && rng.nextBoolean());
        };
      }
      // Few sizes and two fillings, so that values of the same seq often have the same content.
      int size =
          rng.nextInt(10) == 0
              ? maxValueBytes + 1 + rng.nextInt(8)
              : rng.nextInt(4) == 0 ? maxValueBytes : rng.nextInt(maxValueBytes + 1);
      byte[] data = new byte[size];
      Arrays.fill(data, (byte) rng.nextInt(2));
      Value v =
          Value.of(
              data,
              publishers[rng.nextInt(publishers.length)],
              rng.nextInt(2),
              rng.nextInt(4),
              now.plusSeconds(rng.nextInt(30) - 5));
      return sign(v, key, rng.nextInt(4) == 0);
    }

    private Value sign(Value v, Key key, boolean wanted) {
      if (!wanted || signatures == 0) {
        return v;
      }
      signatures--;
      // A signature for another key does not verify here.
      Key signedFor = rng.nextInt(4) == 0 ? keys[rng.nextInt(keys.length)] : key;
      return v.signedWith(signedFor, SIGNERS[rng.nextInt(SIGNERS.length)]);
    }
  }

  /** What the store should answer: accepted, changed, or the reasons that may refuse it. */
  private record Expected(boolean accepted, boolean changed, List<String> reasons) {
    static final Expected STORED = new Expected(true, true, List.of());
    static final Expected RENEWED = new Expected(true, false, List.of());
  }

  private record Identity(NodeId publisher, long valueId) {}

  /**
   * The contract as plain maps. Expired values count against the limits until an expiry run, or
   * until a store (of any key) that passes the checks of the value itself (size, expiry, signature)
   * makes room (docs/architecture.md, Expired values).
   */
  private static final class Model {
    final KadConfig config;
    final Map<Key, Map<Identity, StoredValue>> keys = new HashMap<>();

    /** Whether a signed value verifies under a key, worked out once: Ed25519 is slow. */
    final Map<Key, Map<Value, Boolean>> verified = new HashMap<>();

    Model(KadConfig config) {
      this.config = config;
    }

    Expected store(Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
      List<String> refusals = new ArrayList<>();
      if (value.size() > config.maxValueBytes()) {
        refusals.add("maxValueBytes");
      }
      if (!value.expiresAt().isAfter(now)) {
        refusals.add("expired");
      }
      if (value.isSigned()
          && !verified
              .computeIfAbsent(key, k -> new HashMap<>())
              .computeIfAbsent(value, v -> v.verifySignature(key))) {
        refusals.add("signature does not verify");
      }
      if (!refusals.isEmpty()) {
        return new Expected(false, false, refusals);
      }
      for (Map<Identity, StoredValue> held : keys.values()) {
        held.values().removeIf(v -> gone(v, now));
      }
      Map<Identity, StoredValue> values = keys.computeIfAbsent(key, k -> new LinkedHashMap<>());
      Identity identity = new Identity(value.publisher(), value.valueId());
      StoredValue old = values.get(identity);
      long wire = config.valueWireBytes(value);
      for (Map.Entry<Identity, StoredValue> e : values.entrySet()) {
        if (!e.getKey().equals(identity)) {
          wire += config.valueWireBytes(e.getValue().value());
        }
      }
      if (wire > config.keyWireBudget()) {
        refusals.add("maxFrameBytes");
      }
      Instant until = keepUntil.isBefore(value.expiresAt()) ? keepUntil : value.expiresAt();
      if (old == null) {
        if (values.size() >= config.maxValuesPerKey()) {
          refusals.add("maxValuesPerKey");
        }
        if (storedBytes() + cost(value) > config.maxStoredBytes()) {
          refusals.add("maxStoredBytes");
        }
        if (!refusals.isEmpty()) {
          return new Expected(false, false, refusals);
        }
        values.put(identity, new StoredValue(key, value, now, until, cached));
        return Expected.STORED;
      }
      Value held = old.value();
      boolean stillCached = old.cached() && cached;
      // A cached copy of an original never restarts the original's replication clock.
      Instant storedAt = cached && !old.cached() ? old.storedAt() : now;
      if (held.isSigned() && !Arrays.equals(held.publicKey(), value.publicKey())) {
        refusals.add("same key");
      }
      if (value.seq() < held.seq()) {
        refusals.add("older than the stored seq");
      } else if (value.seq() == held.seq()) {
        boolean same =
            held.equals(value)
                || Arrays.equals(held.publicKey(), value.publicKey())
                    && Arrays.equals(held.data(), value.data());
        if (!same) {
          refusals.add("already stored with different content");
        }
        if (!refusals.isEmpty()) {
          return new Expected(false, false, refusals);
        }
        // A renewal: the later expiry of the two; a cached copy keeps the later of its times,
        // an original (or a copy that met one) lasts until the value expires.
        Value kept = value.expiresAt().isAfter(held.expiresAt()) ? value : held;
        Instant later =
            stillCached
                ? (until.isAfter(old.keepUntil()) ? until : old.keepUntil())
                : kept.expiresAt();
        values.put(identity, new StoredValue(key, kept, storedAt, later, stillCached));
        return Expected.RENEWED;
      } else if (storedBytes() + cost(value) - cost(held) > config.maxStoredBytes()) {
        refusals.add("maxStoredBytes");
      }
      if (!refusals.isEmpty()) {
        return new Expected(false, false, refusals);
      }
      Instant keep = stillCached ? until : value.expiresAt();
      values.put(identity, new StoredValue(key, value, storedAt, keep, stillCached));
      return Expected.STORED;
    }

    List<Value> get(Key key, Instant now) {
      List<Value> out = new ArrayList<>();
      for (StoredValue v : keys.getOrDefault(key, Map.of()).values()) {
        if (!gone(v, now)) {
          out.add(v.value());
        }
      }
      return out;
    }

    List<StoredValue> entries(Instant now) {
      List<StoredValue> out = new ArrayList<>();
      for (Map<Identity, StoredValue> values : keys.values()) {
        for (StoredValue v : values.values()) {
          if (!gone(v, now)) {
            out.add(v);
          }
        }
      }
      return out;
    }

    int expire(Instant now) {
      int dropped = 0;
      for (Map<Identity, StoredValue> values : keys.values()) {
        Iterator<StoredValue> it = values.values().iterator();
        while (it.hasNext()) {
          if (gone(it.next(), now)) {
            it.remove();
            dropped++;
          }
        }
      }
      return dropped;
    }

    int size() {
      return keys.values().stream().mapToInt(Map::size).sum();
    }

    long storedBytes() {
      long bytes = 0;
      for (Map<Identity, StoredValue> values : keys.values()) {
        for (StoredValue v : values.values()) {
          bytes += cost(v.value());
        }
      }
      return bytes;
    }

    /** Whether a value held is no longer served: its expiry or its keep-until time came. */
    private static boolean gone(StoredValue v, Instant now) {
      return !now.isBefore(v.keepUntil()) || !now.isBefore(v.value().expiresAt());
    }

    private static long cost(Value v) {
      return (long) v.size() + KadConfig.STORED_VALUE_OVERHEAD;
    }
  }
}
