package dev.kad.api;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Objects;

/**
 * Where a node can be reached: a host (name, IPv4 or IPv6 literal) and a port. The TCP transport
 * dials it; the in-memory transport of the testkit uses synthetic addresses of the same form.
 *
 * <p>The host is kept in one canonical text per endpoint, so {@link #equals} means the same
 * endpoint and every table, pool and map keyed by addresses holds one entry per peer however its
 * address was written. Nothing is looked up:
 *
 * <ul>
 *   <li>a host name in lower case ({@code Kad-0.Example} is {@code kad-0.example}), as DNS compares
 *       names (RFC 4343);
 *   <li>an IPv4 address as a dotted quad without leading zeros ({@code 010.000.000.005} is {@code
 *       10.0.0.5}, as the transport and the subnet limits read it);
 *   <li>an IPv6 literal in the text of RFC 5952: lower case, no leading zeros, the longest run of
 *       two or more zero groups as {@code ::} (the first of runs as long), a single zero group
 *       written out, the last 32 bits in hex ({@code ::192.0.2.1} is {@code ::c000:201}), and the
 *       {@code %zone} as written, since interface names are case-sensitive;
 *   <li>an IPv4-mapped IPv6 address ({@code ::ffff:192.0.2.1}) as the IPv4 address it maps, its
 *       zone dropped: the JDK dials it as that IPv4 address ({@link java.net.Inet4Address}), and a
 *       peer has one address, one subnet and one connection either way.
 * </ul>
 *
 * <p>{@link #host()} and {@link #toString()} return the canonical text, which is also what goes on
 * the wire.
 *
 * @param host the host name or IP literal, without brackets: at most {@value #MAX_HOST_LENGTH}
 *     ASCII letters, digits, {@code . - _ : %}; kept in its canonical text
 * @param port the port, in {@code [0, 65535]}
 */
public record Address(String host, int port) {

  /**
   * The longest host, a DNS name written out (RFC 1035); IP literals are shorter. Nodes repeat the
   * contacts they hear of in their answers, so hosts of any length would let a few contacts put
   * every answer naming them over a frame.
   */
  public static final int MAX_HOST_LENGTH = 253;

  /**
   * Validates the parts and keeps the host in its canonical text (see above).
   *
   * @param host the host name or IP literal, without brackets: at most {@value #MAX_HOST_LENGTH}
   *     ASCII letters, digits, {@code . - _ : %} (a host name in its ASCII form, IDNA's for names
   *     in other scripts)
   * @param port the port, in {@code [0, 65535]}
   * @throws IllegalArgumentException naming the value when the host is blank, too long or has
   *     another character, ends in a number without being a dotted-quad IPv4 address ({@code 10.5}
   *     and {@code 167772165} are 10.0.0.5 to the JDK, spellings that would each count as a subnet
   *     of their own), or the port is out of range
   */
  public Address {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException(
          "host must not be blank but was " + Printable.quoted(host));
    }
    if (host.length() > MAX_HOST_LENGTH) {
      throw new IllegalArgumentException(
          "host must be at most " + MAX_HOST_LENGTH + " characters but had " + host.length());
    }
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      if (!isHostChar(c)) {
        // Not the host itself: a control character in it would break the line it is shown on.
        throw new IllegalArgumentException(
            String.format(
                "host must be ASCII letters, digits and . - _ : %% only but had U+%04X at index %d",
                (int) c, i));
      }
    }
    byte[] ipv6 = null;
    if (host.indexOf(':') >= 0 || host.indexOf('%') >= 0) {
      ipv6 = ipv6Bytes(host);
      if (ipv6 == null) {
        // No host name has either: such an address could be dialed by no one, nor printed as text
        // parse() reads back.
        throw new IllegalArgumentException(
            "host with a ':' or '%' must be an IPv6 literal (with an optional %zone) but was "
                + Printable.quoted(host));
      }
    }
    boolean numeric = ipv6 == null && endsInNumber(host);
    if (numeric && !isDottedQuad(host)) {
      // The JDK reads "167772165", "10.5" or "0167772165" as 10.0.0.5 (and the C resolver under
      // it "0x0a000005"), but as host names each would be a subnet of its own, and one peer could
      // pass the maxPerSubnet limit once per spelling of its address. A name whose last label is a
      // number is an IPv4 address, as browsers read it (WHATWG URL), in the one form.
      throw new IllegalArgumentException(
          "host ending in a number must be an IPv4 address a.b.c.d of decimal parts in [0, 255]"
              + " but was "
              + Printable.quoted(host));
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in [0, 65535] but was " + port);
    }
    host = ipv6 != null ? ipText(ipv6, host) : numeric ? dottedQuadText(host) : lowerCase(host);
  }

  /**
   * The canonical text of an IP literal from its bytes: a dotted quad for an IPv4(-mapped) address,
   * otherwise RFC 5952's IPv6 text followed by the zone of {@code literal}, if any.
   */
  private static String ipText(byte[] ip, String literal) {
    StringBuilder s = new StringBuilder(literal.length());
    if (ip.length == 4) {
      return appendDottedQuad(s, ip, 0).toString();
    }
    if (isIpv4Mapped(ip)) {
      return appendDottedQuad(s, ip, 12).toString();
    }
    // The longest run of two or more zero groups; the first of runs as long (RFC 5952 4.2.3).
    int runStart = -1;
    int runLength = 1;
    for (int i = 0; i < 8; ) {
      if (group(ip, i) != 0) {
        i++;
        continue;
      }
      int start = i;
      while (i < 8 && group(ip, i) == 0) {
        i++;
      }
      if (i - start > runLength) {
        runStart = start;
        runLength = i - start;
      }
    }
    for (int i = 0; i < 8; i++) {
      if (i == runStart) {
        s.append("::");
        i += runLength - 1;
        continue;
      }
      if (i > 0 && s.charAt(s.length() - 1) != ':') {
        s.append(':');
      }
      appendHex(s, group(ip, i));
    }
    int percent = literal.indexOf('%');
    if (percent >= 0) {
      s.append(literal, percent, literal.length());
    }
    return s.toString();
  }

  /** Whether {@code ip} is in ::ffff:0:0/96: 80 zero bits, then 16 one bits. */
  private static boolean isIpv4Mapped(byte[] ip) {
    for (int i = 0; i < 10; i++) {
      if (ip[i] != 0) {
        return false;
      }
    }
    return ip[10] == (byte) 0xff && ip[11] == (byte) 0xff;
  }

  private static int group(byte[] ip, int i) {
    return (ip[2 * i] & 0xff) << 8 | ip[2 * i + 1] & 0xff;
  }

  /** Appends {@code value}, in {@code [0, 0xffff]}, in lower-case hex without leading zeros. */
  private static void appendHex(StringBuilder s, int value) {
    for (int shift = 12; shift >= 0; shift -= 4) {
      int digit = value >> shift & 0xf;
      if (shift == 0 || value >> shift != 0) {
        s.append(Character.forDigit(digit, 16));
      }
    }
  }

  private static StringBuilder appendDottedQuad(StringBuilder s, byte[] ip, int from) {
    for (int i = from; i < from + 4; i++) {
      if (i > from) {
        s.append('.');
      }
      s.append(ip[i] & 0xff);
    }
    return s;
  }

  /** A dotted quad (checked) without leading zeros, the very instance when it has none. */
  private static String dottedQuadText(String quad) {
    boolean leadingZero = false;
    for (int i = 0; i < quad.length() - 1 && !leadingZero; i++) {
      leadingZero =
          quad.charAt(i) == '0'
              && (i == 0 || quad.charAt(i - 1) == '.')
              && quad.charAt(i + 1) != '.';
    }
    if (!leadingZero) {
      return quad;
    }
    StringBuilder s = new StringBuilder(quad.length());
    int value = 0;
    for (int i = 0; i <= quad.length(); i++) {
      char c = i < quad.length() ? quad.charAt(i) : '.';
      if (c == '.') {
        s.append(value);
        if (i < quad.length()) {
          s.append('.');
        }
        value = 0;
      } else {
        value = value * 10 + (c - '0');
      }
    }
    return s.toString();
  }

  /** {@code name} with ASCII upper-case letters lowered, the very instance when it has none. */
  private static String lowerCase(String name) {
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        char[] chars = name.toCharArray();
        for (int j = i; j < chars.length; j++) {
          if (chars[j] >= 'A' && chars[j] <= 'Z') {
            chars[j] += 'a' - 'A';
          }
        }
        return new String(chars);
      }
    }
    return name;
  }

  /**
   * Whether the last label of {@code host} (after a trailing dot) is a number: decimal digits, or
   * {@code 0x} and hex digits. No such name is a host name; resolvers read it as an IPv4 address.
   */
  private static boolean endsInNumber(String host) {
    if (host.indexOf(':') >= 0) {
      return false; // an IPv6 literal, checked apart
    }
    // Loops, not streams or split: every contact decoded off the wire builds an Address.
    int end = host.endsWith(".") ? host.length() - 1 : host.length();
    int start = host.lastIndexOf('.', end - 1) + 1;
    if (start >= end) {
      return false;
    }
    boolean hex =
        end - start >= 2 && host.charAt(start) == '0' && (host.charAt(start + 1) | 0x20) == 'x';
    for (int i = hex ? start + 2 : start; i < end; i++) {
      char c = host.charAt(i);
      if (hex ? !isAsciiHexDigit(c) : c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }

  /** Whether {@code host} is four decimal parts of 1 to 3 digits, each at most 255. */
  private static boolean isDottedQuad(String host) {
    int parts = 0;
    int digits = 0;
    int value = 0;
    for (int i = 0; i <= host.length(); i++) {
      char c = i < host.length() ? host.charAt(i) : '.';
      if (c == '.') {
        if (digits == 0 || value > 255 || ++parts > 4) {
          return false;
        }
        digits = 0;
        value = 0;
      } else if (c >= '0' && c <= '9' && digits < 3) {
        digits++;
        value = value * 10 + (c - '0');
      } else {
        return false;
      }
    }
    return parts == 4;
  }

  /**
   * Whether {@code c} may be part of a host: what host names (letters, digits, hyphens, dots, and
   * the underscores some use), IPv4 and IPv6 literals ({@code :} and a {@code %zone}) are made of.
   * Nothing a wire format escapes, so a host takes as many bytes in a message as it has characters.
   */
  private static boolean isHostChar(char c) {
    return (c >= 'a' && c <= 'z')
        || (c >= 'A' && c <= 'Z')
        || (c >= '0' && c <= '9')
        || c == '.'
        || c == '-'
        || c == '_'
        || c == ':'
        || c == '%';
  }

  /**
   * Equal when host and port are, as a record's equality: since the host is kept in its canonical
   * text, when both name the same endpoint. Written out to check identity and the port before the
   * host, since routing tables compare a contact's address on every message, and most often with
   * the very instance they hold.
   *
   * @param o the other object
   * @return whether it is an address with the same host and port
   */
  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof Address a && port == a.port && host.equals(a.host);
  }

  /**
   * Whether {@code other} names the same endpoint: {@link #equals}, since every address keeps its
   * host in one canonical text ({@code fd00::5} and {@code FD00:0:0:0:0:0:0:5} are one address, as
   * are {@code Kad-0.example} and {@code kad-0.example}). No name is looked up.
   *
   * @param other another address
   * @return true when both name the same host and port
   */
  public boolean sameEndpoint(Address other) {
    return equals(Objects.requireNonNull(other, "other"));
  }

  /**
   * A hash of host and port, consistent with {@link #equals}.
   *
   * @return the hash
   */
  @Override
  public int hashCode() {
    return 31 * host.hashCode() + port;
  }

  /**
   * Parses {@code host:port}, {@code [ipv6]:port} or {@code ipv6-literal:port}. The port is 1 to 5
   * decimal digits; a host with a colon, bracketed or not, must be an IPv6 literal (checked without
   * any name lookup), so an IPv6 address given without its port ({@code ::1}, {@code fe80::1}) is
   * refused rather than read as a host ending in a colon and a port.
   *
   * @param text the address text
   * @return the address
   * @throws IllegalArgumentException naming the text when it has no port, the port is invalid or
   *     the host is not a valid IPv6 literal where one is needed
   */
  public static Address parse(String text) {
    Objects.requireNonNull(text, "address");
    String s = text.trim();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException(
          "address must be HOST:PORT but was " + Printable.quoted(text));
    }
    String host = s.substring(0, colon);
    String portText = s.substring(colon + 1);
    if (portText.length() > 5 || !portText.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new IllegalArgumentException(
          "address must be HOST:PORT with a numeric port but was " + Printable.quoted(text));
    }
    boolean bracketed = host.startsWith("[") && host.endsWith("]") && host.length() >= 2;
    if (bracketed) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.indexOf('[') >= 0 || host.indexOf(']') >= 0) {
      throw new IllegalArgumentException(
          "address must be HOST:PORT or [IPV6]:PORT but was " + Printable.quoted(text));
    }
    if ((bracketed || host.indexOf(':') >= 0) && !host.isEmpty() && !isIpv6Literal(host)) {
      throw new IllegalArgumentException(
          "address must be HOST:PORT, [IPV6]:PORT or IPV6:PORT, and "
              + Printable.quoted(host)
              + " is not an IPv6 literal (a port missing?) in "
              + Printable.quoted(text));
    }
    try {
      return new Address(host, Integer.parseInt(portText));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "invalid address " + Printable.quoted(text) + ": " + e.getMessage(), e);
    }
  }

  /**
   * Whether {@code host} is an IPv6 literal, with an optional {@code %zone}: {@link #ipv6Bytes}.
   */
  private static boolean isIpv6Literal(String host) {
    return ipv6Bytes(host) != null;
  }

  /**
   * The address an IPv6 literal with an optional {@code %zone} names, without its zone, or null
   * when {@code host} is no such literal: 16 bytes, or the 4 of the IPv4 address an IPv4-mapped
   * literal names, as the JDK returns it. Only hex digits, colons and dots reach {@link
   * InetAddress#getByName}, starting with a hex digit or a colon, which it parses as a literal and
   * never resolves.
   */
  private static byte[] ipv6Bytes(String host) {
    int percent = host.indexOf('%');
    String literal = percent < 0 ? host : host.substring(0, percent);
    if (percent == host.length() - 1 || literal.indexOf(':') < 0) {
      return null;
    }
    char first = literal.charAt(0);
    if (first != ':' && !isAsciiHexDigit(first)) {
      return null;
    }
    for (int i = 0; i < literal.length(); i++) {
      char c = literal.charAt(i);
      if (c != ':' && c != '.' && !isAsciiHexDigit(c)) {
        return null;
      }
    }
    try {
      return InetAddress.getByName(literal).getAddress();
    } catch (UnknownHostException e) {
      return null;
    }
  }

  private static boolean isAsciiHexDigit(char c) {
    return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F';
  }

  /**
   * The address as {@code host:port} in its canonical text, with brackets around an IPv6 literal.
   *
   * @return the text form, accepted by {@link #parse(String)}
   */
  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
