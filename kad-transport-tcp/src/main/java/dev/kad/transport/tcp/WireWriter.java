package dev.kad.transport.tcp;

import com.fasterxml.jackson.core.JsonGenerator;
import dev.kad.api.Contact;
import dev.kad.api.Value;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.io.IOException;
import java.util.List;

/**
 * Writes frame bodies straight from the API's message records with Jackson's streaming generator,
 * field by field, in the shape {@link WireReader} reads: {@code {"rid": 7, "msg": {"type":
 * "findNode", "sender": {...}, "target": ...}}}. The same code writes JSON, CBOR and Smile; byte
 * strings are base64 text in JSON and native byte strings in the binary formats.
 */
final class WireWriter {

  private WireWriter() {}

  static void write(JsonGenerator g, long rid, Message message) throws IOException {
    Wire.Type type = Wire.Type.of(message);
    if (type == null) {
      throw new IllegalArgumentException("unknown message type " + message.getClass().getName());
    }
    g.writeStartObject();
    g.writeNumberField("rid", rid);
    g.writeFieldName("msg");
    g.writeStartObject();
    g.writeStringField(Wire.Field.TYPE.wireName, type.wireName);
    g.writeFieldName(Wire.Field.SENDER.wireName);
    contact(g, message.sender());
    fields(g, type, message);
    // Only when set: a full node's frames stay as nodes without client mode write and read them.
    if (message instanceof Request r && r.fromClient()) {
      g.writeBooleanField(Wire.Field.FROM_CLIENT.wireName, true);
    }
    g.writeEndObject();
    g.writeEndObject();
  }

  /** The fields besides type and sender, in the order {@link Wire.Type} lists them. */
  private static void fields(JsonGenerator g, Wire.Type type, Message message) throws IOException {
    switch (type) {
      case PING, PONG -> {}
      case FIND_NODE ->
          binary(g, Wire.Field.TARGET, ((Request.FindNode) message).target().toBytes());
      case FIND_VALUE -> binary(g, Wire.Field.KEY, ((Request.FindValue) message).key().toBytes());
      case STORE -> {
        Request.Store m = (Request.Store) message;
        binary(g, Wire.Field.KEY, m.key().toBytes());
        values(g, m.values());
        g.writeBooleanField(Wire.Field.CACHED.wireName, m.cached());
      }
      case SUBSCRIBE -> {
        Request.Subscribe m = (Request.Subscribe) message;
        binary(g, Wire.Field.KEY, m.key().toBytes());
        g.writeNumberField(Wire.Field.TTL.wireName, m.ttl().toMillis());
        token(g, m.token());
      }
      case UNSUBSCRIBE -> {
        Request.Unsubscribe m = (Request.Unsubscribe) message;
        binary(g, Wire.Field.KEY, m.key().toBytes());
        token(g, m.token());
      }
      case NOTIFY -> {
        Request.Notify m = (Request.Notify) message;
        binary(g, Wire.Field.KEY, m.key().toBytes());
        values(g, m.values());
        token(g, m.token());
      }
      case NODES_FOUND -> contacts(g, ((Response.NodesFound) message).contacts());
      case VALUES_FOUND -> {
        Response.ValuesFound m = (Response.ValuesFound) message;
        values(g, m.values());
        contacts(g, m.contacts());
      }
      case STORED -> {
        Response.Stored m = (Response.Stored) message;
        g.writeNumberField(Wire.Field.ACCEPTED.wireName, m.accepted());
        g.writeFieldName(Wire.Field.REJECTED.wireName);
        g.writeStartArray();
        for (Response.Rejected r : m.rejected()) {
          g.writeStartObject();
          g.writeNumberField("index", r.index());
          g.writeStringField("reason", r.reason());
          g.writeEndObject();
        }
        g.writeEndArray();
      }
      case SUBSCRIBED -> {
        Response.Subscribed m = (Response.Subscribed) message;
        g.writeNumberField(Wire.Field.TTL.wireName, m.ttl().toMillis());
        // Only when set, as fromClient: a new subscription's answer stays what earlier versions
        // wrote, and a connection drops the flag for a peer that cannot read it.
        if (m.renewed()) {
          g.writeBooleanField(Wire.Field.RENEWED.wireName, true);
        }
        token(g, m.token());
      }
      case FAILURE -> {
        Response.Failure m = (Response.Failure) message;
        g.writeStringField(Wire.Field.CODE.wireName, m.code().name());
        g.writeStringField(Wire.Field.MESSAGE.wireName, m.message());
      }
    }
  }

  /**
   * A live-stream subscription's token, only when there is one, as {@code renewed}: a connection
   * drops it for a peer that cannot read it ({@link Preface#READS_TOKEN}).
   */
  private static void token(JsonGenerator g, long token) throws IOException {
    if (token != 0) {
      g.writeNumberField(Wire.Field.TOKEN.wireName, token);
    }
  }

  private static void binary(JsonGenerator g, Wire.Field field, byte[] bytes) throws IOException {
    g.writeBinaryField(field.wireName, bytes);
  }

  private static void contact(JsonGenerator g, Contact c) throws IOException {
    g.writeStartObject();
    g.writeBinaryField("id", c.id().toBytes());
    g.writeStringField("host", c.address().host());
    g.writeNumberField("port", c.address().port());
    g.writeEndObject();
  }

  private static void contacts(JsonGenerator g, List<Contact> contacts) throws IOException {
    g.writeFieldName(Wire.Field.CONTACTS.wireName);
    g.writeStartArray();
    for (Contact c : contacts) {
      contact(g, c);
    }
    g.writeEndArray();
  }

  private static void values(JsonGenerator g, List<Value> values) throws IOException {
    g.writeFieldName(Wire.Field.VALUES.wireName);
    g.writeStartArray();
    for (Value v : values) {
      g.writeStartObject();
      g.writeBinaryField("data", v.data());
      g.writeBinaryField("publisher", v.publisher().toBytes());
      g.writeNumberField("valueId", v.valueId());
      g.writeNumberField("seq", v.seq());
      g.writeNumberField("expiresSec", v.expiresAt().getEpochSecond());
      g.writeNumberField("expiresNano", v.expiresAt().getNano());
      g.writeBinaryField("publicKey", v.publicKey());
      g.writeBinaryField("signature", v.signature());
      g.writeEndObject();
    }
    g.writeEndArray();
  }
}
