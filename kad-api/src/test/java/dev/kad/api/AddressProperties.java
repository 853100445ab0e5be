package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class AddressProperties {

  /**
   * Eight 16-bit groups: random, with zero groups common (so runs of every length and ties occur),
   * small values common (so leading zeros can be written), and one in ten IPv4-mapped.
   */
  @Provide
  Arbitrary<int[]> groups() {
    return Arbitraries.longs()
        .map(
            seed -> {
              SplittableRandom rng = new SplittableRandom(seed);
              int[] g = new int[8];
              for (int i = 0; i < 8; i++) {
                g[i] =
                    switch (rng.nextInt(4)) {
                      case 0, 1 -> 0;
                      case 2 -> rng.nextInt(1 << (4 * (1 + rng.nextInt(3))));
                      default -> rng.nextInt(0x10000);
                    };
              }
              if (rng.nextInt(10) == 0) {
                g[0] = g[1] = g[2] = g[3] = g[4] = 0;
                g[5] = 0xffff;
              }
              return g;
            });
  }

  @Property(tries = 2000)
  void everySpellingOfAnIpv6AddressIsOneAddressWithTheCanonicalText(
      @ForAll("groups") int[] groups, @ForAll long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    String canonical = canonical(groups);
    Address expected = new Address(canonical, 7000);
    assertThat(expected.host()).isEqualTo(canonical);
    assertThat(Address.parse(expected.toString())).isEqualTo(expected);
    assertThat(Address.parse(expected.toString()).toString()).isEqualTo(expected.toString());
    for (String spelling : spellings(groups, rng)) {
      Address a = new Address(spelling, 7000);
      assertThat(a).as(spelling).isEqualTo(expected).hasSameHashCodeAs(expected);
      assertThat(a.host()).as(spelling).isEqualTo(canonical);
      assertThat(Address.parse("[" + spelling + "]:7000")).as(spelling).isEqualTo(expected);
      assertThat(Address.parse(spelling + ":7000")).as(spelling).isEqualTo(expected);
    }
  }

  /**
   * RFC 5952, written out the plain way as an oracle: lower case, no leading zeros, the longest run
   * of two or more zero groups as "::" (the first of runs as long); an IPv4-mapped address as its
   * IPv4 address.
   */
  private static String canonical(int[] g) {
    if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
      return (g[6] >> 8) + "." + (g[6] & 0xff) + "." + (g[7] >> 8) + "." + (g[7] & 0xff);
    }
    int bestStart = -1;
    int bestLength = 1;
    for (int start = 0; start < 8; start++) {
      int length = 0;
      while (start + length < 8 && g[start + length] == 0) {
        length++;
      }
      if (length > bestLength) {
        bestStart = start;
        bestLength = length;
      }
    }
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      parts.add(Integer.toHexString(g[i]));
    }
    if (bestStart < 0) {
      return String.join(":", parts);
    }
    return String.join(":", parts.subList(0, bestStart))
        + "::"
        + String.join(":", parts.subList(bestStart + bestLength, 8));
  }

  /**
   * Texts RFC 4291 allows for the address: written in full, or with "::" for any run of one or more
   * zero groups; each group with up to three leading zeros, in lower, upper or mixed case; the last
   * two groups as a dotted quad or not.
   */
  private static List<String> spellings(int[] g, SplittableRandom rng) {
    List<String> out = new ArrayList<>();
    List<int[]> runs = new ArrayList<>();
    runs.add(null);
    for (int start = 0; start < 8; start++) {
      for (int end = start + 1; end <= 8 && g[end - 1] == 0; end++) {
        runs.add(new int[] {start, end});
      }
    }
    for (int[] run : runs) {
      for (int variant = 0; variant < 3; variant++) {
        out.add(spelling(g, run, variant == 2 && (run == null || run[1] <= 6), rng));
      }
    }
    return out;
  }

  private static String spelling(int[] g, int[] run, boolean dotted, SplittableRandom rng) {
    int last = dotted ? 6 : 8;
    StringBuilder s = new StringBuilder();
    for (int i = 0; i < last; i++) {
      if (run != null && i == run[0]) {
        s.append(i == 0 ? "::" : ":");
        i = run[1] - 1;
        continue;
      }
      s.append(group(g[i], rng));
      if (i < last - 1 || dotted) {
        s.append(':');
      }
    }
    if (dotted) {
      s.append(g[6] >> 8).append('.').append(g[6] & 0xff).append('.');
      s.append(g[7] >> 8).append('.').append(g[7] & 0xff);
    }
    return s.toString();
  }

  private static String group(int value, SplittableRandom rng) {
    String hex = Integer.toHexString(value);
    hex = "0".repeat(rng.nextInt(4 - hex.length() + 1)) + hex;
    return switch (rng.nextInt(3)) {
      case 0 -> hex;
      case 1 -> hex.toUpperCase(Locale.ROOT);
      default -> {
        StringBuilder mixed = new StringBuilder();
        for (char c : hex.toCharArray()) {
          mixed.append(rng.nextBoolean() ? Character.toUpperCase(c) : c);
        }
        yield mixed.toString();
      }
    };
  }
}
