package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.Signature;
import java.security.SignatureException;
import java.security.spec.X509EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Ed25519 keys and signatures that the JDK accepts but a value must not: small-order public keys,
 * under which signatures verify without a private key, and non-canonical encodings.
 */
class ValueSignatureKeysTest {

  private static final BigInteger P = BigInteger.TWO.pow(255).subtract(BigInteger.valueOf(19));
  private static final BigInteger D =
      BigInteger.valueOf(-121665).multiply(BigInteger.valueOf(121666).modInverse(P)).mod(P);
  private static final byte[] X509_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");

  private final NodeId publisher = NodeId.random(new SplittableRandom(7));
  private final Instant expiry = Instant.parse("2026-01-01T00:00:00Z");
  private final Key key = Key.of("k");

  @Test
  void theJdkVerifiesSignaturesMadeWithoutAKeyUnderEverySmallOrderKeyAndAValueRefusesThem()
      throws Exception {
    // R = the identity, S = 0: [S]B = R + [k]A holds whenever [k]A is the identity, which for A of
    // order n is one hash k in n (every k for the identity itself).
    byte[] forged = new byte[Value.SIGNATURE_BYTES];
    System.arraycopy(encode(BigInteger.ONE, false), 0, forged, 0, 32);
    int forgedAccepted = 0;
    for (BigInteger y : smallOrderYs()) {
      for (boolean xOdd : new boolean[] {false, true}) {
        byte[] publicKey = x509(encode(y, xOdd));
        if (!jdkAcceptsKey(publicKey)) {
          continue; // x = 0 with the sign bit set: no point, the JDK refuses it
        }
        Value accepted = null;
        for (int seq = 0; seq < 400 && accepted == null; seq++) {
          Value candidate = new Value(new byte[] {1}, publisher, 1, seq, expiry, publicKey, forged);
          if (jdkVerifies(publicKey, forged, candidate.signedBytes(key))) {
            accepted = candidate;
          }
        }
        assertThat(accepted).as("a forged signature the JDK accepts under y=%s", y).isNotNull();
        forgedAccepted++;
        assertThat(accepted.verifySignature(key)).as("y=%s odd=%s", y, xOdd).isFalse();
        assertThat(accepted.signatureProblem(key))
            .hasValueSatisfying(r -> assertThat(r).contains("small-order"));
      }
    }
    assertThat(forgedAccepted).as("the eight points of order dividing 8").isEqualTo(8);
  }

  @Test
  void nonCanonicalPublicKeysAreRefused() {
    List<byte[]> keys = new ArrayList<>();
    for (long small : new long[] {0, 1, 3}) { // y + p for y = 0, 1 (small order) and 3 (a point)
      keys.add(encode(P.add(BigInteger.valueOf(small)), false));
      keys.add(encode(P.add(BigInteger.valueOf(small)), true));
    }
    keys.add(encode(BigInteger.ONE, true)); // x = 0 with its sign bit set
    keys.add(encode(P.subtract(BigInteger.ONE), true));
    for (byte[] raw : keys) {
      Value value =
          new Value(
              new byte[] {1}, publisher, 1, 1, expiry, x509(raw), new byte[Value.SIGNATURE_BYTES]);
      assertThat(value.verifySignature(key)).isFalse();
      assertThat(value.signatureProblem(key))
          .hasValueSatisfying(r -> assertThat(r).startsWith("publicKey is"));
    }
  }

  @Test
  void aSignatureWhoseSIsNotBelowTheGroupOrderIsRefused() throws Exception {
    var keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Value signed = Value.of(new byte[] {1}, publisher, 1, 1, expiry).signedWith(key, keys);
    byte[] sig = signed.signature();
    BigInteger s = new BigInteger(1, reverse(Arrays.copyOfRange(sig, 32, 64)));
    System.arraycopy(encode(s.add(Ed25519.L), false), 0, sig, 32, 32);
    Value malleated = new Value(new byte[] {1}, publisher, 1, 1, expiry, signed.publicKey(), sig);

    // The JDK refuses it too (by throwing rather than answering false).
    assertThatThrownBy(() -> jdkVerifies(signed.publicKey(), sig, malleated.signedBytes(key)))
        .isInstanceOf(SignatureException.class);
    assertThat(malleated.verifySignature(key)).isFalse();
    assertThat(malleated.signatureProblem(key))
        .hasValueSatisfying(r -> assertThat(r).contains("not below the group order"));
    assertThat(signed.signatureProblem(key)).isEmpty();
  }

  @Test
  void signingWithASmallOrderPublicKeyIsRefusedNamingIt() throws Exception {
    var real = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    var identity =
        KeyFactory.getInstance("Ed25519")
            .generatePublic(new X509EncodedKeySpec(x509(encode(BigInteger.ONE, false))));
    Value value = Value.of(new byte[] {1}, publisher, 1, 1, expiry);
    assertThatThrownBy(
            () -> value.signedWith(key, new java.security.KeyPair(identity, real.getPrivate())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("small-order");
  }

  @Test
  void theSmallOrderPointsAreThoseOfTheCurveEquation() {
    // y^2 = (-1 ± sqrt(1 + d)) / d for the points of order 8 (Ed25519's class comment).
    List<BigInteger> order8 = new ArrayList<>();
    BigInteger root = sqrt(BigInteger.ONE.add(D));
    for (BigInteger r : List.of(root, P.subtract(root))) {
      BigInteger y = sqrt(r.subtract(BigInteger.ONE).multiply(D.modInverse(P)).mod(P));
      if (y != null) {
        order8.add(y);
        order8.add(P.subtract(y));
      }
    }
    assertThat(order8).hasSize(2).contains(Ed25519.Y_ORDER_8);
    assertThat(Ed25519.SMALL_ORDER_Y).containsExactlyInAnyOrderElementsOf(smallOrderYs());
  }

  private static List<BigInteger> smallOrderYs() {
    BigInteger root = sqrt(BigInteger.ONE.add(D));
    List<BigInteger> ys =
        new ArrayList<>(List.of(BigInteger.ZERO, BigInteger.ONE, P.subtract(BigInteger.ONE)));
    for (BigInteger r : List.of(root, P.subtract(root))) {
      BigInteger y = sqrt(r.subtract(BigInteger.ONE).multiply(D.modInverse(P)).mod(P));
      if (y != null) {
        ys.add(y);
        ys.add(P.subtract(y));
      }
    }
    return ys;
  }

  /** A square root mod p (p = 5 mod 8), or null when {@code a} is no square. */
  private static BigInteger sqrt(BigInteger a) {
    BigInteger x = a.modPow(P.add(BigInteger.valueOf(3)).shiftRight(3), P);
    if (x.multiply(x).subtract(a).mod(P).signum() != 0) {
      x = x.multiply(BigInteger.TWO.modPow(P.subtract(BigInteger.ONE).shiftRight(2), P)).mod(P);
    }
    return x.multiply(x).subtract(a).mod(P).signum() == 0 ? x : null;
  }

  /** The 32-byte little-endian encoding of {@code y} with the sign bit of x. */
  private static byte[] encode(BigInteger y, boolean xOdd) {
    byte[] bigEndian = y.toByteArray();
    byte[] out = new byte[32];
    for (int i = 0; i < 32 && i < bigEndian.length; i++) {
      out[i] = bigEndian[bigEndian.length - 1 - i];
    }
    if (xOdd) {
      out[31] |= (byte) 0x80;
    }
    return out;
  }

  private static byte[] x509(byte[] raw) {
    byte[] out = Arrays.copyOf(X509_PREFIX, Value.PUBLIC_KEY_BYTES);
    System.arraycopy(raw, 0, out, X509_PREFIX.length, 32);
    return out;
  }

  private static byte[] reverse(byte[] b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = b[b.length - 1 - i];
    }
    return out;
  }

  private static boolean jdkAcceptsKey(byte[] publicKey) {
    try {
      Signature.getInstance("Ed25519")
          .initVerify(
              KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(publicKey)));
      return true;
    } catch (GeneralSecurityException e) {
      return false;
    }
  }

  private static boolean jdkVerifies(byte[] publicKey, byte[] signature, byte[] message)
      throws GeneralSecurityException {
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(
        KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(publicKey)));
    verifier.update(message);
    return verifier.verify(signature);
  }
}
