package dev.kad.api;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.Signature;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;

/**
 * One value stored under a {@link Key}. A key holds a set of values; inside its key a value is
 * identified by {@code (publisher, valueId)}, and a higher {@code seq} of the same identity
 * replaces a lower one. A signed value carries an Ed25519 public key (X.509 encoded) and a
 * signature over the key it is stored under, its identity, sequence number, expiry and data; it may
 * only be replaced by a value signed with the same key. A signature never verifies under a public
 * key that is a small-order point or not canonically encoded, nor with a non-canonical {@code S},
 * though the JDK's Ed25519 accepts some of these: {@link #signatureProblem(Key)} says which.
 *
 * <p>The arrays are copied in and out: a {@code Value} is immutable and compares by content.
 *
 * @param data the application's bytes
 * @param publisher the node that published the value
 * @param valueId the value's id among the publisher's values for the key
 * @param seq the sequence number; a higher one replaces a lower one of the same identity
 * @param expiresAt when the value stops being served
 * @param publicKey the X.509-encoded Ed25519 public key, empty for an unsigned value
 * @param signature the Ed25519 signature, empty for an unsigned value
 */
public record Value(
    byte[] data,
    NodeId publisher,
    long valueId,
    long seq,
    Instant expiresAt,
    byte[] publicKey,
    byte[] signature) {

  private static final String ED25519 = "Ed25519";

  /** Length of an X.509-encoded Ed25519 public key. */
  public static final int PUBLIC_KEY_BYTES = 44;

  /** Length of an Ed25519 signature. */
  public static final int SIGNATURE_BYTES = 64;

  /** The first bytes of everything a signature covers: names the layout that follows. */
  private static final byte[] SIGNATURE_DOMAIN = "kad-value-v1".getBytes(StandardCharsets.US_ASCII);

  /**
   * Validates and copies the parts.
   *
   * @param data the application's bytes
   * @param publisher the node that published the value
   * @param valueId the value's id among the publisher's values for the key
   * @param seq the sequence number; a higher one replaces a lower one of the same identity
   * @param expiresAt when the value stops being served
   * @param publicKey the X.509-encoded Ed25519 public key, empty for an unsigned value
   * @param signature the Ed25519 signature, empty for an unsigned value
   * @throws IllegalArgumentException when only one of public key and signature is present, or
   *     either has another length than an Ed25519 one ({@value #PUBLIC_KEY_BYTES} and {@value
   *     #SIGNATURE_BYTES} bytes)
   * @throws NullPointerException when a part is null
   */
  public Value {
    data = Objects.requireNonNull(data, "data").clone();
    Objects.requireNonNull(publisher, "publisher");
    Objects.requireNonNull(expiresAt, "expiresAt");
    publicKey = Objects.requireNonNull(publicKey, "publicKey").clone();
    signature = Objects.requireNonNull(signature, "signature").clone();
    if ((publicKey.length == 0) != (signature.length == 0)) {
      throw new IllegalArgumentException(
          "publicKey and signature must both be present or both be empty but had lengths "
              + publicKey.length
              + " and "
              + signature.length);
    }
    if (publicKey.length != 0
        && (publicKey.length != PUBLIC_KEY_BYTES || signature.length != SIGNATURE_BYTES)) {
      throw new IllegalArgumentException(
          "publicKey and signature must be an Ed25519 key ("
              + PUBLIC_KEY_BYTES
              + " bytes, X.509) and signature ("
              + SIGNATURE_BYTES
              + " bytes) but had lengths "
              + publicKey.length
              + " and "
              + signature.length);
    }
  }

  /**
   * An unsigned value.
   *
   * @param data the application's bytes
   * @param publisher the publishing node
   * @param valueId the value's id among the publisher's values for the key
   * @param seq the sequence number
   * @param expiresAt when the value expires
   * @return the value
   */
  public static Value of(byte[] data, NodeId publisher, long valueId, long seq, Instant expiresAt) {
    return new Value(data, publisher, valueId, seq, expiresAt, new byte[0], new byte[0]);
  }

  /**
   * A copy of the application's bytes.
   *
   * @return the data
   */
  @Override
  public byte[] data() {
    return data.clone();
  }

  /**
   * A copy of the public key, empty when unsigned.
   *
   * @return the X.509-encoded Ed25519 public key
   */
  @Override
  public byte[] publicKey() {
    return publicKey.clone();
  }

  /**
   * A copy of the signature, empty when unsigned.
   *
   * @return the Ed25519 signature
   */
  @Override
  public byte[] signature() {
    return signature.clone();
  }

  /**
   * Size of the data in bytes, without copying.
   *
   * @return {@code data().length}
   */
  public int size() {
    return data.length;
  }

  /**
   * Whether the value carries a signature.
   *
   * @return true when public key and signature are present
   */
  public boolean isSigned() {
    return signature.length > 0;
  }

  /**
   * Whether this value is expired at {@code now}.
   *
   * @param now the current instant
   * @return true when {@code expiresAt} is not after {@code now}
   */
  public boolean isExpiredAt(Instant now) {
    return !expiresAt.isAfter(now);
  }

  /**
   * Whether {@code other} has the same identity, {@code (publisher, valueId)}.
   *
   * @param other another value
   * @return true when both identify the same value of a key
   */
  public boolean sameIdentity(Value other) {
    return valueId == other.valueId && publisher.equals(other.publisher);
  }

  /**
   * This value with a new sequence number, data and expiry, unsigned: sign it again ({@link
   * #signedWith}) to replace a signed value, since nodes refuse an unsigned replacement of one.
   *
   * @param newData the new bytes
   * @param newSeq the new sequence number
   * @param newExpiresAt the new expiry
   * @return the replacement value
   */
  public Value withUpdate(byte[] newData, long newSeq, Instant newExpiresAt) {
    return Value.of(newData, publisher, valueId, newSeq, newExpiresAt);
  }

  /**
   * This value signed with an Ed25519 key pair, for storing under {@code key}. The signature covers
   * the key with everything else, so it cannot be replayed under another key: a value signed for
   * one key does not verify under any other.
   *
   * @param key the key the value is stored under
   * @param keyPair an Ed25519 key pair
   * @return the signed copy, whose signature verifies under {@code key}
   * @throws IllegalArgumentException when the key pair is not Ed25519, its public key is not the
   *     private key's, or its public key is one {@link #signatureProblem(Key)} refuses (every node
   *     would refuse the value)
   */
  public Value signedWith(Key key, KeyPair keyPair) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(keyPair, "keyPair");
    Objects.requireNonNull(keyPair.getPublic(), "keyPair public key");
    Objects.requireNonNull(keyPair.getPrivate(), "keyPair private key");
    Value signed;
    try {
      Signature signer = Signature.getInstance(ED25519);
      signer.initSign(keyPair.getPrivate());
      signer.update(signedBytes(key));
      signed =
          new Value(
              data,
              publisher,
              valueId,
              seq,
              expiresAt,
              keyPair.getPublic().getEncoded(),
              signer.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("keyPair must be an Ed25519 key pair: " + e, e);
    }
    String keyProblem = Ed25519.publicKeyProblem(signed.publicKey);
    if (keyProblem != null) {
      throw new IllegalArgumentException("keyPair cannot sign a value: its " + keyProblem);
    }
    if (!signed.verifySignature(key)) {
      throw new IllegalArgumentException(
          "keyPair must be an Ed25519 key pair whose public key matches its private key, but the"
              + " signature does not verify with "
              + keyPair.getPublic());
    }
    return signed;
  }

  /**
   * Whether the signature is valid for the public key and this value stored under {@code key}. An
   * unsigned value is never verified, nor is one whose public key or signature has a form under
   * which a signature can be made without the private key, though the JDK's Ed25519 verifies it
   * ({@link #signatureProblem(Key)}).
   *
   * @param key the key the value is stored (or offered) under
   * @return true when the value is signed and its signature checks out for {@code key}
   */
  public boolean verifySignature(Key key) {
    return signatureProblem(key).isEmpty();
  }

  /**
   * Why the signature is not valid for this value stored under {@code key}, or empty when it is:
   * the value is unsigned; the public key is not an X.509-encoded Ed25519 key, or not canonical (a
   * {@code y} of {@code 2^255 - 19} or more), or one of the eight points of small order (under
   * which signatures with {@code S = 0} verify for many messages without any private key, and are
   * refused as libsodium does); the signature's {@code S} is not below the group order (a second
   * form of a signature, made without the key); or the signature does not verify.
   *
   * @param key the key the value is stored (or offered) under
   * @return the reason, naming the part at fault, or empty when the signature checks out
   */
  public Optional<String> signatureProblem(Key key) {
    Objects.requireNonNull(key, "key");
    if (!isSigned()) {
      return Optional.of("value is not signed");
    }
    return Optional.ofNullable(Ed25519.problem(publicKey, signature, signedBytes(key)));
  }

  /**
   * What a signature covers (package-private for the tests that forge signatures): a domain tag
   * naming the layout, then the key and the publisher (each with its length, so that no layout of
   * one width reads as another), value id, seq, expiry and data.
   */
  byte[] signedBytes(Key key) {
    byte[] k = key.bytes;
    byte[] id = publisher.bytes;
    return ByteBuffer.allocate(
            SIGNATURE_DOMAIN.length + 2 + k.length + id.length + 8 + 8 + 12 + data.length)
        .put(SIGNATURE_DOMAIN)
        .put((byte) k.length)
        .put(k)
        .put((byte) id.length)
        .put(id)
        .putLong(valueId)
        .putLong(seq)
        .putLong(expiresAt.getEpochSecond())
        .putInt(expiresAt.getNano())
        .put(data)
        .array();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Value v
        && valueId == v.valueId
        && seq == v.seq
        && publisher.equals(v.publisher)
        && expiresAt.equals(v.expiresAt)
        && Arrays.equals(data, v.data)
        && Arrays.equals(publicKey, v.publicKey)
        && Arrays.equals(signature, v.signature);
  }

  @Override
  public int hashCode() {
    return Objects.hash(publisher, valueId, seq, expiresAt, Arrays.hashCode(data));
  }

  @Override
  public String toString() {
    return "Value[publisher="
        + publisher.toShortHex()
        + ", valueId="
        + valueId
        + ", seq="
        + seq
        + ", expiresAt="
        + expiresAt
        + ", "
        + data.length
        + " bytes"
        + (data.length <= 16 ? " " + HexFormat.of().formatHex(data) : "")
        + (isSigned() ? ", signed" : "")
        + "]";
  }
}
