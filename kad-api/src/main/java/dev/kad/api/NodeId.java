package dev.kad.api;

import java.util.random.RandomGenerator;

/**
 * The identity of a node: {@code idBits} bits (160 or 256), compared by XOR distance.
 *
 * <pre>{@code
 * NodeId id = NodeId.random(160, random);
 * NodeId peer = NodeId.parse("3f2a...");
 * int bucket = id.bucketIndex(peer);
 * }</pre>
 */
public final class NodeId extends KadId implements Comparable<NodeId> {

  private NodeId(byte[] bytes) {
    super(bytes);
  }

  /**
   * A node id from its big-endian bytes.
   *
   * @param bytes 20 or 32 bytes, copied
   * @return the id
   * @throws IllegalArgumentException when the length is not 20 or 32 bytes
   * @throws NullPointerException when {@code bytes} is null
   */
  public static NodeId of(byte[] bytes) {
    return new NodeId(checkedCopy(bytes, "node id"));
  }

  /**
   * A node id from 40 or 64 hexadecimal digits.
   *
   * @param hex the digits, either case
   * @return the id
   * @throws IllegalArgumentException naming the input when it is not 40 or 64 hex digits
   */
  public static NodeId parse(String hex) {
    return new NodeId(parseHex(hex, "node id"));
  }

  /**
   * A node id of the given width from its hexadecimal digits: what a node of {@code bits}-bit ids
   * parses from configuration or a request, so a wrong length names the digits that width needs (40
   * for 160 bits, 64 for 256).
   *
   * @param hex the digits, either case
   * @param bits the width the id must have, 160 or 256
   * @return the id
   * @throws IllegalArgumentException naming the input when it is not {@code bits / 4} hex digits,
   *     or when {@code bits} is neither 160 nor 256
   */
  public static NodeId parse(String hex, int bits) {
    return new NodeId(parseHex(hex, bits, "node id"));
  }

  /**
   * A uniformly random 160-bit node id.
   *
   * @param random the source of randomness (seed it for reproducible runs)
   * @return a fresh id
   */
  public static NodeId random(RandomGenerator random) {
    return random(BITS_160, random);
  }

  /**
   * A uniformly random node id of the given width.
   *
   * @param bits 160 or 256
   * @param random the source of randomness
   * @return a fresh id
   * @throws IllegalArgumentException when {@code bits} is not 160 or 256
   */
  public static NodeId random(int bits, RandomGenerator random) {
    return new NodeId(randomBytes(bits, random));
  }

  /**
   * A uniformly random id in bucket {@code index} of this node: {@code bucketIndex(result) ==
   * index}. Bucket refresh looks such an id up.
   *
   * @param index the bucket index, in {@code [0, bits() - 1]}
   * @param random the source of randomness
   * @return a random id at that bucket distance
   * @throws IllegalArgumentException naming the index when it is out of range
   */
  public NodeId randomInBucket(int index, RandomGenerator random) {
    return new NodeId(randomBytesInBucket(index, random));
  }

  /**
   * Orders node ids by their unsigned big-endian value (on equal leading bytes a 160-bit id comes
   * before a 256-bit one); consistent with {@link #equals(Object)}. This is not the XOR order
   * around a target, which is {@link #compareDistance(KadId, KadId)}.
   *
   * @param other another node id
   * @return negative, zero or positive as this id is below, equal to or above {@code other}
   */
  @Override
  public int compareTo(NodeId other) {
    return compareBytes(other);
  }

  /**
   * This id seen as a key of the same bits, for looking up the nodes that store it.
   *
   * @return the key with the same bytes
   */
  public Key asKey() {
    return Key.ofId(bytes.clone());
  }
}
