/**
 * Where a node keeps the values stored at it: the {@link dev.kad.reactor.store.RecordStore} SPI and
 * its in-memory default, which refuses rather than evicts when a limit is reached and remembers
 * when each value last arrived by Store, for the replication rule; and {@link
 * dev.kad.reactor.store.FileRecordStore}, the same store kept across restarts in a log file.
 */
package dev.kad.reactor.store;
