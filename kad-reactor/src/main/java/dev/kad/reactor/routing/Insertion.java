package dev.kad.reactor.routing;

import dev.kad.api.Contact;
import java.util.Optional;

/**
 * What the routing table did with a contact it heard from.
 *
 * @param kind what happened
 * @param toPing the least-recently-seen contact of the full bucket that should be pinged now, if
 *     any: the caller pings it and reports the outcome with {@link RoutingTable#pingResult(Contact,
 *     boolean)}
 */
public record Insertion(Kind kind, Optional<Contact> toPing) {

  /** What happened to the contact. */
  public enum Kind {
    /** It was new and took a free place (possibly after a split). */
    ADDED,
    /** It was known and moved to the tail of its bucket. */
    REFRESHED,
    /**
     * Its id is known at another address, in a bucket or a replacement cache, which the table
     * keeps, neither refreshed nor saved from failing: the message came from elsewhere.
     */
    OTHER_ADDRESS,
    /** Its bucket was full: it waits in the replacement cache. */
    CACHED,
    /** The subnet limit of its bucket was reached. */
    REJECTED_SUBNET,
    /**
     * The limit of its bucket on contacts of one public IP address ({@link
     * dev.kad.api.KadConfig#maxPerIp()}) was reached.
     */
    REJECTED_IP,
    /** Its address cannot be dialed: port 0, an unspecified, multicast or broadcast IP. */
    REJECTED_ADDRESS,
    /**
     * Its address (host and port) is held by another id in its bucket, as a contact or in the
     * replacement cache: an address holds one id per bucket. Neither a failure nor a success of
     * either id: the holder stays as it was until it fails, or until the address answers as the new
     * id ({@link RoutingTable#answered(Contact)}).
     */
    REJECTED_ADDRESS_TAKEN,
    /** It is this node. */
    SELF
  }

  /** One shared instance per kind for the insertions that ask for no ping. */
  private static final Insertion[] WITHOUT_PING = withoutPing();

  static Insertion of(Kind kind) {
    return WITHOUT_PING[kind.ordinal()];
  }

  private static Insertion[] withoutPing() {
    Kind[] kinds = Kind.values();
    Insertion[] out = new Insertion[kinds.length];
    for (Kind kind : kinds) {
      out[kind.ordinal()] = new Insertion(kind, Optional.empty());
    }
    return out;
  }
}
