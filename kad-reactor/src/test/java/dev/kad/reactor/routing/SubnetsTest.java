package dev.kad.reactor.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import java.net.InetAddress;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SubnetsTest {

  private static String subnet(String host) {
    return Subnets.of(new Address(host, 4000));
  }

  @Test
  void anIpv6AddressIsInItsSubnetWhateverItsZoneAndNotDialableWhenUnspecifiedOrMulticast() {
    // A zone (scope id) is free text a peer picks: read as its own subnet, each zone let one
    // address pass the maxPerSubnet limit once more.
    String subnet = subnet("2001:db8:1:2::1");
    for (String host :
        new String[] {"2001:db8:1:2::1%1", "2001:db8:1::5%2", "2001:db8:1::9%eth0"}) {
      assertThat(subnet(host)).as(host).isEqualTo(subnet);
    }
    assertThat(subnet("fe80::1%eth0")).isEqualTo(subnet("fe80::2%eth1"));
    for (String host : new String[] {"::%1", "ff02::1%eth0"}) {
      assertThat(Subnets.dialable(new Address(host, 4000))).as(host).isFalse();
    }
    assertThat(Subnets.dialable(new Address("fe80::1%eth0", 4000))).isTrue();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "0.0.0.0:4000",
        "0.1.2.3:4000",
        "224.0.0.1:4000",
        "239.255.255.250:1900",
        "255.255.255.255:4000",
        "[::]:4000",
        "[ff02::1]:4000",
        "[::ffff:224.0.0.1]:4000",
        "10.1.2.3:0",
        "node.example:0"
      })
  void addressesNoRequestCouldReachAreNotDialable(String address) {
    assertThat(Subnets.dialable(Address.parse(address))).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "10.1.2.3:4000",
        "127.0.0.1:7000",
        "192.168.1.1:1",
        "223.255.255.254:4000",
        "[::1]:4000",
        "[2001:db8::1]:65535",
        "[::ffff:10.1.2.3]:4000",
        "node.example:4000"
      })
  void addressesOfRealNodesAreDialable(String address) {
    assertThat(Subnets.dialable(Address.parse(address))).isTrue();
  }

  @Test
  void everyIpv4LiteralIsDialableExactlyWhenItsFirstOctetIsAUnicastOne() {
    SplittableRandom rng = new SplittableRandom(11);
    for (int i = 0; i < 5000; i++) {
      int first = i < 256 ? i : rng.nextInt(256);
      String host =
          first + "." + rng.nextInt(256) + "." + rng.nextInt(256) + "." + rng.nextInt(256);
      assertThat(Subnets.dialable(new Address(host, 4000)))
          .as(host)
          .isEqualTo(first != 0 && first < 224);
      assertThat(Subnets.dialable(new Address("::ffff:" + host, 4000)))
          .as("::ffff:" + host)
          .isEqualTo(first != 0 && first < 224);
    }
  }

  @Test
  void ipv4AddressesShareTheirSlash24() {
    assertThat(subnet("10.1.2.3")).isEqualTo(subnet("10.1.2.200"));
    assertThat(subnet("10.1.2.3")).isNotEqualTo(subnet("10.1.3.3"));
    assertThat(subnet("::ffff:10.1.2.3")).isEqualTo(subnet("10.1.2.99"));
  }

  @Test
  void ipv6AddressesShareTheirSlash48InEveryTextForm() {
    assertThat(subnet("2001:db8:1::1")).isEqualTo(subnet("2001:0db8:0001:ffff::2"));
    assertThat(subnet("2001:db8:1::1")).isEqualTo(subnet("2001:DB8:1:0:0:0:0:9"));
    assertThat(subnet("2001:db8:1::1")).isNotEqualTo(subnet("2001:db8:2::1"));
    assertThat(subnet("::1")).isEqualTo(subnet("0:0:0:0:0:0:0:1"));
  }

  @Test
  void parsesWhatTheJdkFormatsAndAgreesWithIt() throws Exception {
    SplittableRandom rng = new SplittableRandom(7);
    for (int i = 0; i < 500; i++) {
      byte[] bytes = new byte[16];
      rng.nextBytes(bytes);
      // Runs of zero groups, written compressed as well.
      for (int g = 0; g < 8; g++) {
        if (rng.nextInt(3) == 0) {
          bytes[2 * g] = 0;
          bytes[2 * g + 1] = 0;
        }
      }
      String full = InetAddress.getByAddress(bytes).getHostAddress();
      for (String text : new String[] {full, compressed(full)}) {
        int[] groups = Subnets.ipv6(text);
        assertThat(groups).as(text).isNotNull();
        for (int g = 0; g < 8; g++) {
          assertThat(groups[g])
              .as(text)
              .isEqualTo((bytes[2 * g] & 0xff) << 8 | (bytes[2 * g + 1] & 0xff));
        }
      }
    }
  }

  /** The JDK's full form with its first run of zero groups written as {@code ::}. */
  private static String compressed(String full) {
    String[] g = full.split(":");
    int start = -1;
    int end = -1;
    for (int i = 0; i < g.length && start < 0; i++) {
      if (g[i].equals("0")) {
        start = i;
        end = i;
        while (end + 1 < g.length && g[end + 1].equals("0")) {
          end++;
        }
      }
    }
    if (start < 0) {
      return full;
    }
    String head = String.join(":", java.util.Arrays.copyOfRange(g, 0, start));
    String tail = String.join(":", java.util.Arrays.copyOfRange(g, end + 1, g.length));
    return head + "::" + tail;
  }

  /**
   * Not literals Subnets groups: each is its own subnet, and nothing is looked up. (A host with a
   * colon that is no IPv6 literal, such as {@code g:1}, is no longer an Address at all, nor is a
   * host ending in a number that is no dotted quad, such as {@code 10.1.2}, which the JDK dials as
   * 10.1.0.2; a zoned IPv6 literal is in its address's subnet.)
   */
  @ParameterizedTest
  @ValueSource(strings = {"node-7.example", "1e100.net", "10.1.2.3x"})
  void anythingButALiteralIsItsOwnSubnet(String host) {
    assertThat(subnet(host)).isEqualTo(host);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "100.64.0.1",
        "100.127.255.255",
        "169.254.0.1",
        "::1",
        "fe80::1%eth0",
        "febf:ffff::1",
        "fc00::1",
        "fdff::1",
        "::ffff:192.168.1.1",
        "node.example",
        "kad-7"
      })
  void theIpLimitExemptsLocalPrivateAndLinkLocalAddressesAndNames(String host) {
    assertThat(Subnets.limitedIp(new Address(host, 4000))).isNull();
  }

  @Test
  void theIpLimitCountsAPublicIpv4AddressOrIpv6Slash64WhateverThePort() {
    for (String host :
        new String[] {
          "172.15.255.255", "172.32.0.0", "100.63.0.1", "100.128.0.1", "169.253.0.1", "1.1.1.1"
        }) {
      assertThat(Subnets.limitedIp(new Address(host, 1))).as(host).isEqualTo(host);
    }
    String ip = Subnets.limitedIp(new Address("203.0.113.5", 1));
    assertThat(Subnets.limitedIp(new Address("::ffff:203.0.113.5", 2))).isEqualTo(ip);
    assertThat(Subnets.atIp(ip, new Address("203.0.113.5", 9))).isTrue();
    assertThat(Subnets.atIp(ip, new Address("203.0.113.50", 1))).isFalse();
    String v6 = Subnets.limitedIp(new Address("2001:db8:1:2::1", 1));
    for (String host : new String[] {"2001:db8:1:2::9", "2001:db8:1:2:ffff:1:2:3%eth0"}) {
      assertThat(Subnets.limitedIp(new Address(host, 5))).as(host).isEqualTo(v6);
      assertThat(Subnets.atIp(v6, new Address(host, 5))).as(host).isTrue();
    }
    for (String host : new String[] {"2001:db8:1:3::1", "fe80::1", "203.0.113.5"}) {
      assertThat(Subnets.atIp(v6, new Address(host, 5))).as(host).isFalse();
    }
    assertThat(Subnets.limitedIp(new Address("fbff::1", 1))).isNotNull();
    assertThat(Subnets.limitedIp(new Address("fec0::1", 1))).isNotNull();
  }
}
