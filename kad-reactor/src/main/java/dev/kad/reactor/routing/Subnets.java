package dev.kad.reactor.routing;

import dev.kad.api.Address;
import java.util.Arrays;

/**
 * What the routing table reads from an address without looking anything up: its subnet for the
 * per-bucket diversity limit (/24 for IPv4, /48 for IPv6), its public IP for the per-bucket IP
 * limit (an IPv4 address or an IPv6 /64; the subscriber registry counts subscribers by it too), and
 * whether it can be dialed at all.
 */
public final class Subnets {

  private Subnets() {}

  /**
   * Whether a contact at {@code address} could be dialed: not port 0, and, for an IP literal, not
   * an unspecified (0.0.0.0/8, ::), multicast (224.0.0.0/4, ff00::/8) or reserved-and-broadcast
   * (240.0.0.0/4) address. A host name is taken as dialable: nothing is looked up here. Loopback
   * and private ranges are dialable, as local clusters and tests use them.
   *
   * @param address an address a peer advertised or returned
   * @return false for an address no request could reach
   */
  public static boolean dialable(Address address) {
    if (address.port() == 0) {
      return false;
    }
    String host = address.host();
    if (plainlyDialable(host)) {
      return true;
    }
    if (host.indexOf(':') >= 0) {
      int[] g = ipv6(withoutZone(host));
      if (g == null) {
        return true;
      }
      if ((g[0] & 0xff00) == 0xff00) {
        return false;
      }
      boolean unspecified = true;
      for (int group : g) {
        unspecified &= group == 0;
      }
      if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
        return ipv4Dialable(g[6] >> 8);
      }
      return !unspecified;
    }
    int[] octets = ipv4(host);
    return octets == null || ipv4Dialable(octets[0]);
  }

  /**
   * The common case without parsing, since every contact of every answer passes here: a host that
   * starts with 1 to 223 (an IPv4 literal of a unicast range, or a host name) or with a letter
   * other than the f of an IPv6 multicast literal.
   */
  private static boolean plainlyDialable(String host) {
    if (host.isEmpty()) {
      return false;
    }
    char c = host.charAt(0);
    if (c >= '1' && c <= '9') {
      int octet = 0;
      for (int i = 0; i < host.length() && i < 3; i++) {
        char d = host.charAt(i);
        if (d < '0' || d > '9') {
          break;
        }
        octet = octet * 10 + (d - '0');
      }
      return octet < 224 && host.indexOf(':') < 0;
    }
    return (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') && c != 'f' && c != 'F';
  }

  private static boolean ipv4Dialable(int firstOctet) {
    return firstOctet != 0 && firstOctet < 224;
  }

  /**
   * A key equal for two addresses of the same subnet, an IPv6 literal's zone aside. Anything but an
   * IP literal (a host name, a malformed literal) is its own subnet: nothing is ever looked up,
   * since this runs on the transport's thread under the routing table's lock.
   */
  static String of(Address address) {
    String host = address.host();
    if (host.indexOf(':') >= 0) {
      // The zone (scope id) names an interface of the dialing host, not a network: free text a
      // peer picks, which made one address a new subnet per zone.
      int[] g = ipv6(withoutZone(host));
      if (g == null) {
        return host;
      }
      if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
        // An IPv4-mapped address is that IPv4 address.
        return "v4:" + (g[6] >> 8) + "." + (g[6] & 0xff) + "." + (g[7] >> 8);
      }
      return "v6:" + g[0] + ":" + g[1] + ":" + g[2];
    }
    int[] octets = ipv4(host);
    return octets == null ? host : "v4:" + octets[0] + "." + octets[1] + "." + octets[2];
  }

  /**
   * The IP {@link dev.kad.api.KadConfig#maxPerIp()} counts a contact at {@code address} against, a
   * key equal for two addresses of one IPv4 address or one IPv6 /64 whatever their ports (as the
   * TCP transport's per-IP bounds count a source), or null for an address the limit exempts: a host
   * name (nothing is looked up), a loopback (127.0.0.0/8, ::1), private (10.0.0.0/8, 172.16.0.0/12,
   * 192.168.0.0/16), carrier-grade NAT (100.64.0.0/10), link-local (169.254.0.0/16, fe80::/10) or
   * unique-local (fc00::/7) address, or the IPv4-mapped form of one of these. Those leave local
   * clusters, private networks and the simulated network's 10.x addresses as they were. The
   * subscriber registry ({@link dev.kad.reactor.watch.SubscriberRegistry}) counts a subscriber by
   * the same key, so a host bounded here is bounded there alike.
   *
   * <p>Runs on every insertion into a bucket that does not split, so an IPv4 address, the common
   * case, is read without allocating: {@link Address} keeps it as a canonical dotted quad, which is
   * its own key.
   *
   * @param address a contact's or a sender's address
   * @return the key of its public IP, or null when the per-IP bounds exempt it
   */
  public static String limitedIp(Address address) {
    String host = address.host();
    if (host.indexOf(':') < 0) {
      // Address keeps a host whose last label is a number only as a dotted quad: anything else
      // is a name ("kad-7" ends in a digit too).
      int lastDot = host.lastIndexOf('.');
      if (lastDot < 0 || lastDot == host.length() - 1) {
        return null;
      }
      for (int i = lastDot + 1; i < host.length(); i++) {
        char c = host.charAt(i);
        if (c < '0' || c > '9') {
          return null;
        }
      }
      int dot = host.indexOf('.');
      int a = decimal(host, 0, dot);
      int b = decimal(host, dot + 1, host.indexOf('.', dot + 1));
      return localIpv4(a, b) ? null : host;
    }
    int[] g = ipv6(withoutZone(host));
    if (g == null) {
      return null;
    }
    if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
      // Address keeps these as IPv4 already; one that came here would count as that address.
      return localIpv4(g[6] >> 8, g[6] & 0xff)
          ? null
          : (g[6] >> 8) + "." + (g[6] & 0xff) + "." + (g[7] >> 8) + "." + (g[7] & 0xff);
    }
    boolean loopback =
        g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0 && g[6] == 0
            && g[7] == 1;
    if (loopback || (g[0] & 0xffc0) == 0xfe80 || (g[0] & 0xfe00) == 0xfc00) {
      return null;
    }
    return "v6:"
        + Integer.toHexString(g[0])
        + ":"
        + Integer.toHexString(g[1])
        + ":"
        + Integer.toHexString(g[2])
        + ":"
        + Integer.toHexString(g[3]);
  }

  /**
   * Whether {@code other} is at the IP {@code ip}, a key {@link #limitedIp} gave: for an IPv4 key,
   * whether its host is that very text, without parsing it.
   */
  static boolean atIp(String ip, Address other) {
    String host = other.host();
    if (!ip.startsWith("v6:")) {
      return host.equals(ip);
    }
    return host.indexOf(':') >= 0 && ip.equals(limitedIp(other));
  }

  /** Whether the IPv4 address starting {@code a.b} is loopback, private, shared or link-local. */
  private static boolean localIpv4(int a, int b) {
    return a == 10
        || a == 127
        || (a == 172 && (b & 0xf0) == 16)
        || (a == 192 && b == 168)
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 169 && b == 254);
  }

  /** The decimal number {@code s} holds from {@code from} to {@code to}, checked by Address. */
  private static int decimal(String s, int from, int to) {
    int n = 0;
    for (int i = from; i < to; i++) {
      n = n * 10 + (s.charAt(i) - '0');
    }
    return n;
  }

  private static String withoutZone(String host) {
    int percent = host.indexOf('%');
    return percent < 0 ? host : host.substring(0, percent);
  }

  /** The four octets of a dotted IPv4 literal, or null. */
  static int[] ipv4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    int[] octets = new int[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) {
        return null;
      }
      octets[i] = Integer.parseInt(p);
      if (octets[i] > 255) {
        return null;
      }
    }
    return octets;
  }

  /** The eight 16-bit groups of an IPv6 literal (RFC 4291 text forms), or null. */
  static int[] ipv6(String s) {
    int gap = s.indexOf("::");
    if (gap >= 0 && s.indexOf("::", gap + 1) >= 0) {
      return null;
    }
    int[] head = groups(gap < 0 ? s : s.substring(0, gap), gap < 0);
    int[] tail = gap < 0 ? new int[0] : groups(s.substring(gap + 2), true);
    if (head == null || tail == null) {
      return null;
    }
    int given = head.length + tail.length;
    if (gap < 0 ? given != 8 : given > 7) {
      return null;
    }
    int[] out = Arrays.copyOf(head, 8);
    System.arraycopy(tail, 0, out, 8 - tail.length, tail.length);
    return out;
  }

  /** Colon-separated hex groups, the last possibly a dotted IPv4 address (two groups). */
  private static int[] groups(String s, boolean mayEndInIpv4) {
    if (s.isEmpty()) {
      return new int[0];
    }
    String[] parts = s.split(":", -1);
    int[] out = new int[parts.length + 1];
    int n = 0;
    for (int i = 0; i < parts.length; i++) {
      String p = parts[i];
      if (i == parts.length - 1 && mayEndInIpv4 && p.indexOf('.') >= 0) {
        int[] v4 = ipv4(p);
        if (v4 == null) {
          return null;
        }
        out[n++] = v4[0] << 8 | v4[1];
        out[n++] = v4[2] << 8 | v4[3];
      } else if (p.isEmpty() || p.length() > 4 || !p.chars().allMatch(Subnets::isHex)) {
        return null;
      } else {
        out[n++] = Integer.parseInt(p, 16);
      }
    }
    return Arrays.copyOf(out, n);
  }

  private static boolean isHex(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }
}
