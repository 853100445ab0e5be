/**
 * The two ends of a live value stream: the storage side's bounded registry of subscribers per key
 * ({@link dev.kad.reactor.watch.SubscriberRegistry}) and the watching side's session that
 * de-duplicates pushed values and buffers them for a slow subscriber ({@link
 * dev.kad.reactor.watch.WatchSession}).
 *
 * <p>Internal: public only because the engine's other packages use these types. They are not part
 * of kad's API and may change in any release; use {@link dev.kad.api.KadNode#watch}.
 */
package dev.kad.reactor.watch;
