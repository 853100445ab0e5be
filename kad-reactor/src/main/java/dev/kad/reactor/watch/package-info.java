/**
 * The two ends of a live value stream: the storage side's bounded registry of subscribers per key
 * ({@link dev.kad.reactor.watch.SubscriberRegistry}) and the watching side's session that
 * de-duplicates pushed values and buffers them for a slow subscriber ({@link
 * dev.kad.reactor.watch.WatchSession}).
 */
package dev.kad.reactor.watch;
