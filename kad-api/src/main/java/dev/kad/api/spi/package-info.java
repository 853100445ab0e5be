/**
 * The transport SPI: how the engine sends requests and serves inbound ones without knowing whether
 * the bytes cross TCP or an in-memory simulated network.
 */
package dev.kad.api.spi;
