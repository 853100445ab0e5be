package dev.kad.api;

import java.util.Objects;

/**
 * Where a node can be reached: a host (name, IPv4 or IPv6 literal) and a port. The TCP transport
 * dials it; the in-memory transport of the testkit uses synthetic addresses of the same form.
 *
 * @param host the host name or IP literal, without brackets
 * @param port the port, in {@code [0, 65535]}
 */
public record Address(String host, int port) {

  /**
   * Validates the parts.
   *
   * @param host the host name or IP literal, without brackets
   * @param port the port, in {@code [0, 65535]}
   * @throws IllegalArgumentException naming the value when the host is blank or the port out of
   *     range
   */
  public Address {
    Objects.requireNonNull(host, "host");
    if (host.isBlank()) {
      throw new IllegalArgumentException("host must not be blank but was '" + host + "'");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be in [0, 65535] but was " + port);
    }
  }

  /**
   * Parses {@code host:port}, {@code [ipv6]:port} or {@code ipv6-literal:port}.
   *
   * @param text the address text
   * @return the address
   * @throws IllegalArgumentException naming the text when it has no port or the port is invalid
   */
  public static Address parse(String text) {
    Objects.requireNonNull(text, "address");
    String s = text.trim();
    int colon = s.lastIndexOf(':');
    if (colon <= 0 || colon == s.length() - 1) {
      throw new IllegalArgumentException("address must be HOST:PORT but was '" + text + "'");
    }
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "address must be HOST:PORT with a numeric port but was '" + text + "'", e);
    }
    try {
      return new Address(host, port);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid address '" + text + "': " + e.getMessage(), e);
    }
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
