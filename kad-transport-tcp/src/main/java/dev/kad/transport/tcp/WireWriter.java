package dev.kad.transport.tcp;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.util.List;

/**
 * Writes frame bodies with Jackson's streaming generator, field by field, in the shape {@link
 * WireReader} reads: {@code {"rid": 7, "msg": {"type": "findNode", "sender": {...}, "target":
 * ...}}}. The same code writes JSON, CBOR and Smile; byte strings are base64 text in JSON and
 * native byte strings in the binary formats.
 */
final class WireWriter {

  private WireWriter() {}

  static void write(JsonGenerator g, long rid, Wire.Msg msg) throws IOException {
    g.writeStartObject();
    g.writeNumberField("rid", rid);
    g.writeFieldName("msg");
    g.writeStartObject();
    g.writeStringField("type", WireReader.typeName(msg));
    g.writeFieldName("sender");
    peer(g, msg.sender());
    fields(g, msg);
    g.writeEndObject();
    g.writeEndObject();
  }

  private static void fields(JsonGenerator g, Wire.Msg msg) throws IOException {
    if (msg instanceof Wire.FindNode m) {
      g.writeBinaryField("target", m.target());
    } else if (msg instanceof Wire.FindValue m) {
      g.writeBinaryField("key", m.key());
    } else if (msg instanceof Wire.Store m) {
      g.writeBinaryField("key", m.key());
      vals(g, m.values());
      g.writeBooleanField("cached", m.cached());
    } else if (msg instanceof Wire.Subscribe m) {
      g.writeBinaryField("key", m.key());
      g.writeNumberField("ttlMillis", m.ttlMillis());
    } else if (msg instanceof Wire.Unsubscribe m) {
      g.writeBinaryField("key", m.key());
    } else if (msg instanceof Wire.Notify m) {
      g.writeBinaryField("key", m.key());
      vals(g, m.values());
    } else if (msg instanceof Wire.NodesFound m) {
      peers(g, m.contacts());
    } else if (msg instanceof Wire.ValuesFound m) {
      vals(g, m.values());
      peers(g, m.contacts());
    } else if (msg instanceof Wire.Stored m) {
      g.writeNumberField("accepted", m.accepted());
      g.writeFieldName("rejected");
      g.writeStartArray();
      for (Wire.Rejection r : m.rejected()) {
        g.writeStartObject();
        g.writeNumberField("index", r.index());
        g.writeStringField("reason", r.reason());
        g.writeEndObject();
      }
      g.writeEndArray();
    } else if (msg instanceof Wire.Subscribed m) {
      g.writeNumberField("ttlMillis", m.ttlMillis());
    } else if (msg instanceof Wire.Failure m) {
      g.writeStringField("code", m.code().name());
      g.writeStringField("message", m.message());
    }
    // Ping and Pong carry the sender only.
  }

  private static void peer(JsonGenerator g, Wire.Peer p) throws IOException {
    g.writeStartObject();
    g.writeBinaryField("id", p.id());
    g.writeStringField("host", p.host());
    g.writeNumberField("port", p.port());
    g.writeEndObject();
  }

  private static void peers(JsonGenerator g, List<Wire.Peer> peers) throws IOException {
    g.writeFieldName("contacts");
    g.writeStartArray();
    for (Wire.Peer p : peers) {
      peer(g, p);
    }
    g.writeEndArray();
  }

  private static void vals(JsonGenerator g, List<Wire.Val> vals) throws IOException {
    g.writeFieldName("values");
    g.writeStartArray();
    for (Wire.Val v : vals) {
      g.writeStartObject();
      g.writeBinaryField("data", v.data());
      g.writeBinaryField("publisher", v.publisher());
      g.writeNumberField("valueId", v.valueId());
      g.writeNumberField("seq", v.seq());
      g.writeNumberField("expiresSec", v.expiresSec());
      g.writeNumberField("expiresNano", v.expiresNano());
      g.writeBinaryField("publicKey", v.publicKey());
      g.writeBinaryField("signature", v.signature());
      g.writeEndObject();
    }
    g.writeEndArray();
  }
}
