/**
 * The engine: {@link dev.kad.reactor.KadNodes#builder()} builds a {@link dev.kad.api.KadNode} on
 * any {@link dev.kad.api.spi.Transport}. Lookups are Flux pipelines, request handling checks every
 * message before it touches state, and maintenance runs as interval-driven Flux jobs. The other
 * types here and in the subpackages are the machinery behind that one entry point, public only
 * where another package of the engine needs them.
 */
package dev.kad.reactor;
