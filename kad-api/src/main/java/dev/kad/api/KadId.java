package dev.kad.api;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * A point in the Kademlia id space: a {@link NodeId} or a {@link Key}. Both share one space of
 * {@code idBits} bits (160 by default, 256 allowed) and the XOR metric of Kademlia §2.1.
 *
 * <p>Instances are immutable: the bytes are copied on the way in and never handed out. Distances
 * are compared without allocating ({@link #compareDistance(KadId, KadId)}), which is what the
 * routing table and lookups use on their hot paths.
 */
public abstract sealed class KadId permits NodeId, Key {

  /** The id widths kad supports, in bits. */
  public static final int BITS_160 = 160;

  /** The wide id space, hashed with SHA-256. */
  public static final int BITS_256 = 256;

  private static final HexFormat HEX = HexFormat.of();

  /** Big-endian bytes, never exposed. */
  final byte[] bytes;

  private final int hash;

  /** The first eight bytes, big-endian: they decide most distance comparisons on their own. */
  private final long high;

  KadId(byte[] bytes) {
    this.bytes = bytes;
    long leading = 0;
    for (int i = 0; i < Long.BYTES; i++) {
      leading = (leading << 8) | (bytes[i] & 0xff);
    }
    this.high = leading;
    // Ids are uniform (random or a SHA digest) and Kademlia makes neighbours share prefixes, so
    // the last four bytes hash as well as all of them, for nothing: every decoded contact pays it.
    // A peer can pick ids or raw keys that share them, so NodeId and Key are Comparable: a HashMap
    // bin of colliding ids then becomes a tree searched in O(log n), not a list scanned in O(n).
    int n = bytes.length;
    this.hash =
        (bytes[n - 4] & 0xff) << 24
            | (bytes[n - 3] & 0xff) << 16
            | (bytes[n - 2] & 0xff) << 8
            | (bytes[n - 1] & 0xff);
  }

  /**
   * Checks that {@code bytes} is a supported id length and returns a private copy of it.
   *
   * @throws IllegalArgumentException naming the length when it is neither 20 nor 32 bytes
   */
  static byte[] checkedCopy(byte[] bytes, String what) {
    Objects.requireNonNull(bytes, what);
    checkBits(bytes.length * 8, what + " length in bits");
    return bytes.clone();
  }

  static int checkBits(int bits, String what) {
    if (bits != BITS_160 && bits != BITS_256) {
      throw new IllegalArgumentException(what + " must be 160 or 256 but was " + bits);
    }
    return bits;
  }

  static byte[] parseHex(String hex, String what) {
    Objects.requireNonNull(hex, what);
    if (hex.length() != 40 && hex.length() != 64) {
      throw new IllegalArgumentException(
          what
              + " must be 40 or 64 hex digits but was "
              + hex.length()
              + ": "
              + Printable.quoted(hex));
    }
    try {
      return HEX.parseHex(hex);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " is not hexadecimal: " + Printable.quoted(hex), e);
    }
  }

  static byte[] parseHex(String hex, int bits, String what) {
    checkBits(bits, "bits");
    Objects.requireNonNull(hex, what);
    if (hex.length() != bits / 4) {
      throw new IllegalArgumentException(
          what
              + " must be "
              + bits / 4
              + " hex digits ("
              + bits
              + "-bit ids) but was "
              + hex.length()
              + ": "
              + Printable.quoted(hex));
    }
    return parseHex(hex, what);
  }

  static byte[] randomBytes(int bits, RandomGenerator random) {
    checkBits(bits, "idBits");
    Objects.requireNonNull(random, "random");
    byte[] b = new byte[bits / 8];
    random.nextBytes(b);
    return b;
  }

  /**
   * The width of this id in bits.
   *
   * @return 160 or 256
   */
  public int bits() {
    return bytes.length * 8;
  }

  /**
   * The big-endian bytes of this id, as a fresh copy.
   *
   * @return a copy of the id's bytes
   */
  public byte[] toBytes() {
    return bytes.clone();
  }

  /**
   * One byte of this id, without copying.
   *
   * @param index the byte index, 0 being the most significant
   * @return the byte at {@code index}
   */
  public byte byteAt(int index) {
    return bytes[index];
  }

  /**
   * The first 64 bits of this id, big-endian, as {@link java.util.UUID#getMostSignificantBits}
   * gives a UUID's: the distance from {@code t} to {@code a} is smaller than to {@code b} whenever
   * {@code Long.compareUnsigned(a.highBits() ^ t.highBits(), b.highBits() ^ t.highBits()) < 0}, so
   * a routing table or lookup can order ids by these bits and read the rest only on a tie. Kept
   * beside the bytes, not computed per call.
   *
   * @return bits {@code bits() - 1} down to {@code bits() - 64} of this id
   */
  public long highBits() {
    return high;
  }

  /**
   * One bit of this id.
   *
   * @param index the bit index, 0 being the least significant and {@code bits() - 1} the most
   * @return whether the bit is set
   */
  public boolean bit(int index) {
    Objects.checkIndex(index, bits());
    int byteIndex = bytes.length - 1 - (index >>> 3);
    return (bytes[byteIndex] & (1 << (index & 7))) != 0;
  }

  /**
   * The XOR distance from this id to {@code other}.
   *
   * @param other an id of the same width
   * @return the distance, an unsigned integer of {@code bits()} bits
   * @throws IllegalArgumentException when the widths differ
   */
  public Distance distance(KadId other) {
    checkSameWidth(other);
    byte[] d = new byte[bytes.length];
    for (int i = 0; i < d.length; i++) {
      d[i] = (byte) (bytes[i] ^ other.bytes[i]);
    }
    return new Distance(d);
  }

  /**
   * Compares the distances from this id (the target) to {@code a} and to {@code b} without
   * allocating: the first byte where {@code a} and {@code b} differ decides, as that is the highest
   * bit where their distances to this id differ.
   *
   * @param a one id
   * @param b another id
   * @return negative when {@code a} is closer to this id, positive when {@code b} is, 0 when equal
   * @throws IllegalArgumentException when the widths differ
   */
  public int compareDistance(KadId a, KadId b) {
    checkSameWidth(a);
    checkSameWidth(b);
    if (a.high != b.high) {
      return Long.compareUnsigned(a.high ^ high, b.high ^ high);
    }
    for (int i = Long.BYTES; i < bytes.length; i++) {
      if (a.bytes[i] != b.bytes[i]) {
        int da = (a.bytes[i] ^ bytes[i]) & 0xff;
        int db = (b.bytes[i] ^ bytes[i]) & 0xff;
        return Integer.compare(da, db);
      }
    }
    return 0;
  }

  /**
   * The index of the k-bucket that {@code other} falls into as seen from this id: the position of
   * the highest set bit of {@code this XOR other}, from 0 (the closest half of the last bit) to
   * {@code bits() - 1} (the far half of the space).
   *
   * @param other an id of the same width
   * @return the bucket index, or -1 when {@code other} equals this id
   * @throws IllegalArgumentException when the widths differ
   */
  public int bucketIndex(KadId other) {
    checkSameWidth(other);
    long x64 = high ^ other.high;
    if (x64 != 0) {
      return bits() - 1 - Long.numberOfLeadingZeros(x64);
    }
    for (int i = Long.BYTES; i < bytes.length; i++) {
      int x = (bytes[i] ^ other.bytes[i]) & 0xff;
      if (x != 0) {
        return (bytes.length - 1 - i) * 8 + (31 - Integer.numberOfLeadingZeros(x));
      }
    }
    return -1;
  }

  /**
   * Length of the common prefix of this id and {@code other}, in bits.
   *
   * @param other an id of the same width
   * @return a number in {@code [0, bits()]}
   */
  public int commonPrefixLength(KadId other) {
    return bits() - 1 - bucketIndex(other);
  }

  /**
   * Bytes of a uniformly random id at bucket index {@code index} from this id: it shares every bit
   * above {@code index} with this id, differs at {@code index}, and is random below.
   */
  byte[] randomBytesInBucket(int index, RandomGenerator random) {
    if (index < 0 || index >= bits()) {
      throw new IllegalArgumentException(
          "bucket index must be in [0, " + (bits() - 1) + "] but was " + index);
    }
    Objects.requireNonNull(random, "random");
    byte[] noise = new byte[bytes.length];
    random.nextBytes(noise);
    byte[] out = bytes.clone();
    int flipByte = bytes.length - 1 - (index >>> 3);
    int bitInByte = index & 7;
    int lowMask = (1 << bitInByte) - 1;
    out[flipByte] =
        (byte) (((out[flipByte] ^ (1 << bitInByte)) & ~lowMask) | (noise[flipByte] & lowMask));
    for (int i = flipByte + 1; i < out.length; i++) {
      out[i] = noise[i];
    }
    return out;
  }

  /**
   * Unsigned big-endian order of the bytes, for the natural order of {@link NodeId} and {@link
   * Key}: 0 exactly when the bytes are equal.
   */
  final int compareBytes(KadId other) {
    return Arrays.compareUnsigned(bytes, other.bytes);
  }

  private void checkSameWidth(KadId other) {
    Objects.requireNonNull(other, "other");
    if (other.bytes.length != bytes.length) {
      throw new IllegalArgumentException(
          "id widths differ: " + bits() + " bits vs " + other.bits() + " bits");
    }
  }

  /**
   * The id as lower-case hexadecimal, 40 or 64 digits.
   *
   * @return the full hex form
   */
  public String toHex() {
    return HEX.formatHex(bytes);
  }

  /**
   * The first eight hex digits, for logs.
   *
   * @return a short prefix of {@link #toHex()}
   */
  public String toShortHex() {
    return HEX.formatHex(bytes, 0, 4);
  }

  @Override
  public boolean equals(Object o) {
    return o != null
        && o.getClass() == getClass()
        && hash == ((KadId) o).hash
        && Arrays.equals(bytes, ((KadId) o).bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return toHex();
  }
}
