package dev.kad.api;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of a {@code put}: which of the key's closest nodes accepted the value, which refused
 * it and why, and which did not answer. This node is among them when it keeps a copy itself (a full
 * node among the key's k closest). A put that no other node accepted errors, the exception carrying
 * this outcome ({@link StoreRejectedException#putResult()}, {@link
 * NoStoreAnsweredException#putResult()}), unless this node is the first of its network.
 *
 * @param key the key that was stored
 * @param value the value that was stored
 * @param accepted the nodes that stored the value
 * @param rejected the nodes that refused it, with their reasons
 * @param failed the nodes that did not answer: asked to store, or lost by the lookup when fewer
 *     than k nodes answered it
 */
public record PutResult(
    Key key, Value value, List<Contact> accepted, List<Rejection> rejected, List<Contact> failed) {

  /**
   * Copies the lists.
   *
   * @param key the key that was stored
   * @param value the value that was stored
   * @param accepted the nodes that stored the value
   * @param rejected the nodes that refused it, with their reasons
   * @param failed the nodes that did not answer: asked to store, or lost by the lookup
   * @throws NullPointerException when a part is null
   */
  public PutResult {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(value, "value");
    accepted = List.copyOf(accepted);
    rejected = List.copyOf(rejected);
    failed = List.copyOf(failed);
  }

  /**
   * How many nodes accepted the value.
   *
   * @return {@code accepted().size()}
   */
  public int acceptedCount() {
    return accepted.size();
  }

  /**
   * A node's refusal to store a value.
   *
   * @param contact the node that refused
   * @param reason its reason, as it gave it
   */
  public record Rejection(Contact contact, String reason) {

    /**
     * Checks that neither part is null.
     *
     * @param contact the node that refused
     * @param reason its reason, as it gave it
     * @throws NullPointerException when a part is null
     */
    public Rejection {
      Objects.requireNonNull(contact, "contact");
      Objects.requireNonNull(reason, "reason");
    }
  }
}
