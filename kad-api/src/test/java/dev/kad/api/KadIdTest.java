package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class KadIdTest {

  @Test
  void keyOfStringIsTheSha1OrSha256OfItsUtf8Bytes() {
    // Known digests of "abc" (FIPS 180 test vectors).
    assertThat(Key.of("abc").toHex()).isEqualTo("a9993e364706816aba3e25717850c26c9cd0d89d");
    assertThat(Key.of("abc", 256).toHex())
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assertThat(Key.of("abc".getBytes(StandardCharsets.UTF_8))).isEqualTo(Key.of("abc"));
  }

  @Test
  void wrongLengthIsRejectedNamingTheLength() {
    assertThatThrownBy(() -> NodeId.of(new byte[19]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("152");
    assertThatThrownBy(() -> NodeId.parse("abcd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("40 or 64 hex digits but was 4")
        .hasMessageContaining("'abcd'");
  }

  @Test
  void parseOfAGivenWidthNamesTheDigitsThatWidthNeeds() {
    // A node of 160-bit ids asks for 40 digits: "40 or 64" would invite a 64-digit id it refuses.
    String hex = "ab".repeat(20);
    assertThat(NodeId.parse(hex, 160)).isEqualTo(NodeId.parse(hex));
    assertThat(NodeId.parse("cd".repeat(32), 256).bits()).isEqualTo(256);
    assertThatThrownBy(() -> NodeId.parse("abc", 160))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("node id must be 40 hex digits (160-bit ids) but was 3: 'abc'");
    assertThatThrownBy(() -> NodeId.parse("ab".repeat(32), 160))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("node id must be 40 hex digits (160-bit ids) but was 64: 'abab");
    assertThatThrownBy(() -> NodeId.parse(hex, 256))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("node id must be 64 hex digits (256-bit ids) but was 40: 'abab");
    assertThatThrownBy(() -> NodeId.parse("zz".repeat(20), 160))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not hexadecimal");
    assertThatThrownBy(() -> NodeId.parse(hex, 128))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("bits must be 160 or 256 but was 128");
  }

  @Test
  void nonHexIsRejectedQuotingTheText() {
    String bad = "zz" + "0".repeat(38);
    assertThatThrownBy(() -> NodeId.parse(bad))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not hexadecimal")
        .hasMessageContaining(bad);
  }

  @Test
  void aParseErrorQuotesAtMostAPrefixOfTheInputWithControlCharactersEscaped() {
    // Ids come from configuration, command lines and requests: a huge or hostile input must not
    // make a huge message, nor put a terminal escape or a line break into the log line.
    String huge = "0".repeat(1_000_000);
    assertThatThrownBy(() -> NodeId.parse(huge))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("node id must be 40 or 64 hex digits but was 1000000: '0000")
        .hasMessageEndingWith("'... (1000000 chars)")
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
    String escape = "\u001b[2J\u202e" + "0".repeat(35);
    assertThatThrownBy(() -> Key.parse(escape))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("key is not hexadecimal: '\\u001b[2J\\u202e" + "0".repeat(35) + "'");
    assertThatThrownBy(() -> Key.parse("ab\ncd"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("key must be 40 or 64 hex digits but was 5: 'ab\\ncd'");
  }

  @Test
  void nullIsRejectedNamingTheParameter() {
    assertThatThrownBy(() -> NodeId.parse(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> NodeId.of(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> Key.of((String) null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> NodeId.random(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void bucketOutOfRangeIsRejected() {
    NodeId id = NodeId.random(new SplittableRandom(1));
    assertThatThrownBy(() -> id.randomInBucket(160, new SplittableRandom(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("[0, 159] but was 160");
    assertThatThrownBy(() -> NodeId.random(128, new SplittableRandom(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("128");
  }

  @Test
  void bucketIndexOfNeighboursIsZeroAndOfTheFarHalfIsTheTopBit() {
    byte[] zero = new byte[20];
    byte[] one = new byte[20];
    one[19] = 1;
    byte[] top = new byte[20];
    top[0] = (byte) 0x80;
    NodeId origin = NodeId.of(zero);
    assertThat(origin.bucketIndex(NodeId.of(one))).isZero();
    assertThat(origin.bucketIndex(NodeId.of(top))).isEqualTo(159);
    assertThat(origin.bit(0)).isFalse();
    assertThat(NodeId.of(one).bit(0)).isTrue();
    assertThat(NodeId.of(top).bit(159)).isTrue();
  }

  @Test
  void idsAPeerMadeToShareAHashCodeStaySearchableInLogarithmicTime() {
    // The hash is the last four bytes, so a peer can send any number of raw keys or ids sharing
    // one. HashMap turns such a bin into a tree ordered by compareTo, but only when the key class C
    // implements Comparable<C> itself (HashMap.comparableClassFor); otherwise every lookup in the
    // bin compares against every entry (the store's map of keys under its lock, for one).
    for (Class<?> type : java.util.List.of(NodeId.class, Key.class)) {
      assertThat(type.getGenericInterfaces())
          .as(type.getSimpleName())
          .anySatisfy(
              t ->
                  assertThat(t)
                      .isInstanceOfSatisfying(
                          java.lang.reflect.ParameterizedType.class,
                          p -> {
                            assertThat(p.getRawType()).isEqualTo(Comparable.class);
                            assertThat(p.getActualTypeArguments()).containsExactly(type);
                          }));
    }
    java.util.Map<Key, Integer> store = new java.util.HashMap<>();
    for (int i = 0; i < 2_000; i++) {
      byte[] raw = new byte[20];
      raw[0] = (byte) (i >>> 8);
      raw[1] = (byte) i;
      store.put(Key.ofRaw(raw), i);
    }
    assertThat(store.keySet().stream().mapToInt(Key::hashCode).distinct()).hasSize(1);
    for (int i = 0; i < 2_000; i++) {
      byte[] raw = new byte[20];
      raw[0] = (byte) (i >>> 8);
      raw[1] = (byte) i;
      assertThat(store.get(Key.ofRaw(raw))).isEqualTo(i);
    }
  }
}
