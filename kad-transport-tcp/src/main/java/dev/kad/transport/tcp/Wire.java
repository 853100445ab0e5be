package dev.kad.transport.tcp;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.kad.api.message.Response;
import java.util.List;

/**
 * The Jackson-mapped shapes of frame bodies, private to this module so that {@code kad-api}
 * stays free of Jackson. Ids, keys and byte strings are {@code byte[]}: base64 text in JSON,
 * native byte strings in CBOR and Smile. Times are exact: an expiry is epoch seconds plus
 * nanoseconds (the signature covers both), a time to live is milliseconds.
 *
 * <p>Every component is required: the codec's mapper fails on missing, null and unknown
 * properties, so a body either maps onto one of these records completely or is refused.
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

  /** Every message type, tagged by the {@code type} property. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = Ping.class, name = "ping"),
    @JsonSubTypes.Type(value = FindNode.class, name = "findNode"),
    @JsonSubTypes.Type(value = FindValue.class, name = "findValue"),
    @JsonSubTypes.Type(value = Store.class, name = "store"),
    @JsonSubTypes.Type(value = Subscribe.class, name = "subscribe"),
    @JsonSubTypes.Type(value = Unsubscribe.class, name = "unsubscribe"),
    @JsonSubTypes.Type(value = Notify.class, name = "notify"),
    @JsonSubTypes.Type(value = Pong.class, name = "pong"),
    @JsonSubTypes.Type(value = NodesFound.class, name = "nodesFound"),
    @JsonSubTypes.Type(value = ValuesFound.class, name = "valuesFound"),
    @JsonSubTypes.Type(value = Stored.class, name = "stored"),
    @JsonSubTypes.Type(value = Subscribed.class, name = "subscribed"),
    @JsonSubTypes.Type(value = Failure.class, name = "failure")
  })
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
