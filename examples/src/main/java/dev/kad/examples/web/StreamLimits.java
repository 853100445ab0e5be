package dev.kad.examples.web;

import dev.kad.api.KadNode;
import dev.kad.api.Printable;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * The bounds on the application's long-lived streams, so that one client cannot make the node hold
 * thousands of watches (each subscribed at up to k other nodes) or lookups (each with requests in
 * flight). A client past a bound gets a 429 problem with a {@code Retry-After} ({@link
 * ProblemHandler}).
 *
 * <ul>
 *   <li>Watch streams never end on their own: {@code kad.web.max-watches-per-client} (16) and
 *       {@code kad.web.max-watches} (1024). A refused client is told to retry after one {@link
 *       KadController#HEARTBEAT}, by which a stream whose client vanished has written and ended.
 *   <li>Lookup streams end when their lookup does, but nothing bounds how long that takes (unlike a
 *       get, bounded by {@code kad.web.timeout}) nor how many one client starts at once: {@code
 *       kad.web.max-lookups-per-client} (8) and {@code kad.web.max-lookups} (256). A refused client
 *       is told to retry after the node's hard timeout, the longest one request of a lookup waits.
 * </ul>
 *
 * <p>A client is the remote IP address of the connection ({@link StreamLimit#clientOf}): behind a
 * proxy, set {@code server.forward-headers-strategy} so that it is the proxy's client, not the
 * proxy.
 */
@Component
class StreamLimits {

  private final StreamLimit watches;
  private final StreamLimit lookups;

  StreamLimits(
      KadNode node,
      @Value("${kad.web.max-watches:1024}") String maxWatches,
      @Value("${kad.web.max-watches-per-client:16}") String maxWatchesPerClient,
      @Value("${kad.web.max-lookups:256}") String maxLookups,
      @Value("${kad.web.max-lookups-per-client:8}") String maxLookupsPerClient) {
    this.watches =
        new StreamLimit(
            "watch",
            "kad.web.max-watches",
            count("kad.web.max-watches", maxWatches),
            count("kad.web.max-watches-per-client", maxWatchesPerClient),
            KadController.HEARTBEAT);
    this.lookups =
        new StreamLimit(
            "lookup",
            "kad.web.max-lookups",
            count("kad.web.max-lookups", maxLookups),
            count("kad.web.max-lookups-per-client", maxLookupsPerClient),
            node.config().hardTimeout());
  }

  /**
   * The setting as a number. Read as text, because Spring's own conversion failure names the value
   * and a constructor parameter, not the property.
   */
  private static int count(String property, String value) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          property + " must be a whole number but was " + Printable.quoted(value), e);
    }
  }

  /** The bound on watch streams ({@code GET /keys/{key}/watch}). */
  StreamLimit watches() {
    return watches;
  }

  /** The bound on lookup streams ({@code GET /lookups/{id}}). */
  StreamLimit lookups() {
    return lookups;
  }
}
