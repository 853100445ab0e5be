package dev.kad.reactor.routing;

import dev.kad.api.Contact;
import java.util.Objects;
import java.util.Optional;

/**
 * What a failure or an unanswered probe did to the routing table.
 *
 * @param removed whether the contact left its bucket
 * @param promoted the replacement moved into its place, if any: newly in a bucket, it is owed the
 *     same hand-over as a contact added there (Kademlia §2.5)
 */
public record Removal(boolean removed, Optional<Contact> promoted) {

  /** Nothing removed, nothing promoted. */
  static final Removal NONE = new Removal(false, Optional.empty());

  /** Removed, without a replacement to promote. */
  static final Removal REMOVED = new Removal(true, Optional.empty());

  /**
   * Checks the parts.
   *
   * @param removed whether the contact left its bucket
   * @param promoted the replacement moved into its place, if any
   */
  public Removal {
    Objects.requireNonNull(promoted, "promoted");
    if (promoted.isPresent() && !removed) {
      throw new IllegalArgumentException(
          "a replacement is only promoted when a contact is removed");
    }
  }
}
