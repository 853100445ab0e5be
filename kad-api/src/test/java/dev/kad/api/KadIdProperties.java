package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HexFormat;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

class KadIdProperties {

  @Provide
  Arbitrary<Integer> widths() {
    return Arbitraries.of(KadId.BITS_160, KadId.BITS_256);
  }

  /** Triples of random ids of one width; a third of the draws share long prefixes. */
  @Provide
  Arbitrary<NodeId[]> triples() {
    return widths()
        .flatMap(
            bits ->
                Combinators.combine(
                        Arbitraries.longs(), Arbitraries.integers().between(0, bits - 1))
                    .as(
                        (seed, shared) -> {
                          SplittableRandom rng = new SplittableRandom(seed);
                          NodeId a = NodeId.random(bits, rng);
                          if (seed % 3 == 0) {
                            return new NodeId[] {
                              a, a.randomInBucket(shared, rng), a.randomInBucket(shared, rng)
                            };
                          }
                          return new NodeId[] {
                            a, NodeId.random(bits, rng), NodeId.random(bits, rng)
                          };
                        }));
  }

  @Property
  void distanceToItselfIsZeroAndOnlyToItself(@ForAll("triples") NodeId[] ids) {
    NodeId a = ids[0];
    NodeId b = ids[1];
    assertThat(a.distance(a).isZero()).isTrue();
    assertThat(a.bucketIndex(a)).isEqualTo(-1);
    assertThat(a.distance(b).isZero()).isEqualTo(a.equals(b));
  }

  @Property
  void distanceIsSymmetric(@ForAll("triples") NodeId[] ids) {
    assertThat(ids[0].distance(ids[1])).isEqualTo(ids[1].distance(ids[0]));
    assertThat(ids[0].bucketIndex(ids[1])).isEqualTo(ids[1].bucketIndex(ids[0]));
  }

  @Property
  void triangleInequalityHolds(@ForAll("triples") NodeId[] ids) {
    NodeId a = ids[0];
    NodeId b = ids[1];
    NodeId c = ids[2];
    var ab = new java.math.BigInteger(1, a.distance(b).toBytes());
    var bc = new java.math.BigInteger(1, b.distance(c).toBytes());
    var ac = new java.math.BigInteger(1, a.distance(c).toBytes());
    assertThat(ab.add(bc)).isGreaterThanOrEqualTo(ac);
  }

  @Property
  void exactlyOneIdLiesAtEachDistance(@ForAll("triples") NodeId[] ids) {
    NodeId x = ids[0];
    Distance d = x.distance(ids[1]);
    // The only candidate is x XOR d; every other id (here ids[2] unless it happens to be it)
    // lies at another distance.
    NodeId y = NodeId.of(xor(x.toBytes(), d.toBytes()));
    assertThat(y).isEqualTo(ids[1]);
    assertThat(x.distance(ids[2]).equals(d)).isEqualTo(ids[2].equals(y));
  }

  @Property
  void compareDistanceAgreesWithUnsignedOrderOfDistances(@ForAll("triples") NodeId[] ids) {
    NodeId target = ids[0];
    int expected = Integer.signum(target.distance(ids[1]).compareTo(target.distance(ids[2])));
    assertThat(Integer.signum(target.compareDistance(ids[1], ids[2]))).isEqualTo(expected);
    assertThat(Integer.signum(target.compareDistance(ids[2], ids[1]))).isEqualTo(-expected);
  }

  @Property
  void highBitsAreTheLeadingSixtyFourBitsAndOrderDistancesUnlessTied(
      @ForAll("triples") NodeId[] ids) {
    NodeId target = ids[0];
    var value = new java.math.BigInteger(1, target.toBytes());
    assertThat(target.highBits()).isEqualTo(value.shiftRight(target.bits() - 64).longValue());
    long a = ids[1].highBits() ^ target.highBits();
    long b = ids[2].highBits() ^ target.highBits();
    if (a != b) {
      assertThat(Integer.signum(Long.compareUnsigned(a, b)))
          .isEqualTo(Integer.signum(target.compareDistance(ids[1], ids[2])));
    }
  }

  @Property
  void bucketIndexIsTheHighestSetBitOfTheDistance(@ForAll("triples") NodeId[] ids) {
    var d = new java.math.BigInteger(1, ids[0].distance(ids[1]).toBytes());
    assertThat(ids[0].bucketIndex(ids[1])).isEqualTo(d.bitLength() - 1);
    assertThat(ids[0].distance(ids[1]).bucketIndex()).isEqualTo(d.bitLength() - 1);
    assertThat(ids[0].commonPrefixLength(ids[1])).isEqualTo(ids[0].bits() - d.bitLength());
  }

  @Property(tries = 300)
  void randomInBucketFallsInTheBucketAskedFor(
      @ForAll("widths") int bits, @ForAll long seed, @ForAll @IntRange(min = 0, max = 255) int i) {
    int index = i % bits;
    SplittableRandom rng = new SplittableRandom(seed);
    NodeId self = NodeId.random(bits, rng);
    for (int n = 0; n < 20; n++) {
      assertThat(self.bucketIndex(self.randomInBucket(index, rng))).isEqualTo(index);
    }
  }

  @Property(tries = 50)
  void randomInBucketCoversTheLowBitsUniformly(@ForAll long seed) {
    // In bucket 3 the three bits below the flipped one are free: 8 equally likely patterns.
    SplittableRandom rng = new SplittableRandom(seed);
    NodeId self = NodeId.random(rng);
    int[] counts = new int[8];
    int draws = 8_000;
    for (int n = 0; n < draws; n++) {
      counts[self.randomInBucket(3, rng).byteAt(19) & 0x07]++;
    }
    for (int c : counts) {
      assertThat(c).isBetween(draws / 8 - 250, draws / 8 + 250);
    }
  }

  @Property
  void hexRoundTrips(@ForAll("triples") NodeId[] ids) {
    NodeId id = ids[0];
    assertThat(NodeId.parse(id.toHex())).isEqualTo(id);
    assertThat(NodeId.parse(id.toHex().toUpperCase(java.util.Locale.ROOT))).isEqualTo(id);
    assertThat(Key.parse(id.toHex()).asNodeId()).isEqualTo(id);
    assertThat(id.toHex()).hasSize(id.bits() / 4).isEqualTo(HexFormat.of().formatHex(id.toBytes()));
  }

  @Property
  void noAccessorHandsOutTheInternalArray(@ForAll("triples") NodeId[] ids) {
    NodeId id = ids[0];
    byte[] copy = id.toBytes();
    copy[0] ^= (byte) 0xff;
    assertThat(id.toBytes()[0]).isNotEqualTo(copy[0]);
    byte[] source = ids[1].toBytes();
    NodeId built = NodeId.of(source);
    source[0] ^= (byte) 0xff;
    assertThat(built).isEqualTo(ids[1]);
  }

  @Property
  void naturalOrderIsTheUnsignedValueAndAgreesWithEquals(@ForAll("triples") NodeId[] ids) {
    NodeId a = ids[0];
    NodeId b = ids[2];
    int expected =
        Integer.signum(
            new java.math.BigInteger(1, a.toBytes())
                .compareTo(new java.math.BigInteger(1, b.toBytes())));
    assertThat(Integer.signum(a.compareTo(b))).isEqualTo(expected);
    assertThat(Integer.signum(b.compareTo(a))).isEqualTo(-expected);
    assertThat(Integer.signum(a.asKey().compareTo(b.asKey()))).isEqualTo(expected);
    assertThat(a.compareTo(b) == 0).isEqualTo(a.equals(b));
    assertThat(a.compareTo(NodeId.of(a.toBytes()))).isZero();
  }

  @Property
  void keysHashWithTheWidthsDigest(@ForAll String name) {
    assertThat(Key.of(name).bits()).isEqualTo(160);
    assertThat(Key.of(name, 256).bits()).isEqualTo(256);
    assertThat(Key.of(name)).isEqualTo(Key.of(name));
  }

  @Property
  void keyAndNodeIdOfTheSameBytesAreNotEqualButAtDistanceZero(@ForAll("triples") NodeId[] ids) {
    Key key = ids[0].asKey();
    assertThat(key).isNotEqualTo((Object) ids[0]);
    assertThat(ids[0].distance(key).isZero()).isTrue();
  }

  @Property
  void widthsNeverMix(@ForAll long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    NodeId narrow = NodeId.random(160, rng);
    NodeId wide = NodeId.random(256, rng);
    assertThatThrownBy(() -> narrow.distance(wide))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("160 bits vs 256 bits");
  }

  private static byte[] xor(byte[] a, byte[] b) {
    byte[] out = new byte[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = (byte) (a[i] ^ b[i]);
    }
    return out;
  }
}
