/**
 * The TCP transport of kad: {@link dev.kad.transport.tcp.TcpTransport} carries the Kademlia
 * messages over reactor-netty, one long-lived connection per peer multiplexed by request id, with
 * length-prefixed frames encoded by Jackson (JSON, CBOR or Smile) and hardened against hostile
 * peers.
 */
package dev.kad.transport.tcp;
