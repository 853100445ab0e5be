package dev.kad.api;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Figures of one node at one moment, for health checks and gauges.
 *
 * @param contacts contacts in the routing table's buckets
 * @param buckets buckets in the routing table
 * @param storedValues values held for the network
 * @param storedBytes bytes of those values as counted against {@link KadConfig#maxStoredBytes()}:
 *     payload plus {@link KadConfig#STORED_VALUE_OVERHEAD} each
 * @param activeWatches {@code watch} streams open on this node
 * @param pollingWatches those of them that no storage node holds a subscription of, though the
 *     key's nodes answer: each refused it (at its {@link KadConfig#maxSubscriptionsPerPeer()} or
 *     {@link KadConfig#maxSubscribersPerKey()} bound, or its total) or failed. Nobody pushes to
 *     such a watch, so it reads the key's values at each retry round instead, and sees a change up
 *     to a minute late rather than at once; it subscribes again as soon as a node grants it. A
 *     count that stays above zero says the storage nodes' bounds are too small for this node's
 *     watches (or a key has more watchers than they keep)
 * @param subscribers subscriptions other nodes hold here
 * @param lastHeard when, by the node's clock, a message from another node last arrived: an answer
 *     to one of its requests (a refusal too) or a request of another node (not of a client, {@link
 *     KadConfig#clientMode()}, which is no part of the network). Kept to the second: it moves on
 *     only once at least a second has passed, so it may be up to a second behind. Empty until the
 *     node first hears from another node. A node whose routing table holds contacts but whose
 *     {@code lastHeard} stays behind while its maintenance pings and lookups go out is cut off from
 *     its network (its link is down, or every contact it knows is gone): the table alone does not
 *     show it, since failures count against a contact only while other nodes answer.
 */
public record NodeStats(
    int contacts,
    int buckets,
    int storedValues,
    long storedBytes,
    int activeWatches,
    int pollingWatches,
    int subscribers,
    Optional<Instant> lastHeard) {

  /**
   * Checks that {@code lastHeard} is set (empty, not null); the counts are taken as given.
   *
   * @param contacts contacts in the routing table's buckets
   * @param buckets buckets in the routing table
   * @param storedValues values held for the network
   * @param storedBytes bytes of those values as counted against {@link KadConfig#maxStoredBytes()}
   * @param activeWatches {@code watch} streams open on this node
   * @param pollingWatches those of them that no storage node holds a subscription of
   * @param subscribers subscriptions other nodes hold here
   * @param lastHeard when a message from another node last arrived; empty before the first
   * @throws NullPointerException when {@code lastHeard} is null
   */
  public NodeStats {
    Objects.requireNonNull(lastHeard, "lastHeard");
  }

  /**
   * The figures of a node without {@code pollingWatches} (counted as none), as before that figure
   * was added, so that code building stats compiles unchanged.
   *
   * @param contacts contacts in the routing table's buckets
   * @param buckets buckets in the routing table
   * @param storedValues values held for the network
   * @param storedBytes bytes of those values as counted against {@link KadConfig#maxStoredBytes()}
   * @param activeWatches {@code watch} streams open on this node
   * @param subscribers subscriptions other nodes hold here
   * @param lastHeard when a message from another node last arrived; empty before the first
   * @throws NullPointerException when {@code lastHeard} is null
   */
  public NodeStats(
      int contacts,
      int buckets,
      int storedValues,
      long storedBytes,
      int activeWatches,
      int subscribers,
      Optional<Instant> lastHeard) {
    this(contacts, buckets, storedValues, storedBytes, activeWatches, 0, subscribers, lastHeard);
  }
}
