package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ValueTest {

  private final NodeId publisher = NodeId.random(new SplittableRandom(7));
  private final Instant expiry = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void copiesItsBytesInAndOut() {
    byte[] data = {1, 2, 3};
    Value value = Value.of(data, publisher, 1, 1, expiry);
    data[0] = 9;
    assertThat(value.data()).containsExactly(1, 2, 3);
    value.data()[1] = 9;
    assertThat(value.data()).containsExactly(1, 2, 3);
    assertThat(value.size()).isEqualTo(3);
  }

  @Test
  void equalsByContent() {
    Value a = Value.of(new byte[] {1}, publisher, 1, 1, expiry);
    Value b = Value.of(new byte[] {1}, publisher, 1, 1, expiry);
    assertThat(a).isEqualTo(b).hasSameHashCodeAs(b);
    assertThat(a).isNotEqualTo(a.withUpdate(new byte[] {1}, 2, expiry));
    assertThat(a.sameIdentity(a.withUpdate(new byte[] {2}, 2, expiry))).isTrue();
  }

  @Test
  void expiresAtItsExpiryInstant() {
    Value value = Value.of(new byte[0], publisher, 1, 1, expiry);
    assertThat(value.isExpiredAt(expiry.minusMillis(1))).isFalse();
    assertThat(value.isExpiredAt(expiry)).isTrue();
  }

  @Test
  void ed25519SignatureVerifiesAndBreaksWhenDataChanges() throws Exception {
    var keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Key key = Key.of("k");
    Value signed = Value.of(new byte[] {4, 5}, publisher, 3, 1, expiry).signedWith(key, keys);
    assertThat(signed.isSigned()).isTrue();
    assertThat(signed.verifySignature(key)).isTrue();
    Value tampered =
        new Value(
            new byte[] {4, 6}, publisher, 3, 1, expiry, signed.publicKey(), signed.signature());
    assertThat(tampered.verifySignature(key)).isFalse();
    assertThat(Value.of(new byte[0], publisher, 1, 1, expiry).verifySignature(key)).isFalse();
  }

  @Test
  void aSignatureMadeForOneKeyDoesNotVerifyUnderAnother() throws Exception {
    // A publisher who signs (publisher, value id, seq) under two keys must not let anyone move the
    // higher-seq value from one key to the other, where it would replace the real one.
    var keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Value forA = Value.of(new byte[] {1}, publisher, 0, 100, expiry).signedWith(Key.of("a"), keys);
    assertThat(forA.verifySignature(Key.of("a"))).isTrue();
    assertThat(forA.verifySignature(Key.of("b"))).isFalse();
    Key wide = Key.of("a", 256);
    NodeId widePublisher = NodeId.random(256, new SplittableRandom(3));
    Value forWide = Value.of(new byte[] {1}, widePublisher, 0, 1, expiry).signedWith(wide, keys);
    assertThat(forWide.verifySignature(wide)).isTrue();
    assertThat(forWide.verifySignature(Key.of("a"))).isFalse();
  }

  @Test
  void keysAndSignaturesOfOtherLengthsThanEd25519OnesAreRejected() {
    assertThatThrownBy(
            () -> new Value(new byte[0], publisher, 1, 1, expiry, new byte[3000], new byte[64]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lengths 3000 and 64");
    assertThatThrownBy(
            () -> new Value(new byte[0], publisher, 1, 1, expiry, new byte[44], new byte[65]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lengths 44 and 65");
  }

  @Test
  void keyWithoutSignatureIsRejected() {
    assertThatThrownBy(
            () -> new Value(new byte[0], publisher, 1, 1, expiry, new byte[32], new byte[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lengths 32 and 0");
  }

  @Test
  void signingWithAPublicKeyThatIsNotThePrivateKeysIsRefused() throws Exception {
    // Before, this made a value that no node accepts ("signature does not verify"), found out only
    // when a put failed everywhere.
    var generator = KeyPairGenerator.getInstance("Ed25519");
    var mine = generator.generateKeyPair();
    var other = generator.generateKeyPair();
    Value value = Value.of(new byte[] {1}, publisher, 1, 1, expiry);

    assertThatThrownBy(
            () ->
                value.signedWith(
                    Key.of("k"), new java.security.KeyPair(other.getPublic(), mine.getPrivate())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not verify");
    assertThatThrownBy(
            () ->
                value.signedWith(
                    Key.of("k"), KeyPairGenerator.getInstance("Ed448").generateKeyPair()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Ed25519");
  }
}
