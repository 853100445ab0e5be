package dev.kad.api;

import java.util.List;

/**
 * A bootstrap found no other node: no seed answered as a node of this network, or seeds answered
 * the ping and then no node answered the lookup of the joining node's own id. The message names
 * each seed that did not help and why. Seeds that answered as this node itself (its own address,
 * given as a seed) are not failures: they are skipped and listed in {@link #selfSeeds()}. When
 * every seed is this node itself, the bootstrap does not fail but completes, the node being the
 * first of its network; so when this exception lists self seeds, other seeds were named too and
 * none of them answered.
 */
public class NoSeedAnsweredException extends UnreachableContactException {

  private static final long serialVersionUID = 1L;

  // Address is not Serializable: a deserialized exception lists no self seeds.
  private final transient List<Address> selfSeeds;

  /**
   * An exception with a message naming each seed and why it did not help.
   *
   * @param message what failed, naming each seed and its reason
   * @param cause the first failure of a seed, or null
   * @param selfSeeds the seeds that answered as this node itself, in the order given
   */
  public NoSeedAnsweredException(String message, Throwable cause, List<Address> selfSeeds) {
    super(message, cause);
    this.selfSeeds = List.copyOf(selfSeeds);
  }

  /**
   * The seeds that answered as this node itself. Not empty when this node is one of its own seeds
   * (every node of a cluster given the same seed list): it may then serve as the first node of its
   * network while the other seeds stay silent, and a later bootstrap may still reach them.
   *
   * @return the self seeds, in the order given, possibly empty
   */
  public List<Address> selfSeeds() {
    return selfSeeds == null ? List.of() : selfSeeds;
  }
}
