/**
 * The kad vocabulary: ids and the XOR metric ({@link dev.kad.api.NodeId}, {@link dev.kad.api.Key}),
 * contacts, values, the configuration, the {@link dev.kad.api.KadNode} interface whose every
 * operation is a {@code Mono} or {@code Flux}, and the exception types. This package depends on
 * reactor-core only and imports no implementation.
 */
package dev.kad.api;
