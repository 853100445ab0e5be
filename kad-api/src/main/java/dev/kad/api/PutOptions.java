package dev.kad.api;

import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@link KadNode#put(Key, byte[], PutOptions)} publishes a value: its value id, how long it
 * lives, whether it is signed, and whether the node republishes it. Immutable: each method that
 * takes a setting returns a copy with it and leaves this instance as it was ({@code
 * options.valueId(2)} alone changes nothing: use what it returns), so one instance can be shared.
 *
 * <pre>{@code
 * PutOptions options = PutOptions.defaults().valueId(2).ttl(Duration.ofHours(1)).signedBy(keys);
 * node.put(key, bytes, options);
 * }</pre>
 *
 * <p>The defaults are those of {@link KadNode#put(Key, byte[])}: value id 0, the node's {@link
 * KadConfig#expireAfter()}, unsigned, republished. The arguments are checked here, when a method is
 * called; the limits that depend on the node's configuration (a ttl at most {@code expireAfter},
 * and at least twice the republish period for a republished value) are checked by {@code put}.
 */
public final class PutOptions {

  private static final PutOptions DEFAULTS = new PutOptions(0, null, null, true);

  /** The key and publisher a key pair is tried on: any key signs as well as any other. */
  private static final Key TRIAL_KEY = Key.of("kad-put-options");

  private static final NodeId TRIAL_PUBLISHER = NodeId.of(new byte[20]);

  private final long valueId;
  private final Duration ttl;
  private final KeyPair keyPair;
  private final boolean republish;

  private PutOptions(long valueId, Duration ttl, KeyPair keyPair, boolean republish) {
    this.valueId = valueId;
    this.ttl = ttl;
    this.keyPair = keyPair;
    this.republish = republish;
  }

  /**
   * Value id 0, a ttl of the node's {@code expireAfter}, unsigned, republished.
   *
   * @return the default options
   */
  public static PutOptions defaults() {
    return DEFAULTS;
  }

  /**
   * These options with another value id: a node publishes one value per {@code (key, valueId)}, and
   * a put of the same id replaces its earlier value.
   *
   * @param valueId any long
   * @return the copy
   */
  public PutOptions valueId(long valueId) {
    return new PutOptions(valueId, ttl, keyPair, republish);
  }

  /**
   * These options with another time to live: the value expires {@code ttl} after each put and each
   * republish.
   *
   * @param ttl positive; at most the node's {@link KadConfig#expireAfter()}, checked by {@code put}
   * @return the copy
   * @throws IllegalArgumentException when {@code ttl} is zero, negative or longer than {@link
   *     KadConfig#MAX_DURATION}
   */
  public PutOptions ttl(Duration ttl) {
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl must be positive but was " + ttl);
    }
    if (ttl.compareTo(KadConfig.MAX_DURATION) > 0) {
      throw new IllegalArgumentException(
          "ttl must be at most " + KadConfig.MAX_DURATION + " but was " + ttl);
    }
    return new PutOptions(valueId, ttl, keyPair, republish);
  }

  /**
   * These options with values signed by an Ed25519 key pair ({@link Value#signedWith}): nodes then
   * accept a replacement only when it is signed with the same key. Each republish signs the renewed
   * value again, so the node keeps the key pair until {@link KadNode#stopRepublishing}.
   *
   * @param keyPair an Ed25519 key pair
   * @return the copy
   * @throws IllegalArgumentException when {@link Value#signedWith} would refuse the key pair: not
   *     Ed25519, a public key that is not the private key's, or one under which nodes refuse
   *     signatures (a small-order or non-canonical point)
   */
  public PutOptions signedBy(KeyPair keyPair) {
    Objects.requireNonNull(keyPair, "keyPair");
    // Signed once here, so that a put never fails later on a key pair that cannot sign.
    Value.of(new byte[0], TRIAL_PUBLISHER, 0, 0, Instant.EPOCH).signedWith(TRIAL_KEY, keyPair);
    return new PutOptions(valueId, ttl, keyPair, republish);
  }

  /**
   * These options with republishing on or off. A republished value is renewed by the node before it
   * expires until {@link KadNode#stopRepublishing} or {@link KadNode#close()}; one that is not
   * lives its ttl.
   *
   * @param republish whether the node republishes the value
   * @return the copy
   */
  public PutOptions republish(boolean republish) {
    return new PutOptions(valueId, ttl, keyPair, republish);
  }

  /**
   * The value id.
   *
   * @return the value id, 0 by default
   */
  public long valueId() {
    return valueId;
  }

  /**
   * The time to live, or empty for the node's {@link KadConfig#expireAfter()}.
   *
   * @return the ttl set, if any
   */
  public Optional<Duration> ttl() {
    return Optional.ofNullable(ttl);
  }

  /**
   * The key pair the value is signed with, or empty for an unsigned value.
   *
   * @return the key pair, if any
   */
  public Optional<KeyPair> keyPair() {
    return Optional.ofNullable(keyPair);
  }

  /**
   * Whether the node republishes the value.
   *
   * @return true by default
   */
  public boolean republish() {
    return republish;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PutOptions p
        && valueId == p.valueId
        && republish == p.republish
        && Objects.equals(ttl, p.ttl)
        && (keyPair == p.keyPair
            || keyPair != null
                && p.keyPair != null
                && keyPair.getPublic().equals(p.keyPair.getPublic())
                && keyPair.getPrivate().equals(p.keyPair.getPrivate()));
  }

  @Override
  public int hashCode() {
    return Objects.hash(valueId, ttl, keyPair == null ? null : keyPair.getPublic(), republish);
  }

  /** The options, telling whether they sign but not with which key. */
  @Override
  public String toString() {
    return "PutOptions[valueId="
        + valueId
        + ", ttl="
        + (ttl == null ? "expireAfter" : ttl)
        + (keyPair == null ? ", unsigned" : ", signed")
        + ", republish="
        + republish
        + "]";
  }
}
