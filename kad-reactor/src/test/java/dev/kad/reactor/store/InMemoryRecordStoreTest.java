package dev.kad.reactor.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class InMemoryRecordStoreTest {

  private final SplittableRandom rng = new SplittableRandom(3);
  private final NodeId alice = NodeId.random(rng);
  private final NodeId bob = NodeId.random(rng);
  private final Key key = Key.of("k");
  private final Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final Instant day = now.plus(Duration.ofDays(1));

  private InMemoryRecordStore store(KadConfig.Builder config) {
    return new InMemoryRecordStore(config.build());
  }

  private InMemoryRecordStore store() {
    return store(KadConfig.builder());
  }

  private StoreOutcome put(RecordStore s, Value v) {
    return s.store(key, v, v.expiresAt(), false, now);
  }

  @Test
  void aKeyHoldsOneValuePerPublisherAndValueId() {
    RecordStore s = store();
    assertThat(put(s, Value.of(new byte[] {1}, alice, 1, 1, day))).isEqualTo(StoreOutcome.stored());
    assertThat(put(s, Value.of(new byte[] {2}, alice, 2, 1, day)).changed()).isTrue();
    assertThat(put(s, Value.of(new byte[] {3}, bob, 1, 1, day)).changed()).isTrue();
    assertThat(s.get(key, now)).hasSize(3);
    assertThat(s.get(Key.of("other"), now)).isEmpty();
  }

  @Test
  void higherSeqReplacesAndLowerIsRefusedWithAReason() {
    RecordStore s = store();
    put(s, Value.of(new byte[] {1}, alice, 1, 5, day));
    assertThat(put(s, Value.of(new byte[] {2}, alice, 1, 6, day)).changed()).isTrue();
    assertThat(s.get(key, now)).singleElement().extracting(Value::seq).isEqualTo(6L);
    StoreOutcome older = put(s, Value.of(new byte[] {3}, alice, 1, 4, day));
    assertThat(older.accepted()).isFalse();
    assertThat(older.reason()).contains("seq 4 is older than the stored seq 6");
    assertThat(s.get(key, now)).singleElement().extracting(Value::seq).isEqualTo(6L);
  }

  @Test
  void theSameValueAgainRenewsWithoutCountingAsAChange() {
    RecordStore s = store();
    Value v = Value.of(new byte[] {1}, alice, 1, 1, day);
    put(s, v);
    assertThat(put(s, v)).isEqualTo(StoreOutcome.renewed());
    assertThat(s.size()).isEqualTo(1);
    assertThat(s.storedBytes()).isEqualTo(1 + KadConfig.STORED_VALUE_OVERHEAD);
  }

  @Test
  void expiredValuesAreNeverReturnedAndExpireDropsThem() {
    RecordStore s = store();
    put(s, Value.of(new byte[] {1, 2}, alice, 1, 1, now.plusSeconds(10)));
    put(s, Value.of(new byte[] {3}, bob, 1, 1, day));
    assertThat(s.get(key, now.plusSeconds(9))).hasSize(2);
    assertThat(s.get(key, now.plusSeconds(10))).hasSize(1);
    assertThat(s.entries(now.plusSeconds(10))).hasSize(1);
    assertThat(s.expire(now.plusSeconds(10))).isEqualTo(1);
    assertThat(s.size()).isEqualTo(1);
    assertThat(s.storedBytes()).isEqualTo(1 + KadConfig.STORED_VALUE_OVERHEAD);
  }

  @Test
  void anAlreadyExpiredValueIsRefused() {
    StoreOutcome outcome = put(store(), Value.of(new byte[] {1}, alice, 1, 1, now));
    assertThat(outcome.accepted()).isFalse();
    assertThat(outcome.reason()).contains("expired");
  }

  @Test
  void limitsRefuseWithAReasonAndNeverEvict() {
    int overhead = KadConfig.STORED_VALUE_OVERHEAD;
    RecordStore s =
        store(
            KadConfig.builder()
                .maxValuesPerKey(2)
                .maxValueBytes(4)
                .maxStoredBytes(6 + 2L * overhead));
    assertThat(put(s, Value.of(new byte[5], alice, 1, 1, day)).reason())
        .isEqualTo("value of 5 bytes exceeds maxValueBytes 4");
    put(s, Value.of(new byte[4], alice, 1, 1, day));
    put(s, Value.of(new byte[1], alice, 2, 1, day));
    assertThat(put(s, Value.of(new byte[1], alice, 3, 1, day)).reason())
        .contains("already holds maxValuesPerKey 2 values");
    assertThat(
            s.store(Key.of("b"), Value.of(new byte[2], bob, 1, 1, day), day, false, now).reason())
        .isEqualTo(
            "storing "
                + (2 + overhead)
                + " bytes would exceed maxStoredBytes "
                + (6 + 2 * overhead));
    assertThat(s.get(key, now)).hasSize(2);
    assertThat(s.storedBytes()).isEqualTo(5 + 2 * overhead);
  }

  @Test
  void emptyValuesStillCountAgainstTheStoreLimit() {
    int overhead = KadConfig.STORED_VALUE_OVERHEAD;
    RecordStore s = store(KadConfig.builder().maxValueBytes(4).maxStoredBytes(10L * overhead));
    int accepted = 0;
    for (int i = 0; i < 100; i++) {
      Key k = Key.of("empty-" + i);
      if (s.store(k, Value.of(new byte[0], alice, i, 1, day), day, false, now).accepted()) {
        accepted++;
      }
    }
    assertThat(accepted).isEqualTo(10);
    assertThat(s.storedBytes()).isEqualTo(10L * overhead);
  }

  @Test
  void aCachedCopyExpiresAtItsOwnTimeAndNeverDowngradesAnOriginal() {
    RecordStore s = store();
    Value v = Value.of(new byte[] {1}, alice, 1, 1, day);
    s.store(key, v, now.plusSeconds(60), true, now);
    assertThat(s.get(key, now.plusSeconds(59))).containsExactly(v);
    assertThat(s.get(key, now.plusSeconds(60))).isEmpty();

    RecordStore original = store();
    put(original, v);
    original.store(key, v, now.plusSeconds(60), true, now);
    assertThat(original.get(key, now.plusSeconds(61))).containsExactly(v);
    assertThat(original.entries(now).get(0).cached()).isFalse();
  }

  @Test
  void storedAtIsTheLastTimeAStoreArrived() {
    RecordStore s = store();
    Value v = Value.of(new byte[] {1}, alice, 1, 1, day);
    put(s, v);
    s.store(key, v, day, false, now.plusSeconds(30));
    assertThat(s.entries(now.plusSeconds(31)).get(0).storedAt()).isEqualTo(now.plusSeconds(30));
  }

  @Test
  void aCachedCopyOfAnOriginalLeavesItsReplicationClockAndItsExpiry() {
    RecordStore s = store();
    Value v = Value.of(new byte[] {1}, alice, 1, 1, day);
    put(s, v);
    Instant later = now.plusSeconds(30);
    assertThat(s.store(key, v, later.plusSeconds(60), true, later).accepted()).isTrue();
    assertThat(s.entries(later))
        .singleElement()
        .isEqualTo(new StoredValue(key, v, now, day, false));

    // A newer version arriving as a cached copy: an original still, on the same clock.
    Value newer = Value.of(new byte[] {2}, alice, 1, 2, day);
    assertThat(s.store(key, newer, later.plusSeconds(60), true, later).changed()).isTrue();
    assertThat(s.entries(later))
        .singleElement()
        .isEqualTo(new StoredValue(key, newer, now, day, false));
  }

  @Test
  void aSignedValueIsReplacedOnlyUnderTheSameKey() throws Exception {
    var generator = KeyPairGenerator.getInstance("Ed25519");
    var owner = generator.generateKeyPair();
    var intruder = generator.generateKeyPair();
    RecordStore s = store();
    Value v1 = Value.of(new byte[] {1}, alice, 1, 1, day).signedWith(key, owner);
    assertThat(put(s, v1).accepted()).isTrue();
    Value forged = Value.of(new byte[] {9}, alice, 1, 2, day).signedWith(key, intruder);
    assertThat(put(s, forged).reason()).contains("same key");
    Value unsigned = Value.of(new byte[] {9}, alice, 1, 2, day);
    assertThat(put(s, unsigned).accepted()).isFalse();
    Value v2 = Value.of(new byte[] {2}, alice, 1, 2, day).signedWith(key, owner);
    assertThat(put(s, v2).changed()).isTrue();
    assertThat(s.get(key, now)).containsExactly(v2);
  }

  @Test
  void aSignedValueSignedAgainWithALaterExpiryIsARenewalNotAChange() throws Exception {
    var generator = KeyPairGenerator.getInstance("Ed25519");
    var owner = generator.generateKeyPair();
    RecordStore s = store();
    Value v1 = Value.of(new byte[] {1}, alice, 1, 1, day).signedWith(key, owner);
    assertThat(put(s, v1).accepted()).isTrue();
    // What a publisher's republish sends: the same seq and data, its new expiry signed.
    Value renewed =
        Value.of(new byte[] {1}, alice, 1, 1, day.plus(Duration.ofDays(1))).signedWith(key, owner);
    assertThat(put(s, renewed)).isEqualTo(StoreOutcome.renewed());
    assertThat(s.get(key, day.plusSeconds(1))).containsExactly(renewed);
    // An earlier expiry arriving late leaves the later one.
    assertThat(put(s, v1)).isEqualTo(StoreOutcome.renewed());
    assertThat(s.get(key, now)).containsExactly(renewed);
    // Other data at the same seq, or the same data under another key, is still no renewal.
    Value changed = Value.of(new byte[] {2}, alice, 1, 1, day).signedWith(key, owner);
    assertThat(put(s, changed).reason()).contains("already stored with different content");
    Value intruder =
        Value.of(new byte[] {1}, alice, 1, 1, day.plus(Duration.ofDays(1)))
            .signedWith(key, generator.generateKeyPair());
    assertThat(put(s, intruder).reason()).contains("same key");
    assertThat(s.get(key, now)).containsExactly(renewed);
  }

  @Test
  void aSignedValueOfAnotherKeyIsRefusedSoItCannotBeReplayedHere() throws Exception {
    var owner = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    RecordStore s = store();
    Value mine = Value.of(new byte[] {1}, alice, 1, 5, day).signedWith(key, owner);
    assertThat(put(s, mine).accepted()).isTrue();
    // the same identity with a higher seq, signed by the same owner for another key
    Value elsewhere =
        Value.of(new byte[] {2}, alice, 1, 100, day).signedWith(Key.of("elsewhere"), owner);
    assertThat(put(s, elsewhere).reason()).contains("signature does not verify");
    assertThat(s.get(key, now)).containsExactly(mine);
  }

  @Test
  void aValueSignedUnderTheIdentityPointIsRefusedNamingTheSmallOrderKey() {
    // The identity point as the public key, R the identity and S = 0: the JDK's Ed25519 verifies
    // this for every message, so anyone could "sign" (and replace) values under that key.
    byte[] publicKey = HexFormat.of().parseHex("302a300506032b6570032100" + "01" + "00".repeat(31));
    byte[] signature = HexFormat.of().parseHex("01" + "00".repeat(63));
    Value forged = new Value(new byte[] {1}, alice, 1, 1, day, publicKey, signature);
    StoreOutcome outcome = put(store(), forged);
    assertThat(outcome.accepted()).isFalse();
    assertThat(outcome.reason()).contains("small-order");
  }

  @Test
  void theSameSeqWithALaterExpiryIsARenewalNotAChange() {
    RecordStore s = store();
    put(s, Value.of(new byte[] {1}, alice, 1, 1, day));
    Value renewed = Value.of(new byte[] {1}, alice, 1, 1, day.plus(Duration.ofDays(1)));
    assertThat(put(s, renewed)).isEqualTo(StoreOutcome.renewed());
    assertThat(s.get(key, day.plusSeconds(1))).containsExactly(renewed);
    assertThat(put(s, Value.of(new byte[] {2}, alice, 1, 1, day)).reason())
        .contains("already stored with different content");
  }

  @Test
  void aKeyHoldsNoMoreThanOneAnswerCarries() {
    KadConfig config = KadConfig.defaults();
    RecordStore s = new InMemoryRecordStore(config);
    byte[] large = new byte[config.maxValueBytes()];
    assertThat(put(s, Value.of(large, alice, 1, 1, day)).accepted()).isTrue();
    assertThat(put(s, Value.of(large, bob, 1, 1, day)).accepted()).isTrue();
    StoreOutcome third = put(s, Value.of(large, bob, 2, 1, day));
    assertThat(third.accepted()).isFalse();
    assertThat(third.reason()).contains("more than the " + config.keyWireBudget());
    // A replacement counts instead of what it replaces, and other keys have their own budget.
    assertThat(put(s, Value.of(large, bob, 1, 2, day)).accepted()).isTrue();
    assertThat(
            s.store(Key.of("other"), Value.of(large, bob, 2, 1, day), day, false, now).accepted())
        .isTrue();
    long held = 0;
    for (Value v : s.get(key, now)) {
      held += config.valueWireBytes(v);
    }
    assertThat(held).isLessThanOrEqualTo(config.keyWireBudget());
  }

  @Test
  void expiredValuesOfOtherKeysMakeRoomAtAFullStore() {
    int overhead = KadConfig.STORED_VALUE_OVERHEAD;
    RecordStore s = store(KadConfig.builder().maxValueBytes(4).maxStoredBytes(8L + 2 * overhead));
    Instant soon = now.plusSeconds(60);
    s.store(Key.of("a"), Value.of(new byte[4], alice, 1, 1, soon), soon, false, now);
    // A cached copy whose own time ends before its value's expiry.
    s.store(Key.of("b"), Value.of(new byte[4], bob, 1, 1, day), soon, true, now);
    Value fresh = Value.of(new byte[4], NodeId.random(rng), 1, 1, day);
    assertThat(s.store(key, fresh, day, false, now).accepted()).isFalse();

    // Both are gone at a minute, though no expiry run came and neither is of this key.
    Instant later = now.plusSeconds(60);
    assertThat(s.store(key, fresh, day, false, later)).isEqualTo(StoreOutcome.stored());
    assertThat(s.size()).isEqualTo(1);
    assertThat(s.storedBytes()).isEqualTo(4 + overhead);
    assertThat(s.expire(later)).isZero();
  }

  @Test
  void expiredValuesOfAKeyMakeRoomBeforeTheNextExpiryRun() {
    RecordStore s = store(KadConfig.builder().maxValuesPerKey(2));
    Instant soon = now.plusSeconds(60);
    put(s, Value.of(new byte[] {1}, alice, 1, 1, soon));
    put(s, Value.of(new byte[] {2}, bob, 1, 1, soon));
    Instant later = now.plusSeconds(120);
    Value carol = Value.of(new byte[] {3}, NodeId.random(rng), 1, 1, day);
    StoreOutcome outcome = s.store(key, carol, carol.expiresAt(), false, later);
    assertThat(outcome).isEqualTo(StoreOutcome.stored());
    assertThat(s.get(key, later)).containsExactly(carol);
    assertThat(s.size()).isEqualTo(1);
    assertThat(s.storedBytes()).isEqualTo(1 + KadConfig.STORED_VALUE_OVERHEAD);
  }

  @Test
  void aStoreWithoutAConfigurationFailsWhenBuiltNotAtItsFirstStore() {
    assertThatThrownBy(() -> new InMemoryRecordStore(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("config");
  }
}
