package dev.kad.reactor.routing;

import dev.kad.api.Contact;
import dev.kad.api.KadId;
import dev.kad.api.NodeId;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * One k-bucket: the contacts whose ids start with a prefix of {@code depth} bits, least recently
 * seen first, and a replacement cache, most recently seen last. Immutable: every change makes a new
 * bucket, so a table snapshot never changes under a reader.
 *
 * <p>The contacts sit in a {@link ContactArray} beside the entries, so finding a contact and
 * picking the closest never touch the entries.
 */
final class Bucket {

  private static final Entry[] NO_ENTRIES = new Entry[0];

  final byte[] low;

  /** The first 64 bits of {@link #low}, big-endian: a bucket's range is read without the array. */
  final long lowHigh;

  final int depth;
  final Instant touchedAt;

  /** Least recently seen first. */
  private final Entry[] entries;

  /** {@code entries[i].contact()}, in the same order. */
  private final ContactArray members;

  /** Most recently seen last. */
  private final ContactArray replacements;

  /** An empty bucket. */
  Bucket(byte[] low, int depth, Instant touchedAt) {
    this(low, highBits(low), depth, NO_ENTRIES, ContactArray.EMPTY, ContactArray.EMPTY, touchedAt);
  }

  private Bucket(
      byte[] low,
      long lowHigh,
      int depth,
      Entry[] entries,
      ContactArray members,
      ContactArray replacements,
      Instant touchedAt) {
    this.low = low;
    this.lowHigh = lowHigh;
    this.depth = depth;
    this.entries = entries;
    this.members = members;
    this.replacements = replacements;
    this.touchedAt = touchedAt;
  }

  private static long highBits(byte[] bytes) {
    long high = 0;
    for (int i = 0; i < Long.BYTES; i++) {
      high = (high << 8) | (bytes[i] & 0xff);
    }
    return high;
  }

  /** One contact with what the table knows of its liveness. */
  record Entry(
      Contact contact, Instant lastSeen, int failures, long failureEpoch, boolean pinging) {

    NodeId id() {
      return contact.id();
    }

    Entry seen(Instant now) {
      return new Entry(contact, now, 0, failureEpoch, false);
    }

    Entry pinged() {
      return new Entry(contact, lastSeen, failures, failureEpoch, true);
    }

    Entry unpinged() {
      return new Entry(contact, lastSeen, failures, failureEpoch, false);
    }

    Entry failed(long epoch) {
      return new Entry(contact, lastSeen, failures + 1, epoch, pinging);
    }
  }

  NodeId low() {
    return NodeId.of(low);
  }

  int size() {
    return entries.length;
  }

  boolean isEmpty() {
    return entries.length == 0;
  }

  boolean isFull(int k) {
    return entries.length >= k;
  }

  Entry entry(int index) {
    return entries[index];
  }

  /** The contacts, least recently seen first, with their id prefixes. */
  ContactArray members() {
    return members;
  }

  /** The replacement cache, most recently seen last. */
  ContactArray replacements() {
    return replacements;
  }

  boolean covers(KadId id) {
    int full = depth >>> 3;
    for (int i = 0; i < full; i++) {
      if (id.byteAt(i) != low[i]) {
        return false;
      }
    }
    int rest = depth & 7;
    if (rest == 0) {
      return true;
    }
    int mask = (0xff << (8 - rest)) & 0xff;
    return ((id.byteAt(full) ^ low[full]) & mask) == 0;
  }

  /** The index of the entry with {@code id}, or -1. */
  int indexOf(NodeId id) {
    return members.indexOf(id);
  }

  /** This bucket with {@code added} as its most recently seen entry. */
  Bucket plus(Entry added) {
    Entry[] e = Arrays.copyOf(entries, entries.length + 1);
    e[entries.length] = added;
    ContactArray m = members.plus(added.contact());
    return new Bucket(low, lowHigh, depth, e, m, replacements, touchedAt);
  }

  /** This bucket without entry {@code index}. */
  Bucket minus(int index) {
    Entry[] e = new Entry[entries.length - 1];
    System.arraycopy(entries, 0, e, 0, index);
    System.arraycopy(entries, index + 1, e, index, entries.length - index - 1);
    return new Bucket(low, lowHigh, depth, e, members.minus(index), replacements, touchedAt);
  }

  /** This bucket with entry {@code index} taken out and {@code moved}, the same contact, last. */
  Bucket movedToTail(int index, Entry moved) {
    Entry[] e = new Entry[entries.length];
    System.arraycopy(entries, 0, e, 0, index);
    System.arraycopy(entries, index + 1, e, index, entries.length - index - 1);
    e[entries.length - 1] = moved;
    return new Bucket(low, lowHigh, depth, e, members.movedToEnd(index), replacements, touchedAt);
  }

  /** This bucket with entry {@code index} replaced by {@code changed}, the same contact. */
  Bucket with(int index, Entry changed) {
    Entry[] e = entries.clone();
    e[index] = changed;
    return new Bucket(low, lowHigh, depth, e, members, replacements, touchedAt);
  }

  /** This bucket with another replacement cache. */
  Bucket withReplacements(ContactArray newReplacements) {
    return new Bucket(low, lowHigh, depth, entries, members, newReplacements, touchedAt);
  }

  Bucket touched(Instant now) {
    return new Bucket(low, lowHigh, depth, entries, members, replacements, now);
  }

  /** Splits on the bit after the prefix, keeping the order of contacts and replacements. */
  Bucket[] split() {
    int bit = depth;
    byte[] highLow = low.clone();
    highLow[bit >>> 3] |= (byte) (0x80 >>> (bit & 7));
    Bucket zero = new Bucket(low, depth + 1, touchedAt);
    Bucket one = new Bucket(highLow, depth + 1, touchedAt);
    for (Entry e : entries) {
      if (ContactArray.bitAt(e.id(), bit)) {
        one = one.plus(e);
      } else {
        zero = zero.plus(e);
      }
    }
    return new Bucket[] {
      zero.withReplacements(replacements.withBit(bit, false)),
      one.withReplacements(replacements.withBit(bit, true))
    };
  }

  /** The contacts, least recently seen first. */
  List<Contact> contacts() {
    return members.asList();
  }
}
