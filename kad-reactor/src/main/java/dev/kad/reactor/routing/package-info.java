/**
 * The routing table: k-buckets ordered least recently seen first, with bounded replacement caches,
 * bucket splitting (§2.4, optionally §4.2), failure counting that spares an offline node's table,
 * and a per-subnet limit. Plain Java, safe for concurrent readers through immutable snapshots.
 *
 * <p>Internal: public only because the engine's other packages use these types. They are not part
 * of kad's API and may change in any release; read a node's table through {@link
 * dev.kad.api.KadNode#routingTable()}.
 */
package dev.kad.reactor.routing;
