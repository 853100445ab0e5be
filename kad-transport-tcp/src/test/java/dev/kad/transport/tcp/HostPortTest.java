package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;

class HostPortTest {

  @Test
  void anIpv4AddressDialedByItsLiteralPrintsTheIpOnce() throws UnknownHostException {
    // How the transport resolves an Address holding an IP literal: the literal is the host name.
    InetAddress ip = InetAddress.getByAddress("127.0.0.1", new byte[] {127, 0, 0, 1});
    assertThat(new InetSocketAddress(ip, 7000)).hasToString("127.0.0.1/127.0.0.1:7000");
    assertThat(HostPort.of(new InetSocketAddress(ip, 7000))).isEqualTo("127.0.0.1:7000");
    assertThat(HostPort.of(new InetSocketAddress(InetAddress.getByAddress(ip.getAddress()), 7000)))
        .isEqualTo("127.0.0.1:7000");
  }

  @Test
  void anIpv6AddressIsInBracketsAndCompressed() throws UnknownHostException {
    byte[] loopback = new byte[16];
    loopback[15] = 1;
    assertThat(HostPort.of(new InetSocketAddress(InetAddress.getByAddress(loopback), 7000)))
        .isEqualTo("[::1]:7000");
  }

  @Test
  void anUnresolvedAddressPrintsItsHostName() {
    assertThat(HostPort.of(InetSocketAddress.createUnresolved("seed.example", 7000)))
        .isEqualTo("seed.example:7000");
    assertThat(HostPort.of(null)).isEqualTo("null");
  }
}
