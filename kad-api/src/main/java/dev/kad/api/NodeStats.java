package dev.kad.api;

/**
 * Figures of one node at one moment, for health checks and gauges.
 *
 * @param contacts contacts in the routing table's buckets
 * @param buckets buckets in the routing table
 * @param storedValues values held for the network
 * @param storedBytes bytes of those values as counted against {@link KadConfig#maxStoredBytes()}:
 *     payload plus {@link KadConfig#STORED_VALUE_OVERHEAD} each
 * @param activeWatches {@code watch} streams open on this node
 * @param subscribers subscriptions other nodes hold here
 */
public record NodeStats(
    int contacts,
    int buckets,
    int storedValues,
    long storedBytes,
    int activeWatches,
    int subscribers) {}
