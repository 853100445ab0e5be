/**
 * Micrometer meters of a node, for applications with or without Spring: {@link
 * dev.kad.reactor.metrics.NodeMetrics}, a {@code NodeListener} that times requests and operations,
 * and {@link dev.kad.reactor.metrics.NodeGauges}, the gauges of the node's state. Micrometer is an
 * optional dependency: an application that uses this package adds {@code micrometer-core}.
 */
package dev.kad.reactor.metrics;
