package dev.kad.api;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A bootstrap found no other node: no seed answered as a node of this network, or seeds answered
 * the ping and then no node answered the lookup of the joining node's own id. The message names
 * each seed that did not help and why. Seeds that answered as this node itself (its own address,
 * given as a seed) are not failures: they are skipped and listed in {@link #selfSeeds()}. When
 * every seed is this node itself, the bootstrap does not fail but completes, the node being the
 * first of its network; so when this exception lists self seeds, other seeds were named too and
 * none of them answered.
 *
 * <p>{@link #seedFailures()} holds why each other seed failed, as an exception, for a caller to
 * tell the cases apart without reading the message: a seed whose settings do not fit this node's
 * fails with {@link IncompatiblePeerException}. When every seed that is not this node failed that
 * way, or with another failure no retry mends, {@link #isTransient()} is false: retrying the
 * bootstrap only repeats the failures until a node is reconfigured.
 */
public class NoSeedAnsweredException extends UnreachableContactException {

  private static final long serialVersionUID = 1L;

  // Address is not Serializable: a deserialized exception lists no self seeds.
  private final transient List<Address> selfSeeds;

  // Address is not Serializable either: a deserialized exception lists no seed failures.
  private final transient Map<Address, Throwable> seedFailures;

  /**
   * Whether a retry may succeed, decided from {@link #seedFailures} when made: serialized, so that
   * a copy read back, which has lost its failures, still tells the same.
   */
  private final boolean retryMayHelp;

  /**
   * An exception with a message naming each seed and why it did not help, without the failures as
   * data: {@link #seedFailures()} is empty and the exception is transient.
   *
   * @param message what failed, naming each seed and its reason
   * @param cause the first failure of a seed, or null
   * @param selfSeeds the seeds that answered as this node itself, in the order given
   */
  public NoSeedAnsweredException(String message, Throwable cause, List<Address> selfSeeds) {
    this(message, cause, selfSeeds, Map.of());
  }

  /**
   * An exception with a message naming each seed and why it did not help, and those failures.
   *
   * @param message what failed, naming each seed and its reason
   * @param cause the first failure of a seed, or null
   * @param selfSeeds the seeds that answered as this node itself, in the order given
   * @param seedFailures why each other seed failed, in the order given (iterated in that order);
   *     empty when seeds answered and the failure came after
   */
  public NoSeedAnsweredException(
      String message,
      Throwable cause,
      List<Address> selfSeeds,
      Map<Address, ? extends Throwable> seedFailures) {
    super(message, cause);
    this.selfSeeds = List.copyOf(selfSeeds);
    Map<Address, Throwable> copy = new LinkedHashMap<>();
    seedFailures.forEach(
        (seed, failure) ->
            copy.put(
                Objects.requireNonNull(seed, "seed"),
                Objects.requireNonNull(failure, "failure of " + seed)));
    this.seedFailures = Collections.unmodifiableMap(copy);
    this.retryMayHelp = retryMayHelp(this.seedFailures);
  }

  private static boolean retryMayHelp(Map<Address, Throwable> failures) {
    if (failures.isEmpty()) {
      return true;
    }
    for (Throwable failure : failures.values()) {
      if (!(failure instanceof KadException k) || k.isTransient()) {
        return true;
      }
    }
    return false;
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

  /**
   * Why each seed that is not this node itself failed: the transport's exception when the ping
   * failed ({@link IncompatiblePeerException} when the seed's settings do not fit this node's,
   * another {@link UnreachableContactException} when it could not be reached, a {@link
   * KadTimeoutException} when it did not answer in time), or one this node raised for the seed's
   * answer (an {@link IncompatiblePeerException} for ids of another width, an {@link
   * InvalidMessageException} for an answer that is no pong).
   *
   * @return the failures by seed, in the order the seeds were given; empty when seeds answered the
   *     ping and the lookup that followed failed, or when deserialized
   */
  public Map<Address, Throwable> seedFailures() {
    return seedFailures == null ? Map.of() : seedFailures;
  }

  /**
   * Whether a retry may succeed: false when every seed that is not this node itself failed with a
   * {@link KadException} that is not transient (most often {@link IncompatiblePeerException}), true
   * otherwise, e.g. when one seed was only unreachable or timed out and may come up.
   *
   * @return whether a retry may succeed
   */
  @Override
  public boolean isTransient() {
    return retryMayHelp;
  }
}
