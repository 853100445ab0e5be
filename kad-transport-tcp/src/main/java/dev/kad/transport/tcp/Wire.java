package dev.kad.transport.tcp;

import dev.kad.api.message.Response;
import java.util.List;

/**
 * The shapes of frame bodies, private to this module so that {@code kad-api} stays free of Jackson;
 * {@link WireWriter} writes them and {@link WireReader} reads them. Ids, keys and byte strings are
 * {@code byte[]}: base64 text in JSON, native byte strings in CBOR and Smile. Times are exact: an
 * expiry is epoch seconds plus nanoseconds (the signature covers both), a time to live is
 * milliseconds.
 *
 * <p>Every component is required: the reader refuses missing, null, repeated and unknown fields, so
 * a body either maps onto one of these records completely or is refused.
 */
final class Wire {

  private Wire() {}

  /** One frame body: the request id that pairs a response with its request, and the message. */
  record Frame(long rid, Msg msg) {}

  /** A contact: node id, advertised host and port. */
  record Peer(byte[] id, String host, int port) {}

  /** A value, field for field. */
  record Val(
      byte[] data,
      byte[] publisher,
      long valueId,
      long seq,
      long expiresSec,
      int expiresNano,
      byte[] publicKey,
      byte[] signature) {}

  /** A refused value of a store, by index. */
  record Rejection(int index, String reason) {}

  /** Every message type, tagged by the {@code type} field ({@link WireReader} names them). */
  sealed interface Msg {
    Peer sender();
  }

  record Ping(Peer sender) implements Msg {}

  record FindNode(Peer sender, byte[] target) implements Msg {}

  record FindValue(Peer sender, byte[] key) implements Msg {}

  record Store(Peer sender, byte[] key, List<Val> values, boolean cached) implements Msg {}

  record Subscribe(Peer sender, byte[] key, long ttlMillis) implements Msg {}

  record Unsubscribe(Peer sender, byte[] key) implements Msg {}

  record Notify(Peer sender, byte[] key, List<Val> values) implements Msg {}

  record Pong(Peer sender) implements Msg {}

  record NodesFound(Peer sender, List<Peer> contacts) implements Msg {}

  record ValuesFound(Peer sender, List<Val> values, List<Peer> contacts) implements Msg {}

  record Stored(Peer sender, int accepted, List<Rejection> rejected) implements Msg {}

  record Subscribed(Peer sender, long ttlMillis) implements Msg {}

  record Failure(Peer sender, Response.Code code, String message) implements Msg {}
}
