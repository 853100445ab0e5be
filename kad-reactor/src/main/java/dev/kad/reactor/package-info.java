/**
 * The engine: {@link dev.kad.reactor.KadNodes#builder()} builds a {@link dev.kad.api.KadNode} on
 * any {@link dev.kad.api.spi.Transport}. Lookups are Flux pipelines, request handling checks every
 * message before it touches state, and maintenance runs as interval-driven Flux jobs. The other
 * types here and in the subpackages {@code lookup}, {@code routing} and {@code watch} are the
 * machinery behind that one entry point, public only where another package of the engine needs
 * them: not API, and they may change in any release. {@code store} is API: the {@link
 * dev.kad.reactor.store.RecordStore} SPI and its in-memory default.
 */
package dev.kad.reactor;
