package dev.kad.transport.tcp;

import io.netty.util.NetUtil;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * A socket address as log lines and exception messages print it: {@code host:port}, an IPv6 host in
 * brackets ({@code [::1]:7000}), as {@link dev.kad.api.Address} prints. {@link
 * InetSocketAddress#toString()} prints a resolved address as {@code name/ip:port}, so a connection
 * dialed to an IP literal read {@code 127.0.0.1/127.0.0.1:7000} and an accepted one {@code
 * /127.0.0.1:7000}.
 */
final class HostPort {

  private HostPort() {}

  /**
   * Formats a socket address.
   *
   * @param address the address, usually a channel's remote or local one; null before it connects
   * @return the IP (or, unresolved, the host name) and port; any other address as it prints itself
   */
  static String of(SocketAddress address) {
    return address instanceof InetSocketAddress socket
        ? NetUtil.toSocketAddressString(socket)
        : String.valueOf(address);
  }
}
