package dev.kad.api;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;

/**
 * Verifies a value's Ed25519 signature (RFC 8032) with the JDK, after the checks the JDK leaves
 * out.
 *
 * <p>The JDK verifies by the cofactorless equation {@code [S]B == R + [k]A} and accepts any public
 * key {@code A} that decodes to a point of the curve, the eight points of small order (dividing 8)
 * too. Under such a key {@code [k]A} takes at most eight values whatever the message, so a
 * signature with {@code S = 0} and {@code R} one of those points verifies for a large share of all
 * messages (under the identity point, {@code R} the identity verifies for every message) without
 * anyone holding a private key: whoever "signs" a value with it does not own it, and anyone could
 * replace it. A key pair the JDK generates never has such a public key (its scalar is not a
 * multiple of the group order), so refusing them refuses no honest signer.
 *
 * <p>The small-order points are the identity {@code (0, 1)}, the point {@code (0, -1)} of order 2,
 * the two points {@code (±sqrt(-1), 0)} of order 4 and four points of order 8. Those of order 8 are
 * {@code P} with {@code 2P} of order 4, so {@code y(2P) = 0}; by the doubling formula that is
 * {@code x^2 = -y^2}, and with the curve equation {@code -x^2 + y^2 = 1 + d x^2 y^2} it gives
 * {@code d y^4 + 2 y^2 - 1 = 0}, so {@code y^2 = (-1 ± sqrt(1 + d)) / d}: for one sign this is a
 * square, with roots {@link #Y_ORDER_8} and {@code p - Y_ORDER_8}, each with two {@code x}. A key
 * is refused by its {@code y} alone (the sign bit of {@code x} is ignored), so every encoding of
 * those points is refused, the ones with the sign bit set on {@code x = 0} too.
 *
 * <p>Also refused, whatever a provider does: a {@code y} of {@code p} or more (a non-canonical
 * encoding; the ones of {@code y = 0} and {@code 1} name small-order points, the others a second
 * encoding of a point that has a canonical one), and a signature whose {@code S} is not below the
 * group order {@code L} ({@code S + L} would verify as {@code S} does, a second signature made
 * without the key).
 */
final class Ed25519 {

  private static final String ALGORITHM = "Ed25519";

  /** The SubjectPublicKeyInfo header of an Ed25519 key (RFC 8410): then 32 key bytes. */
  private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  /** The field prime {@code 2^255 - 19}. */
  static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));

  /** The order of the base point, {@code 2^252 + 27742317777372353535851937790883648493}. */
  static final BigInteger L =
      BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));

  /** The {@code y} of two of the four points of order 8 (derived in the class comment). */
  static final BigInteger Y_ORDER_8 =
      new BigInteger("05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826", 16);

  /** The {@code y} of every point of order dividing 8, each below {@code p}. */
  static final Set<BigInteger> SMALL_ORDER_Y =
      Set.of(
          BigInteger.ZERO, // (±sqrt(-1), 0), order 4
          BigInteger.ONE, // the identity, order 1
          P.subtract(BigInteger.ONE), // (0, -1), order 2
          Y_ORDER_8, // order 8
          P.subtract(Y_ORDER_8)); // order 8

  private Ed25519() {}

  /**
   * Why {@code signature} by {@code publicKey} over {@code message} is not valid, or null when it
   * is.
   *
   * @param publicKey the X.509-encoded public key, {@link Value#PUBLIC_KEY_BYTES} long
   * @param signature the signature, {@link Value#SIGNATURE_BYTES} long
   */
  static String problem(byte[] publicKey, byte[] signature, byte[] message) {
    String keyProblem = publicKeyProblem(publicKey);
    if (keyProblem != null) {
      return keyProblem;
    }
    if (littleEndian(signature, 32, 64, false).compareTo(L) >= 0) {
      return "signature is not canonical: its S is not below the group order L, so it is a"
          + " second form of a signature";
    }
    try {
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(
          KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(publicKey)));
      verifier.update(message);
      return verifier.verify(signature) ? null : "signature does not verify";
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      // The JDK's reasons are short and fixed ("Invalid point", "s is too large").
      return "signature does not verify: " + e.getMessage();
    }
  }

  /** Why {@code publicKey} cannot sign anything, or null when it is a usable Ed25519 key. */
  static String publicKeyProblem(byte[] publicKey) {
    if (publicKey.length != X509_PREFIX.length + 32
        || !Arrays.equals(publicKey, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
      return "publicKey is not an X.509-encoded Ed25519 key";
    }
    BigInteger y = littleEndian(publicKey, X509_PREFIX.length, publicKey.length, true);
    if (y.compareTo(P) >= 0) {
      return "publicKey is not a canonical Ed25519 encoding: its y is not below 2^255 - 19";
    }
    if (SMALL_ORDER_Y.contains(y)) {
      return "publicKey is a small-order Ed25519 point, under which signatures verify without a"
          + " private key";
    }
    return null;
  }

  /** The little-endian integer in {@code bytes[from, to)}, without the top bit if asked. */
  private static BigInteger littleEndian(byte[] bytes, int from, int to, boolean dropTopBit) {
    byte[] bigEndian = new byte[to - from];
    for (int i = 0; i < bigEndian.length; i++) {
      bigEndian[i] = bytes[to - 1 - i];
    }
    if (dropTopBit) {
      bigEndian[0] &= 0x7f;
    }
    return new BigInteger(1, bigEndian);
  }
}
