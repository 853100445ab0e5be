/**
 * The routing table: k-buckets ordered least recently seen first, with bounded replacement caches,
 * bucket splitting (§2.4, optionally §4.2), failure counting that spares an offline node's table,
 * and a per-subnet limit. Plain Java, safe for concurrent readers through immutable snapshots.
 */
package dev.kad.reactor.routing;
