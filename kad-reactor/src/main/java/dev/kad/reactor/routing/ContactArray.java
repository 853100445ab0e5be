package dev.kad.reactor.routing;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadId;
import dev.kad.api.NodeId;
import java.util.List;

/**
 * An immutable sequence of contacts beside the first 64 bits of each id and the hash of each
 * address. Finding a contact, ordering contacts by distance and finding another id at an address
 * mostly compare those numbers without touching the contacts: a lookup through a large network
 * meets every routing table cold, so each object not touched is a cache miss saved (reading each
 * contact's address to compare it made the simulation benchmark a third slower). Every change makes
 * a new array.
 */
final class ContactArray {

  static final ContactArray EMPTY = new ContactArray(new Contact[0], new long[0], new int[0]);

  private final Contact[] contacts;

  /** {@code contacts[i].id().highBits()}, in the same order. */
  private final long[] prefixes;

  /** {@code contacts[i].address().hashCode()}, in the same order. */
  private final int[] addressHashes;

  private ContactArray(Contact[] contacts, long[] prefixes, int[] addressHashes) {
    this.contacts = contacts;
    this.prefixes = prefixes;
    this.addressHashes = addressHashes;
  }

  int size() {
    return contacts.length;
  }

  boolean isEmpty() {
    return contacts.length == 0;
  }

  Contact get(int index) {
    return contacts[index];
  }

  /** The first 64 bits of the id of contact {@code index}. */
  long prefix(int index) {
    return prefixes[index];
  }

  /** The index of the contact with {@code id}, or -1. */
  int indexOf(NodeId id) {
    long prefix = id.highBits();
    for (int i = 0; i < prefixes.length; i++) {
      if (prefixes[i] == prefix && contacts[i].id().equals(id)) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The index of a contact at {@code address} (host and port) under another id than {@code id}, or
   * -1. Compares the addresses' hashes first, kept beside the contacts.
   */
  int indexOfOtherAt(Address address, NodeId id) {
    int hash = address.hashCode();
    for (int i = 0; i < addressHashes.length; i++) {
      if (addressHashes[i] == hash
          && contacts[i].address().equals(address)
          && !contacts[i].id().equals(id)) {
        return i;
      }
    }
    return -1;
  }

  /** Whether {@code contact} (id and address) is the last one. */
  boolean endsWith(Contact contact) {
    return contacts.length > 0 && contacts[contacts.length - 1].equals(contact);
  }

  /** These contacts and {@code added} last. */
  ContactArray plus(Contact added) {
    return plus(added, added.id().highBits(), added.address().hashCode());
  }

  /** These contacts without the one at {@code index}. */
  ContactArray minus(int index) {
    return new ContactArray(
        without(contacts, new Contact[contacts.length - 1], index),
        without(prefixes, new long[prefixes.length - 1], index),
        without(addressHashes, new int[addressHashes.length - 1], index));
  }

  /** These contacts with the one at {@code index} moved to the end. */
  ContactArray movedToEnd(int index) {
    int last = contacts.length - 1;
    Contact[] c = without(contacts, new Contact[last + 1], index);
    long[] p = without(prefixes, new long[last + 1], index);
    int[] h = without(addressHashes, new int[last + 1], index);
    c[last] = contacts[index];
    p[last] = prefixes[index];
    h[last] = addressHashes[index];
    return new ContactArray(c, p, h);
  }

  /**
   * These contacts with {@code newest} last, in place of any contact with its id, and the oldest
   * dropped beyond {@code capacity} (at least 1).
   */
  ContactArray withNewest(Contact newest, int capacity) {
    long prefix = newest.id().highBits();
    int known = indexOf(newest.id());
    int kept = Math.min(contacts.length - (known >= 0 ? 1 : 0), capacity - 1);
    Contact[] c = new Contact[kept + 1];
    long[] p = new long[kept + 1];
    int[] h = new int[kept + 1];
    // Copy the newest kept ones, from the end, skipping the one replaced.
    int to = kept;
    for (int from = contacts.length - 1; to > 0; from--) {
      if (from != known) {
        to--;
        c[to] = contacts[from];
        p[to] = prefixes[from];
        h[to] = addressHashes[from];
      }
    }
    c[kept] = newest;
    p[kept] = prefix;
    h[kept] = newest.address().hashCode();
    return new ContactArray(c, p, h);
  }

  /** The contacts whose id has bit {@code index} (from the most significant) set, or clear. */
  ContactArray withBit(int index, boolean set) {
    ContactArray out = EMPTY;
    for (int i = 0; i < contacts.length; i++) {
      if (bitAt(contacts[i].id(), index) == set) {
        out = out.plus(contacts[i], prefixes[i], addressHashes[i]);
      }
    }
    return out;
  }

  List<Contact> asList() {
    return List.of(contacts);
  }

  private ContactArray plus(Contact added, long prefix, int addressHash) {
    int n = contacts.length;
    Contact[] c = new Contact[n + 1];
    long[] p = new long[n + 1];
    int[] h = new int[n + 1];
    System.arraycopy(contacts, 0, c, 0, n);
    System.arraycopy(prefixes, 0, p, 0, n);
    System.arraycopy(addressHashes, 0, h, 0, n);
    c[n] = added;
    p[n] = prefix;
    h[n] = addressHash;
    return new ContactArray(c, p, h);
  }

  /** Copies {@code from}, an array of this one's length, to {@code to} without one element. */
  private <T> T without(T from, T to, int index) {
    System.arraycopy(from, 0, to, 0, index);
    System.arraycopy(from, index + 1, to, index, contacts.length - index - 1);
    return to;
  }

  /** Bit {@code index} counted from the most significant bit. */
  static boolean bitAt(KadId id, int index) {
    return ((id.byteAt(index >>> 3) >>> (7 - (index & 7))) & 1) != 0;
  }
}
