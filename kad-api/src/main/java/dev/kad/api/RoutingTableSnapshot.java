package dev.kad.api;

import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A consistent, immutable view of a node's routing table at one moment.
 *
 * @param self the id the table centers on: the owning node's id, or for a client-mode node ({@link
 *     KadConfig#clientMode()}) a random id no node has, since a client is no node of the network
 *     and the node it publishes for may share its id
 * @param buckets the k-buckets, ordered from the farthest range to the one holding {@code self}
 */
public record RoutingTableSnapshot(NodeId self, List<Bucket> buckets) {

  /**
   * Copies the bucket list.
   *
   * @param self the id the table centers on (see the class)
   * @param buckets the k-buckets, ordered from the farthest range to the one holding {@code self}
   * @throws NullPointerException when a part is null
   */
  public RoutingTableSnapshot {
    Objects.requireNonNull(self, "self");
    buckets = List.copyOf(buckets);
  }

  /**
   * Every contact of every bucket, in bucket order.
   *
   * @return all contacts of the table
   */
  public List<Contact> contacts() {
    return buckets.stream().flatMap(b -> b.contacts().stream()).toList();
  }

  /**
   * The number of contacts in the table.
   *
   * @return the sum of the buckets' sizes
   */
  public int size() {
    return buckets.stream().mapToInt(b -> b.contacts().size()).sum();
  }

  /**
   * The {@code n} contacts closest to {@code target}, nearest first.
   *
   * @param target the id to measure from, of the table's width ({@code self().bits()})
   * @param n how many at most, not negative
   * @return up to {@code n} contacts
   * @throws IllegalArgumentException naming the value when {@code n} is negative or {@code target}
   *     has another width, however many contacts the table holds
   * @throws NullPointerException when {@code target} is null
   */
  public List<Contact> closest(KadId target, int n) {
    Objects.requireNonNull(target, "target");
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative but was " + n);
    }
    if (target.bits() != self.bits()) {
      throw new IllegalArgumentException(
          "target must have the table's " + self.bits() + " bits but had " + target.bits());
    }
    Comparator<Contact> byDistance = (a, b) -> target.compareDistance(a.id(), b.id());
    return contacts().stream().sorted(byDistance).limit(n).toList();
  }

  /**
   * One k-bucket: the ids that share the first {@code depth} bits with {@code prefix}.
   *
   * @param prefix an id whose first {@code depth} bits are the bucket's prefix
   * @param depth the prefix length in bits
   * @param contacts the contacts, least recently seen first
   * @param replacements the replacement cache, most recently seen last
   */
  public record Bucket(
      NodeId prefix, int depth, List<Contact> contacts, List<Contact> replacements) {

    /**
     * Copies the lists.
     *
     * @param prefix an id whose first {@code depth} bits are the bucket's prefix
     * @param depth the prefix length in bits
     * @param contacts the contacts, least recently seen first
     * @param replacements the replacement cache, most recently seen last
     * @throws NullPointerException when a part is null
     */
    public Bucket {
      Objects.requireNonNull(prefix, "prefix");
      contacts = List.copyOf(contacts);
      replacements = List.copyOf(replacements);
    }
  }
}
