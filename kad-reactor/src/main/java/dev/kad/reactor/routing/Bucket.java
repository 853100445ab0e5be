package dev.kad.reactor.routing;

import dev.kad.api.Contact;
import dev.kad.api.KadId;
import dev.kad.api.NodeId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One k-bucket: the contacts whose ids start with a prefix of {@code depth} bits, least
 * recently seen first, and a replacement cache, most recently seen last. Immutable: every
 * change makes a new bucket, so a table snapshot never changes under a reader.
 */
final class Bucket {

  final byte[] low;
  final int depth;
  final List<Entry> entries;
  final List<Contact> replacements;
  final Instant touchedAt;

  Bucket(byte[] low, int depth, List<Entry> entries, List<Contact> replacements, Instant touchedAt) {
    this.low = low;
    this.depth = depth;
    // Callers hand over fresh lists they never touch again: wrapping is enough.
    this.entries = Collections.unmodifiableList(entries);
    this.replacements = Collections.unmodifiableList(replacements);
    this.touchedAt = touchedAt;
  }

  /**
   * One contact with what the table knows of its liveness. {@code prefix} caches the first 64
   * bits of the id, so sorting by distance mostly compares longs.
   */
  record Entry(
      Contact contact, long prefix, Instant lastSeen, int failures, long failureEpoch, boolean pinging) {

    Entry(Contact contact, Instant lastSeen, int failures, long failureEpoch, boolean pinging) {
      this(contact, prefixOf(contact.id()), lastSeen, failures, failureEpoch, pinging);
    }

    NodeId id() {
      return contact.id();
    }

    Entry seen(Instant now) {
      return new Entry(contact, prefix, now, 0, failureEpoch, false);
    }
  }

  NodeId low() {
    return NodeId.of(low);
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

  int indexOf(NodeId id) {
    // The cached prefix rules out nearly every other entry without touching its id.
    long prefix = prefixOf(id);
    List<Entry> list = entries;
    for (int i = 0, n = list.size(); i < n; i++) {
      Entry e = list.get(i);
      if (e.prefix() == prefix && e.id().equals(id)) {
        return i;
      }
    }
    return -1;
  }

  boolean isFull(int k) {
    return entries.size() >= k;
  }

  /** Splits on the bit after the prefix, keeping the order of contacts and replacements. */
  Bucket[] split() {
    int bit = depth;
    byte[] highLow = low.clone();
    highLow[bit >>> 3] |= (byte) (0x80 >>> (bit & 7));
    List<Entry> zeroEntries = new ArrayList<>();
    List<Entry> oneEntries = new ArrayList<>();
    for (Entry e : entries) {
      (bitAt(e.id(), bit) ? oneEntries : zeroEntries).add(e);
    }
    List<Contact> zeroCache = new ArrayList<>();
    List<Contact> oneCache = new ArrayList<>();
    for (Contact c : replacements) {
      (bitAt(c.id(), bit) ? oneCache : zeroCache).add(c);
    }
    return new Bucket[] {
      new Bucket(low, depth + 1, zeroEntries, zeroCache, touchedAt),
      new Bucket(highLow, depth + 1, oneEntries, oneCache, touchedAt)
    };
  }

  Bucket withEntries(List<Entry> newEntries) {
    return new Bucket(low, depth, newEntries, replacements, touchedAt);
  }

  Bucket withReplacements(List<Contact> newReplacements) {
    return new Bucket(low, depth, entries, newReplacements, touchedAt);
  }

  Bucket touched(Instant now) {
    return new Bucket(low, depth, entries, replacements, now);
  }

  /** The first 64 bits of an id, big-endian. */
  static long prefixOf(KadId id) {
    long key = 0;
    for (int b = 0; b < 8; b++) {
      key = (key << 8) | (id.byteAt(b) & 0xff);
    }
    return key;
  }

  /** Bit {@code index} counted from the most significant bit. */
  static boolean bitAt(KadId id, int index) {
    return ((id.byteAt(index >>> 3) >>> (7 - (index & 7))) & 1) != 0;
  }
}
