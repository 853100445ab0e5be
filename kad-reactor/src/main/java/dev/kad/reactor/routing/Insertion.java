package dev.kad.reactor.routing;

import dev.kad.api.Contact;
import java.util.Optional;

/**
 * What the routing table did with a contact it heard from.
 *
 * @param kind what happened
 * @param toPing the least-recently-seen contact of the full bucket that should be pinged now,
 *     if any: the caller pings it and reports the outcome with {@link
 *     RoutingTable#pingResult(Contact, boolean)}
 */
public record Insertion(Kind kind, Optional<Contact> toPing) {

  /** What happened to the contact. */
  public enum Kind {
    /** It was new and took a free place (possibly after a split). */
    ADDED,
    /** It was known and moved to the tail of its bucket. */
    REFRESHED,
    /** Its bucket was full: it waits in the replacement cache. */
    CACHED,
    /** The subnet limit of its bucket was reached. */
    REJECTED_SUBNET,
    /** It is this node. */
    SELF
  }

  static Insertion of(Kind kind) {
    return new Insertion(kind, Optional.empty());
  }
}
