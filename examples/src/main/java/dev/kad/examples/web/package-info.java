/**
 * A WebFlux application on the kad Spring Boot starter: keys read and written over HTTP (JSON,
 * NDJSON), live watches and lookup traces as server-sent events, and problem+json errors.
 */
package dev.kad.examples.web;
