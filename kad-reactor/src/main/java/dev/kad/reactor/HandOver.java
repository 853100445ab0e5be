package dev.kad.reactor;

import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import java.util.List;

/**
 * Which stored keys a node hands to a newly seen contact (Kademlia §2.5): those for which the
 * newcomer is among the k closest contacts known and this node is closer to the key than every
 * other node it knows, so that of all the holders only the closest one stores at the newcomer.
 *
 * <p>Checked key by key, the rule costs one {@code closest(key, k)} of the routing table per stored
 * key for every new contact, and most newcomers get nothing. A plan decides from the table alone,
 * by bucket index as seen from this node ({@code b} for a key, {@code j} for the newcomer), which
 * keys may go at all:
 *
 * <ul>
 *   <li>a contact at index {@code b} is closer to a key at index {@code b} than this node is (their
 *       XOR distance lacks bit {@code b}), so the index must hold no contact but the newcomer;
 *   <li>a contact at an index below {@code j} is closer than the newcomer to every key at an index
 *       below {@code j} (its distance to them is below {@code 2^j}, the newcomer's is not), so once
 *       the table holds k of them, only keys at {@code j} or above may go.
 * </ul>
 *
 * <p>A newcomer in a far, populated bucket (most of them) is thus settled without reading the
 * store; for the others only the keys of the indices left are checked exactly. The first rule is
 * the paper's: it makes no difference for k of 2 or more, where another contact closer to the key
 * than this node is always among the k closest; with k = 1 it keeps a node that is not the closest
 * holder from storing at the newcomer too.
 */
final class HandOver {

  private final NodeId self;
  private final boolean[] keyIndices;
  private final boolean none;

  private HandOver(NodeId self, boolean[] keyIndices, boolean none) {
    this.self = self;
    this.keyIndices = keyIndices;
    this.none = none;
  }

  /**
   * Plans the hand-over to {@code newcomer} from the routing table's shape.
   *
   * @param self this node's id
   * @param contactsPerIndex the table's contacts per bucket index, the newcomer included
   * @param newcomer the new contact's id
   * @param k the replication parameter
   * @return the plan
   */
  static HandOver plan(NodeId self, int[] contactsPerIndex, NodeId newcomer, int k) {
    int j = self.bucketIndex(newcomer);
    int closerThanNewcomer = 0;
    for (int i = 0; i < j; i++) {
      closerThanNewcomer += contactsPerIndex[i];
    }
    int lowest = closerThanNewcomer >= k ? j : 0;
    boolean[] keyIndices = new boolean[contactsPerIndex.length];
    boolean none = true;
    for (int b = lowest; b < contactsPerIndex.length; b++) {
      int others = contactsPerIndex[b] - (b == j ? 1 : 0);
      if (others <= 0) {
        keyIndices[b] = true;
        none = false;
      }
    }
    return new HandOver(self, keyIndices, none);
  }

  /**
   * Whether no key at all may go to the newcomer, so the store need not be read.
   *
   * @return true when nothing is handed over
   */
  boolean none() {
    return none;
  }

  /**
   * Whether {@code key} may go to the newcomer; when it may, {@link #handsOver} decides.
   *
   * @param key a stored key
   * @return false when the key certainly stays
   */
  boolean mayHandOver(Key key) {
    int b = self.bucketIndex(key);
    // A key equal to this node's id is closer to it than to any other node.
    return b < 0 || keyIndices[b];
  }

  /**
   * The exact rule for one key: the newcomer is among the k closest contacts to the key, and none
   * of the others is closer to it than this node.
   *
   * @param self this node's id
   * @param key the stored key
   * @param closest the k contacts closest to the key, from the routing table
   * @param newcomer the new contact
   * @return true when this node stores the key's values at the newcomer
   */
  static boolean handsOver(NodeId self, Key key, List<Contact> closest, Contact newcomer) {
    if (!closest.contains(newcomer)) {
      return false;
    }
    for (Contact c : closest) {
      if (!c.equals(newcomer) && key.compareDistance(c.id(), self) < 0) {
        return false;
      }
    }
    return true;
  }
}
