package dev.kad.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * The key of a record in the DHT, in the same id space as {@link NodeId}. A key is usually the hash
 * of an application name: {@code Key.of("alice/avatar")} (SHA-1 for 160 bits, SHA-256 for 256
 * bits).
 */
public final class Key extends KadId implements Comparable<Key> {

  private Key(byte[] bytes) {
    super(bytes);
  }

  static Key ofId(byte[] ownedBytes) {
    return new Key(ownedBytes);
  }

  /**
   * The 160-bit key of a UTF-8 string, hashed with SHA-1.
   *
   * @param name the application's name for the record
   * @return the key
   */
  public static Key of(String name) {
    return of(name, BITS_160);
  }

  /**
   * The key of a UTF-8 string in an id space of {@code bits} bits.
   *
   * @param name the application's name for the record
   * @param bits 160 (SHA-1) or 256 (SHA-256)
   * @return the key
   * @throws IllegalArgumentException when {@code bits} is not 160 or 256
   */
  public static Key of(String name, int bits) {
    Objects.requireNonNull(name, "name");
    return of(name.getBytes(StandardCharsets.UTF_8), bits);
  }

  /**
   * The 160-bit key of arbitrary bytes, hashed with SHA-1. Bytes that already are a key (a 20-byte
   * info-hash, another node's id) are hashed again here, to another key: take those with {@link
   * #ofRaw(byte[])}, unlike {@link NodeId#of(byte[])}, which never hashes.
   *
   * @param data the bytes to hash
   * @return the key
   */
  public static Key of(byte[] data) {
    return of(data, BITS_160);
  }

  /**
   * The key of arbitrary bytes in an id space of {@code bits} bits.
   *
   * @param data the bytes to hash
   * @param bits 160 (SHA-1) or 256 (SHA-256)
   * @return the key
   * @throws IllegalArgumentException when {@code bits} is not 160 or 256
   */
  public static Key of(byte[] data, int bits) {
    Objects.requireNonNull(data, "data");
    checkBits(bits, "idBits");
    String algorithm = bits == BITS_160 ? "SHA-1" : "SHA-256";
    try {
      return new Key(MessageDigest.getInstance(algorithm).digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is required by every Java platform", e);
    }
  }

  /**
   * A key from its raw 20 or 32 bytes, without hashing.
   *
   * @param bytes the key bytes, copied
   * @return the key
   * @throws IllegalArgumentException when the length is not 20 or 32 bytes
   */
  public static Key ofRaw(byte[] bytes) {
    return new Key(checkedCopy(bytes, "key"));
  }

  /**
   * A key from 40 or 64 hexadecimal digits (its raw bytes, not hashed).
   *
   * @param hex the digits
   * @return the key
   * @throws IllegalArgumentException naming the input when it is not 40 or 64 hex digits
   */
  public static Key parse(String hex) {
    return new Key(parseHex(hex, "key"));
  }

  /**
   * Orders keys by their unsigned big-endian value (on equal leading bytes a 160-bit key comes
   * before a 256-bit one); consistent with {@link #equals(Object)}. This is not the XOR order
   * around a target, which is {@link #compareDistance(KadId, KadId)}.
   *
   * @param other another key
   * @return negative, zero or positive as this key is below, equal to or above {@code other}
   */
  @Override
  public int compareTo(Key other) {
    return compareBytes(other);
  }

  /**
   * This key as a node id of the same bits: the target of the lookup that finds the nodes storing
   * it.
   *
   * @return the node id with the same bytes
   */
  public NodeId asNodeId() {
    return NodeId.of(bytes);
  }
}
