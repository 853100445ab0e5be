package dev.kad.api;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Objects;

/**
 * Where a node can be reached: a host (name, IPv4 or IPv6 literal) and a port. The TCP transport
 * dials it; the in-memory transport of the testkit uses synthetic addresses of the same form.
 *
 * @param host the host name or IP literal, without brackets: at most {@value #MAX_HOST_LENGTH}
 *     ASCII letters, digits, {@code . - _ : %}
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
   * Validates the parts.
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
    if ((host.indexOf(':') >= 0 || host.indexOf('%') >= 0) && ipv6Bytes(host) == null) {
      // No host name has either: such an address could be dialed by no one, nor printed as text
      // parse() reads back.
      throw new IllegalArgumentException(
          "host with a ':' or '%' must be an IPv6 literal (with an optional %zone) but was "
              + Printable.quoted(host));
    }
    if (endsInNumber(host) && !isDottedQuad(host)) {
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
   * Equal when host and port are, as a record's equality; written out to check identity and the
   * port before the host, since routing tables compare a contact's address on every message, and
   * most often with the very instance they hold.
   *
   * @param o the other object
   * @return whether it is an address with the same host and port
   */
  @Override
  public boolean equals(Object o) {
    return o == this || o instanceof Address a && port == a.port && host.equals(a.host);
  }

  /**
   * Whether {@code other} names the same endpoint: the same port, and the same host ignoring case
   * (host names are case-insensitive), or the same IPv6 address and zone however each literal is
   * written ({@code fd00::5} and {@code FD00:0:0:0:0:0:0:5} alike). No name is looked up.
   *
   * @param other another address
   * @return true when both name the same host and port
   */
  public boolean sameEndpoint(Address other) {
    if (port != other.port) {
      return false;
    }
    if (host.equalsIgnoreCase(other.host)) {
      return true;
    }
    if (host.indexOf(':') < 0 || other.host.indexOf(':') < 0) {
      return false;
    }
    byte[] a = ipv6Bytes(host);
    byte[] b = ipv6Bytes(other.host);
    return a != null
        && b != null
        && Arrays.equals(a, b)
        && zone(host).equalsIgnoreCase(zone(other.host));
  }

  private static String zone(String host) {
    int percent = host.indexOf('%');
    return percent < 0 ? "" : host.substring(percent);
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
   * when {@code host} is no such literal. Only hex digits, colons and dots reach {@link
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
   * The address as {@code host:port}, with brackets around an IPv6 literal.
   *
   * @return the text form, accepted by {@link #parse(String)}
   */
  @Override
  public String toString() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }
}
