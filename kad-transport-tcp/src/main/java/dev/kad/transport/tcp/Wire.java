package dev.kad.transport.tcp;

import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The shapes of frame bodies, private to this module so that {@code kad-api} stays free of Jackson;
 * {@link WireWriter} writes them and {@link WireReader} reads them. Ids, keys and byte strings are
 * {@code byte[]}: base64 text in JSON, native byte strings in CBOR and Smile. Times are exact: an
 * expiry is epoch seconds plus nanoseconds (the signature covers both), a time to live is
 * milliseconds.
 *
 * <p>Every component is required but a request's {@code fromClient}, which is written only when
 * true and read as false when absent, so nodes that predate client mode and new full nodes read
 * each other's frames: the reader refuses missing, null, repeated and unknown fields, so a body
 * either maps onto one of these records completely or is refused. A {@code subscribed}'s {@code
 * renewed} is optional too, written only when true and only to a peer whose preface says it reads
 * it ({@link Preface#READS_RENEWED}), and read as false when absent: a peer that predates it makes
 * its watchers read the current values, the safe side. A live-stream subscription's {@code token}
 * ({@code subscribe}, {@code unsubscribe}, {@code notify}, {@code subscribed}) is optional the same
 * way: written only when not 0 and only to a peer whose preface sets {@link Preface#READS_TOKEN},
 * and read as 0 (no token, as an earlier version) when absent.
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

  /** Every field a message may carry; a field's bit is {@code 1 << ordinal()}. */
  enum Field {
    TYPE("type"),
    SENDER("sender"),
    TARGET("target"),
    KEY("key"),
    VALUES("values"),
    CACHED("cached"),
    TTL("ttlMillis"),
    CONTACTS("contacts"),
    ACCEPTED("accepted"),
    REJECTED("rejected"),
    CODE("code"),
    MESSAGE("message"),
    FROM_CLIENT("fromClient"),
    RENEWED("renewed"),
    TOKEN("token");

    private static final Map<String, Field> BY_NAME = new HashMap<>();

    static {
      for (Field f : values()) {
        BY_NAME.put(f.wireName, f);
      }
    }

    final String wireName;

    Field(String wireName) {
      this.wireName = wireName;
    }

    int bit() {
      return 1 << ordinal();
    }

    /** The field named {@code name} on the wire, or null. */
    static Field named(String name) {
      return BY_NAME.get(name);
    }

    /** The first field among {@code bits}. */
    static Field first(int bits) {
      return values()[Integer.numberOfTrailingZeros(bits)];
    }
  }

  /** Every message type: its name on the wire, its API record and the fields it carries. */
  enum Type {
    PING("ping", Request.Ping.class),
    FIND_NODE("findNode", Request.FindNode.class, Field.TARGET),
    FIND_VALUE("findValue", Request.FindValue.class, Field.KEY),
    STORE("store", Request.Store.class, Field.KEY, Field.VALUES, Field.CACHED),
    SUBSCRIBE("subscribe", Request.Subscribe.class, Field.KEY, Field.TTL),
    UNSUBSCRIBE("unsubscribe", Request.Unsubscribe.class, Field.KEY),
    NOTIFY("notify", Request.Notify.class, Field.KEY, Field.VALUES),
    PONG("pong", Response.Pong.class),
    NODES_FOUND("nodesFound", Response.NodesFound.class, Field.CONTACTS),
    VALUES_FOUND("valuesFound", Response.ValuesFound.class, Field.VALUES, Field.CONTACTS),
    STORED("stored", Response.Stored.class, Field.ACCEPTED, Field.REJECTED),
    SUBSCRIBED("subscribed", Response.Subscribed.class, Field.TTL),
    FAILURE("failure", Response.Failure.class, Field.CODE, Field.MESSAGE);

    private static final Map<String, Type> BY_NAME = new HashMap<>();
    private static final Map<Class<?>, Type> BY_RECORD = new HashMap<>();

    static {
      for (Type t : values()) {
        BY_NAME.put(t.wireName, t);
        BY_RECORD.put(t.record, t);
      }
    }

    final String wireName;
    final Class<? extends Message> record;

    /** The bits of its fields, type and sender included. */
    final int fields;

    /**
     * The bits of the fields it may leave out: {@code fromClient} of a request, {@code renewed} of
     * a {@code subscribed}, {@code token} of the live-stream messages.
     */
    final int optional;

    Type(String wireName, Class<? extends Message> record, Field... fields) {
      this.wireName = wireName;
      this.record = record;
      int bits = Field.TYPE.bit() | Field.SENDER.bit();
      for (Field f : fields) {
        bits |= f.bit();
      }
      this.fields = bits;
      int optional =
          Request.class.isAssignableFrom(record)
              ? Field.FROM_CLIENT.bit()
              : record == Response.Subscribed.class ? Field.RENEWED.bit() : 0;
      if (record == Request.Subscribe.class
          || record == Request.Unsubscribe.class
          || record == Request.Notify.class
          || record == Response.Subscribed.class) {
        optional |= Field.TOKEN.bit();
      }
      this.optional = optional;
    }

    /** The type named {@code name} on the wire, or null. */
    static Type named(String name) {
      return BY_NAME.get(name);
    }

    /** The type of an API message. */
    static Type of(Message message) {
      return BY_RECORD.get(message.getClass());
    }
  }

  /** Every message type, as {@link WireReader} reads it before it becomes an API record. */
  sealed interface Msg {
    Peer sender();
  }

  record Ping(Peer sender, boolean fromClient) implements Msg {}

  record FindNode(Peer sender, byte[] target, boolean fromClient) implements Msg {}

  record FindValue(Peer sender, byte[] key, boolean fromClient) implements Msg {}

  record Store(Peer sender, byte[] key, List<Val> values, boolean cached, boolean fromClient)
      implements Msg {}

  record Subscribe(Peer sender, byte[] key, long ttlMillis, boolean fromClient, long token)
      implements Msg {}

  record Unsubscribe(Peer sender, byte[] key, boolean fromClient, long token) implements Msg {}

  record Notify(Peer sender, byte[] key, List<Val> values, boolean fromClient, long token)
      implements Msg {}

  record Pong(Peer sender) implements Msg {}

  record NodesFound(Peer sender, List<Peer> contacts) implements Msg {}

  record ValuesFound(Peer sender, List<Val> values, List<Peer> contacts) implements Msg {}

  record Stored(Peer sender, int accepted, List<Rejection> rejected) implements Msg {}

  record Subscribed(Peer sender, long ttlMillis, boolean renewed, long token) implements Msg {}

  record Failure(Peer sender, Response.Code code, String message) implements Msg {}
}
