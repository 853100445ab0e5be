package dev.kad.bench;

import dev.kad.api.Contact;
import dev.kad.api.KadNode;
import dev.kad.reactor.KadNodes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.random.RandomGenerator;

/**
 * The "warm" bootstrap of large simulations: fills every routing table without a message, through
 * the engine's own table code ({@link KadNodes#learn}), so that it looks like the table of a node
 * whose buckets were all just refreshed.
 *
 * <p>How: sort the ids as unsigned integers. The ids sharing the first {@code d} bits with a node
 * form one contiguous range of that order (the node's subtree at depth {@code d}), and the ids of
 * its bucket {@code d} (same first {@code d} bits, differing at bit {@code d}) another. For each
 * depth, from the root down, the node learns up to k random members of its bucket, as a refresh
 * lookup would have found them (Kademlia §2.2: every bucket holds up to k contacts of its range).
 * At the depth below which fewer than k other nodes share the node's prefix, it learns the members
 * of that bucket nearest to it and everybody deeper, so it knows its true k nearest neighbours, as
 * after the lookup of its own id a real join makes. No bucket receives more than k contacts, so
 * nothing lands in a replacement cache. Costs O(N log² N) and no messages.
 */
final class WarmUp {

  private final List<KadNode> nodes;
  private final int k;
  private final RandomGenerator random;

  /** Node indexes sorted by id. */
  private final int[] order;

  /** The ids' bytes in sorted order. */
  private final byte[][] sorted;

  WarmUp(List<KadNode> nodes, int k, RandomGenerator random) {
    this.nodes = nodes;
    this.k = k;
    this.random = random;
    int n = nodes.size();
    byte[][] ids = new byte[n][];
    for (int i = 0; i < n; i++) {
      ids[i] = nodes.get(i).id().toBytes();
    }
    Integer[] boxed = new Integer[n];
    for (int i = 0; i < n; i++) {
      boxed[i] = i;
    }
    Arrays.sort(boxed, (a, b) -> Arrays.compareUnsigned(ids[a], ids[b]));
    this.order = new int[n];
    this.sorted = new byte[n][];
    for (int i = 0; i < n; i++) {
      order[i] = boxed[i];
      sorted[i] = ids[boxed[i]];
    }
  }

  /** Feeds every node's table, in node order (deterministic for a seeded random). */
  void fill() {
    for (KadNode node : nodes) {
      KadNodes.learn(node, contactsFor(node));
    }
  }

  /** What one node learns: k random per bucket, and its nearest neighbours. */
  List<Contact> contactsFor(KadNode node) {
    byte[] self = node.id().toBytes();
    int bits = self.length * 8;
    List<Contact> out = new ArrayList<>();
    for (int depth = 0; depth < bits; depth++) {
      // The node's subtree one level down, and its bucket at this depth (the sibling subtree).
      int ownFrom = lowerBound(prefixBound(self, depth + 1, false, false));
      int ownTo = upperBound(prefixBound(self, depth + 1, false, true));
      int bucketFrom = lowerBound(prefixBound(self, depth, true, false));
      int bucketTo = upperBound(prefixBound(self, depth, true, true));
      int othersBelow = ownTo - ownFrom - 1;
      if (othersBelow >= k) {
        sample(bucketFrom, bucketTo, out);
        continue;
      }
      // Fewer than k others share one more bit: the k nearest are all of those and the members
      // of this bucket nearest to the node.
      nearest(node, bucketFrom, bucketTo, out);
      for (int i = ownFrom; i < ownTo; i++) {
        KadNode other = nodes.get(order[i]);
        if (other != node) {
          out.add(other.contact());
        }
      }
      break;
    }
    return out;
  }

  /** Up to k distinct random members of the sorted range {@code [from, to)}. */
  private void sample(int from, int to, List<Contact> out) {
    int size = to - from;
    if (size <= k) {
      for (int i = from; i < to; i++) {
        out.add(nodes.get(order[i]).contact());
      }
      return;
    }
    Set<Integer> picked = new HashSet<>();
    while (picked.size() < k) {
      int i = from + random.nextInt(size);
      if (picked.add(i)) {
        out.add(nodes.get(order[i]).contact());
      }
    }
  }

  /** The k members of the sorted range {@code [from, to)} nearest to {@code node}. */
  private void nearest(KadNode node, int from, int to, List<Contact> out) {
    List<Contact> range = new ArrayList<>(to - from);
    for (int i = from; i < to; i++) {
      range.add(nodes.get(order[i]).contact());
    }
    Comparator<Contact> byDistance = (a, b) -> node.id().compareDistance(a.id(), b.id());
    range.sort(byDistance);
    out.addAll(range.subList(0, Math.min(k, range.size())));
  }

  /**
   * The smallest ({@code ones} false) or largest id whose first {@code depth} bits are the node's,
   * with bit {@code depth} flipped when {@code flip}.
   */
  private static byte[] prefixBound(byte[] self, int depth, boolean flip, boolean ones) {
    byte[] b = self.clone();
    int bits = b.length * 8;
    if (flip && depth < bits) {
      b[depth >>> 3] ^= (byte) (0x80 >>> (depth & 7));
    }
    int keep = flip ? depth + 1 : depth;
    int full = keep >>> 3;
    int rest = keep & 7;
    if (rest != 0) {
      int low = 0xff >>> rest;
      b[full] = (byte) (ones ? b[full] | low : b[full] & ~low);
      full++;
    }
    for (int i = full; i < b.length; i++) {
      b[i] = ones ? (byte) 0xff : 0;
    }
    return b;
  }

  /** The first sorted index whose id is at least {@code key}. */
  private int lowerBound(byte[] key) {
    int lo = 0;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Arrays.compareUnsigned(sorted[mid], key) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** The first sorted index whose id is greater than {@code key}. */
  private int upperBound(byte[] key) {
    int lo = 0;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Arrays.compareUnsigned(sorted[mid], key) <= 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
