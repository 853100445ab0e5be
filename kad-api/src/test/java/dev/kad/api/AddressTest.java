package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AddressTest {

  @Test
  void parsesHostPortAndBracketedIpv6AndPrintsThemBack() {
    assertThat(Address.parse("127.0.0.1:4000")).isEqualTo(new Address("127.0.0.1", 4000));
    assertThat(Address.parse("node.example:1")).isEqualTo(new Address("node.example", 1));
    Address v6 = Address.parse("[::1]:4000");
    assertThat(v6).isEqualTo(new Address("::1", 4000));
    assertThat(v6.toString()).isEqualTo("[::1]:4000");
    assertThat(Address.parse(v6.toString())).isEqualTo(v6);
    assertThat(new Address("127.0.0.1", 4000).toString()).isEqualTo("127.0.0.1:4000");
  }

  @Test
  void equalityIsTheSameEndpointSinceAHostNameIsKeptInLowerCase() {
    // Host names are case-insensitive (RFC 4343): the routing table, the transport's connection
    // pool and the subnet limits compare addresses with equals, so one peer must be one address.
    Address a = new Address("Kad-0.EXAMPLE", 7000);
    assertThat(a.host()).isEqualTo("kad-0.example");
    assertThat(a.toString()).isEqualTo("kad-0.example:7000");
    assertThat(a).isEqualTo(new Address("kad-0.example", 7000)).hasSameHashCodeAs(a);
    assertThat(Address.parse("KAD-0.Example:7000")).isEqualTo(a).hasSameHashCodeAs(a);
    assertThat(a).isNotEqualTo(new Address("kad-0.example", 7001));
    assertThat(a.sameEndpoint(new Address("kad-0.EXAMPLE", 7000))).isTrue();
    assertThat(a.sameEndpoint(new Address("kad-0.example", 7001))).isFalse();
    assertThat(new Address("My_Host.xn--KD-VIA.Example", 1).host())
        .isEqualTo("my_host.xn--kd-via.example");
  }

  @Test
  void rejectsTextWithoutAValidPortNamingIt() {
    assertThatThrownBy(() -> Address.parse("localhost"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("localhost");
    assertThatThrownBy(() -> Address.parse("localhost:99999"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("99999");
    assertThatThrownBy(() -> Address.parse("localhost:http"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("localhost:http");
    assertThatThrownBy(() -> new Address(" ", 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("host");
  }

  @Test
  void ipv6LiteralWithoutAPortIsRejectedNotReadAsAHostEndingInAColon() {
    // Before, "::1" parsed as host ":" port 1 and "fe80::1" as host "fe80:" port 1.
    for (String text : new String[] {"::1", "fe80::1", "2001:db8::1", "[::1]x:80", "x]:80"}) {
      assertThatThrownBy(() -> Address.parse(text))
          .as(text)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'" + text + "'");
    }
    assertThat(Address.parse("2001:db8::1:8080")).isEqualTo(new Address("2001:db8::1", 8080));
    assertThat(Address.parse("::ffff:10.0.0.1:80")).isEqualTo(new Address("::ffff:10.0.0.1", 80));
    assertThat(Address.parse("[fe80::1%eth0]:80")).isEqualTo(new Address("fe80::1%eth0", 80));
    assertThat(Address.parse("[::]:0")).isEqualTo(new Address("::", 0));
  }

  @Test
  void aHostNoNameOrAddressCanBeIsRefusedNamingTheProblem() {
    assertThat(new Address("h".repeat(253), 1).host()).hasSize(Address.MAX_HOST_LENGTH);
    assertThatThrownBy(() -> new Address("n".repeat(254), 7000))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("host must be at most 253 characters but had 254");
    assertThatThrownBy(() -> Address.parse("node 1:7000"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "invalid address 'node 1:7000': host must be ASCII letters, digits and . - _ : %"
                + " only but had U+0020 at index 4");
    // Nothing a wire format escapes, nothing that breaks a log line, no other script.
    for (String host :
        new String[] {"10.0.0.1\nx", "k\u00e4d.example", "a\u0000", "a\"b", "a\\b", "a/b"}) {
      assertThatThrownBy(() -> new Address(host, 1))
          .as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("host must be ASCII letters, digits and . - _ : % only");
    }
    for (String host : new String[] {"kad-0.kad.svc.cluster.local", "fe80::1%eth0", "my_host"}) {
      assertThat(new Address(host, 1).host()).isEqualTo(host);
    }
  }

  @Test
  void anErrorQuotesAtMostAPrefixOfTheTextWithControlCharactersEscaped() {
    // Addresses come from configuration, command lines and peers: a huge or hostile text must not
    // make a huge message, nor put a line break or a terminal escape into the log line.
    for (String huge :
        new String[] {
          "h".repeat(1_000_000), "h".repeat(999_997) + ":80", "[" + "h".repeat(999_995) + "]:80"
        }) {
      assertThatThrownBy(() -> Address.parse(huge))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("... (1000000 chars)")
          .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(400));
    }
    assertThatThrownBy(() -> Address.parse("a\nb:1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid address 'a\\nb:1': ")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    assertThatThrownBy(() -> Address.parse("\u001b[31m:1"))
        .isInstanceOf(IllegalArgumentException.class)
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\u001b").contains("\\u001b"));
    String blank = " \r\n".repeat(100_000);
    assertThatThrownBy(() -> new Address(blank, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("host must not be blank but was ' \\r\\n \\r\\n")
        .hasMessageEndingWith("'... (300000 chars)");
  }

  @Test
  void aHostEndingInANumberMustBeADottedQuadSoEveryIpv4AddressHasOneSubnet() {
    // The JDK (and the C resolver under it) dials all of these as 10.0.0.5, but read as host names
    // each was a subnet of its own: a peer could pass the maxPerSubnet limit with as many contacts
    // as it has spellings of one address.
    for (String host :
        new String[] {
          "167772165",
          "0167772165",
          "10.5",
          "10.0.5",
          "0",
          "0x0a000005",
          "10.0.0.0x5",
          "10.0.0.5.",
          "1.2.3.4.5",
          "256.1.1.1",
          "node.example.7"
        }) {
      assertThatThrownBy(() -> new Address(host, 7000))
          .as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "host ending in a number must be an IPv4 address a.b.c.d of decimal parts in"
                  + " [0, 255] but was '"
                  + host
                  + "'");
    }
    for (String host :
        new String[] {
          "10.0.0.5",
          "0.0.0.0",
          "255.255.255.255",
          "node-1",
          "1e100.net",
          "kad-0.kad.svc.cluster.local",
          "10.0.0.5x",
          "0xdead.example"
        }) {
      assertThat(new Address(host, 1).host()).isEqualTo(host);
    }
  }

  @Test
  void aDottedQuadIsKeptWithoutLeadingZerosAsTheTransportAndSubnetsReadItInDecimal() {
    // Netty dials 010.000.000.005 as 10.0.0.5 and Subnets keys it so: one address, one text.
    Address a = new Address("010.000.000.005", 7000);
    assertThat(a.host()).isEqualTo("10.0.0.5");
    assertThat(a)
        .isEqualTo(new Address("10.0.0.5", 7000))
        .hasSameHashCodeAs(new Address("10.0.0.5", 7000));
    assertThat(Address.parse("192.168.001.010:1").toString()).isEqualTo("192.168.1.10:1");
    assertThat(new Address("000.000.000.000", 1).host()).isEqualTo("0.0.0.0");
    assertThat(new Address("255.255.255.255", 1).host()).isEqualTo("255.255.255.255");
  }

  @Test
  void anIpv6LiteralIsKeptInTheCanonicalTextOfRfc5952() {
    String[][] cases = {
      // 4.1 leading zeros dropped; 4.2.1 "::" as much as possible; 4.3 lower case
      {"2001:0db8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"},
      {"2001:db8::0:1", "2001:db8::1"},
      {"2001:DB8::1", "2001:db8::1"},
      {"2001:Db8:0:0:0:0:0:Abcd", "2001:db8::abcd"},
      // 4.2.2 one zero group is not compressed
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"2001:db8::1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      // 4.2.3 the longest run, the first of runs as long
      {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8::1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8:0:0:1::1", "2001:db8::1:0:0:1"},
      {"0:0:0:0:0:0:0:1", "::1"},
      {"0:0:0:0:0:0:0:0", "::"},
      {"::", "::"},
      {"1:0:0:0:0:0:0:0", "1::"},
      {"0:0:1:0:0:0:0:0", "0:0:1::"},
      {"fe80:0000:0000:0000:0000:0000:0000:0001%eth0", "fe80::1%eth0"},
      // the zone is kept as written: interface names are case-sensitive (eth0, ETH0)
      {"FE80::1%ETH0", "fe80::1%ETH0"},
      // the deprecated IPv4-compatible ::/96 and other embedded forms are IPv6 addresses
      {"::192.0.2.1", "::c000:201"},
      {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
      {"::ffff:0:192.0.2.1", "::ffff:0:c000:201"},
      {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
      // an IPv4-mapped address is that IPv4 address: the JDK dials it as one (Inet4Address)
      {"::ffff:192.0.2.1", "192.0.2.1"},
      {"::FFFF:C000:0201", "192.0.2.1"},
      {"0:0:0:0:0:ffff:192.0.2.1", "192.0.2.1"},
      {"::ffff:192.0.2.1%eth0", "192.0.2.1"},
    };
    for (String[] c : cases) {
      Address address = new Address(c[0], 4000);
      assertThat(address.host()).as(c[0]).isEqualTo(c[1]);
      assertThat(address).as(c[0]).isEqualTo(new Address(c[1], 4000));
      assertThat(new Address(c[1], 4000).host()).as(c[1]).isEqualTo(c[1]);
    }
    assertThat(Address.parse("[FD00:0:0:0:0:0:0:5]:4000"))
        .isEqualTo(Address.parse("[fd00::5]:4000"))
        .hasSameHashCodeAs(Address.parse("[fd00::5]:4000"))
        .hasToString("[fd00::5]:4000");
    assertThat(Address.parse("[::ffff:192.0.2.1]:80")).hasToString("192.0.2.1:80");
    assertThat(new Address("fe80::1%eth0", 1)).isNotEqualTo(new Address("fe80::1%ETH0", 1));
  }

  @Test
  void anIpv6LiteralIsTheSameEndpointInEveryTextForm() {
    // A node advertising "fd00::5" is its own seed "[fd00:0:0:0:0:0:0:5]:7000": the bootstrap
    // skips such a seed rather than dialing itself, which fails behind a NAT without hairpinning.
    Address a = new Address("fd00::5", 7000);
    assertThat(a.sameEndpoint(new Address("fd00:0:0:0:0:0:0:5", 7000))).isTrue();
    assertThat(a.sameEndpoint(new Address("FD00:0000::0005", 7000))).isTrue();
    assertThat(new Address("::1", 1).sameEndpoint(new Address("0:0:0:0:0:0:0:1", 1))).isTrue();
    assertThat(new Address("fe80::1%eth0", 1).sameEndpoint(new Address("fe80:0::1%eth0", 1)))
        .isTrue();
    assertThat(new Address("fe80::1%eth0", 1).sameEndpoint(new Address("fe80::1%eth1", 1)))
        .isFalse();
    assertThat(new Address("fe80::1%eth0", 1).sameEndpoint(new Address("fe80::1", 1))).isFalse();
    assertThat(a).isEqualTo(new Address("FD00:0000::0005", 7000));
    assertThat(a.sameEndpoint(new Address("fd00::6", 7000))).isFalse();
    assertThat(a.sameEndpoint(new Address("fd00:0:0:0:0:0:0:5", 7001))).isFalse();
  }

  @Test
  void portIsDecimalDigitsOnly() {
    for (String text : new String[] {"host:+80", "host:-1", "host:0x50", "host:000080"}) {
      assertThatThrownBy(() -> Address.parse(text))
          .as(text)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(text);
    }
    assertThat(Address.parse("host:080")).isEqualTo(new Address("host", 80));
  }

  @Test
  void aColonOrAZoneOutsideAnIpv6LiteralIsRefusedSoEveryAddressPrintsAsTextParseReads() {
    for (String host : new String[] {"node:1", "a:b", ":", "10.0.0.1:80", "node%1", "::1%", "%"}) {
      assertThatThrownBy(() -> new Address(host, 7000))
          .as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "host with a ':' or '%' must be an IPv6 literal (with an optional %zone) but was '"
                  + host
                  + "'");
    }
    for (String host :
        new String[] {"::", "::1", "2001:db8::1", "::ffff:10.0.0.1", "fe80::1%eth0"}) {
      Address address = new Address(host, 7000);
      assertThat(Address.parse(address.toString())).as(host).isEqualTo(address);
    }
  }
}
