package dev.kad.api;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The XOR distance between two ids, an unsigned big-endian integer of the ids' width (Kademlia
 * §2.1). Ordered from zero upward. Obtain one with {@link KadId#distance(KadId)}; hot paths compare
 * with {@link KadId#compareDistance(KadId, KadId)} instead, which allocates nothing.
 */
public final class Distance implements Comparable<Distance> {

  private final byte[] bytes;

  Distance(byte[] ownedBytes) {
    this.bytes = ownedBytes;
  }

  /**
   * Whether the distance is zero, that is, both ids are equal.
   *
   * @return true for the distance of an id to itself
   */
  public boolean isZero() {
    return bucketIndex() < 0;
  }

  /**
   * The position of the highest set bit: the k-bucket index this distance falls into.
   *
   * @return from 0 to {@code bits - 1}, or -1 for the zero distance
   */
  public int bucketIndex() {
    for (int i = 0; i < bytes.length; i++) {
      int x = bytes[i] & 0xff;
      if (x != 0) {
        return (bytes.length - 1 - i) * 8 + (31 - Integer.numberOfLeadingZeros(x));
      }
    }
    return -1;
  }

  /**
   * The distance's bytes, big-endian, as a fresh copy.
   *
   * @return a copy of the bytes
   */
  public byte[] toBytes() {
    return bytes.clone();
  }

  @Override
  public int compareTo(Distance other) {
    if (other.bytes.length != bytes.length) {
      throw new IllegalArgumentException(
          "distance widths differ: " + bytes.length * 8 + " vs " + other.bytes.length * 8);
    }
    return Arrays.compareUnsigned(bytes, other.bytes);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Distance d && Arrays.equals(bytes, d.bytes);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes);
  }
}
