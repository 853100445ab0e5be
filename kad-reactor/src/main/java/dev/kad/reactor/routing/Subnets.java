package dev.kad.reactor.routing;

import dev.kad.api.Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/** The subnet of an address for the per-bucket diversity limit: /24 for IPv4, /48 for IPv6. */
final class Subnets {

  private Subnets() {}

  /**
   * A key equal for two addresses of the same subnet. A host name (not an IP literal) is its own
   * subnet: names are never resolved here.
   */
  static String of(Address address) {
    String host = address.host();
    if (host.indexOf(':') >= 0) {
      try {
        // A literal with ':' is parsed, never looked up.
        byte[] b = InetAddress.getByName(host).getAddress();
        return "v6:" + Arrays.toString(Arrays.copyOf(b, 6));
      } catch (UnknownHostException e) {
        return host;
      }
    }
    String[] parts = host.split("\\.", -1);
    if (parts.length == 4 && Arrays.stream(parts).allMatch(Subnets::isOctet)) {
      return "v4:" + parts[0] + "." + parts[1] + "." + parts[2];
    }
    return host;
  }

  private static boolean isOctet(String s) {
    if (s.isEmpty() || s.length() > 3 || !s.chars().allMatch(Character::isDigit)) {
      return false;
    }
    return Integer.parseInt(s) <= 255;
  }
}
