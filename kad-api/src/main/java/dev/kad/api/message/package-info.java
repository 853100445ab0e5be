/**
 * The Kademlia protocol messages as sealed hierarchies of records: {@link
 * dev.kad.api.message.Request} and {@link dev.kad.api.message.Response}. Every message carries the
 * sender's {@link dev.kad.api.Contact}; transports frame and encode them.
 */
package dev.kad.api.message;
