package dev.kad.api;

import java.util.Objects;

/**
 * A node as others know it: its id and the address it advertises. Two contacts are equal when both
 * id and address are equal; the routing table keys contacts by id.
 *
 * @param id the node's id
 * @param address the address other nodes dial to reach it
 */
public record Contact(NodeId id, Address address) {

  /**
   * Checks that neither part is null.
   *
   * @param id the node's id
   * @param address the address other nodes dial to reach it
   * @throws NullPointerException when a part is null
   */
  public Contact {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(address, "address");
  }

  @Override
  public String toString() {
    return id.toShortHex() + "@" + address;
  }
}
