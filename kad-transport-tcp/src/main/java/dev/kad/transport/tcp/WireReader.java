package dev.kad.transport.tcp;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.message.Response;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads frame bodies with Jackson's streaming parser into the {@link Wire} shapes, strictly: every
 * field of a shape is required exactly once, in any order; an unknown, duplicate or null field, a
 * value of the wrong kind (a string for a number, a number for a name, a fraction for an integer),
 * an unknown message type or anything after the body is refused with an {@link
 * InvalidMessageException} naming it. What the shapes cannot say (id lengths, value sizes) is
 * {@link WireMapping}'s to check.
 *
 * <p>Hand-written rather than data-bound: the engine exchanges these frames on every request, and
 * reading them field by field costs a fraction of reflective binding.
 */
final class WireReader {

  private WireReader() {}

  /**
   * Reads one frame body, and checks that nothing follows it.
   *
   * @throws InvalidMessageException naming what is wrong with the body's shape
   * @throws IOException when the bytes are not the format at all
   */
  static Wire.Frame read(JsonParser p) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      throw wrongKind("frame", "an object", p.currentToken());
    }
    long rid = 0;
    Wire.Msg msg = null;
    boolean hasRid = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.equals("rid") && !hasRid) {
        rid = longValue(p, "rid");
        hasRid = true;
      } else if (name.equals("msg") && msg == null) {
        msg = msg(p);
      } else {
        throw unexpected("frame", name);
      }
    }
    if (!hasRid) {
      throw missing("frame", "rid");
    }
    if (msg == null) {
      throw missing("frame", "msg");
    }
    if (p.nextToken() != null) {
      throw new InvalidMessageException("trailing data after the frame");
    }
    return new Wire.Frame(rid, msg);
  }

  /** The fields of one message as they come, before its type says which it must have. */
  private static final class Fields {
    Wire.Type type;
    Wire.Peer sender;
    byte[] target;
    byte[] key;
    List<Wire.Val> values;
    boolean cached;
    long ttlMillis;
    List<Wire.Peer> contacts;
    int accepted;
    List<Wire.Rejection> rejected;
    Response.Code code;
    String message;
    boolean fromClient;
    boolean renewed;
    long token;
  }

  private static Wire.Msg msg(JsonParser p) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw wrongKind("msg", "an object", p.currentToken());
    }
    Fields f = new Fields();
    int seen = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      Wire.Field field = Wire.Field.named(name);
      if (field == null || (seen & field.bit()) != 0) {
        throw unexpected("message", name);
      }
      seen |= field.bit();
      read(p, field, f);
    }
    if (f.type == null) {
      throw new InvalidMessageException("message has no type");
    }
    int extra = seen & ~(f.type.fields | f.type.optional);
    if (extra != 0) {
      throw unexpected(f.type.wireName, Wire.Field.first(extra).wireName);
    }
    int gaps = f.type.fields & ~seen;
    if (gaps != 0) {
      throw missing(f.type.wireName, Wire.Field.first(gaps).wireName);
    }
    return switch (f.type) {
      case PING -> new Wire.Ping(f.sender, f.fromClient);
      case FIND_NODE -> new Wire.FindNode(f.sender, f.target, f.fromClient);
      case FIND_VALUE -> new Wire.FindValue(f.sender, f.key, f.fromClient);
      case STORE -> new Wire.Store(f.sender, f.key, f.values, f.cached, f.fromClient);
      case SUBSCRIBE -> new Wire.Subscribe(f.sender, f.key, f.ttlMillis, f.fromClient, f.token);
      case UNSUBSCRIBE -> new Wire.Unsubscribe(f.sender, f.key, f.fromClient, f.token);
      case NOTIFY -> new Wire.Notify(f.sender, f.key, f.values, f.fromClient, f.token);
      case PONG -> new Wire.Pong(f.sender);
      case NODES_FOUND -> new Wire.NodesFound(f.sender, f.contacts);
      case VALUES_FOUND -> new Wire.ValuesFound(f.sender, f.values, f.contacts);
      case STORED -> new Wire.Stored(f.sender, f.accepted, f.rejected);
      case SUBSCRIBED -> new Wire.Subscribed(f.sender, f.ttlMillis, f.renewed, f.token);
      case FAILURE -> new Wire.Failure(f.sender, f.code, f.message);
    };
  }

  /** Reads the value of {@code field} into {@code f}. */
  private static void read(JsonParser p, Wire.Field field, Fields f) throws IOException {
    String name = field.wireName;
    switch (field) {
      case TYPE -> {
        String type = string(p, name);
        f.type = Wire.Type.named(type);
        if (f.type == null) {
          throw new InvalidMessageException("unknown message type '" + type + "'");
        }
      }
      case SENDER -> f.sender = peer(p, name);
      case TARGET -> f.target = bytes(p, name);
      case KEY -> f.key = bytes(p, name);
      case VALUES -> f.values = list(p, name, WireReader::val);
      case CACHED -> f.cached = bool(p, name);
      case TTL -> f.ttlMillis = longValue(p, name);
      case CONTACTS -> f.contacts = list(p, name, WireReader::peer);
      case ACCEPTED -> f.accepted = intValue(p, name);
      case REJECTED -> f.rejected = list(p, name, WireReader::rejection);
      case CODE -> f.code = code(p);
      case MESSAGE -> f.message = string(p, name);
      case FROM_CLIENT -> f.fromClient = bool(p, name);
      case RENEWED -> f.renewed = bool(p, name);
      case TOKEN -> f.token = longValue(p, name);
    }
  }

  private static final List<Member> VAL =
      List.of(
          new Member("data", WireReader::bytes),
          new Member("publisher", WireReader::bytes),
          new Member("valueId", WireReader::longValue),
          new Member("seq", WireReader::longValue),
          new Member("expiresSec", WireReader::longValue),
          new Member("expiresNano", WireReader::intValue),
          new Member("publicKey", WireReader::bytes),
          new Member("signature", WireReader::bytes));

  private static final List<Member> REJECTION =
      List.of(new Member("index", WireReader::intValue), new Member("reason", WireReader::string));

  /**
   * A contact, read without the generic {@link #object}: every answer carries up to k of them, and
   * the boxing and indirection of the generic reader cost up to a tenth of decoding them. Field
   * descriptions for errors are built only on error: concatenating them for every field was the
   * largest allocation of the {@code rpc} benchmark's client.
   */
  private static Wire.Peer peer(JsonParser p, String what) throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw wrongKind(what, "an object", p.currentToken());
    }
    byte[] id = null;
    String host = null;
    int port = 0;
    boolean hasPort = false;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      if (name.equals("id") && id == null) {
        id = bytes(p, what, "id");
      } else if (name.equals("host") && host == null) {
        host = string(p, what, "host");
      } else if (name.equals("port") && !hasPort) {
        port = intValue(p, what, "port");
        hasPort = true;
      } else {
        throw unexpected(what, name);
      }
    }
    if (id == null || host == null || !hasPort) {
      throw missing(what, id == null ? "id" : host == null ? "host" : "port");
    }
    return new Wire.Peer(id, host, port);
  }

  private static Wire.Val val(JsonParser p, String what) throws IOException {
    Object[] v = object(p, what, VAL);
    return new Wire.Val(
        (byte[]) v[0],
        (byte[]) v[1],
        (Long) v[2],
        (Long) v[3],
        (Long) v[4],
        (Integer) v[5],
        (byte[]) v[6],
        (byte[]) v[7]);
  }

  private static Wire.Rejection rejection(JsonParser p, String what) throws IOException {
    Object[] v = object(p, what, REJECTION);
    return new Wire.Rejection((Integer) v[0], (String) v[1]);
  }

  /** One field of a nested object: its name and how its value is read. */
  private record Member(String name, Element<?> reader) {}

  /**
   * Reads an object that has exactly {@code fields}, each once and in any order.
   *
   * @return the values, in the order of {@code fields}
   */
  private static Object[] object(JsonParser p, String what, List<Member> fields)
      throws IOException {
    if (p.currentToken() != JsonToken.START_OBJECT) {
      throw wrongKind(what, "an object", p.currentToken());
    }
    Object[] values = new Object[fields.size()];
    int seen = 0;
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      p.nextToken();
      int i = indexOf(fields, name);
      if (i < 0 || (seen & (1 << i)) != 0) {
        throw unexpected(what, name);
      }
      seen |= 1 << i;
      values[i] = fields.get(i).reader().read(p, what + " " + name);
    }
    if (seen != (1 << fields.size()) - 1) {
      throw missing(what, fields.get(Integer.numberOfTrailingZeros(~seen)).name());
    }
    return values;
  }

  private static int indexOf(List<Member> fields, String name) {
    for (int i = 0; i < fields.size(); i++) {
      if (fields.get(i).name().equals(name)) {
        return i;
      }
    }
    return -1;
  }

  /** How one element of a list is read, the parser on its first token. */
  @FunctionalInterface
  private interface Element<T> {
    T read(JsonParser p, String what) throws IOException;
  }

  private static <T> List<T> list(JsonParser p, String field, Element<T> element)
      throws IOException {
    if (p.currentToken() != JsonToken.START_ARRAY) {
      throw wrongKind(field, "a list", p.currentToken());
    }
    List<T> out = new ArrayList<>();
    String what = field + " element";
    JsonToken t;
    while ((t = p.nextToken()) != JsonToken.END_ARRAY) {
      if (t == JsonToken.VALUE_NULL) {
        throw new InvalidMessageException("null element in " + field);
      }
      out.add(element.read(p, what));
    }
    return out;
  }

  /** Base64 text in JSON, a native byte string in CBOR and Smile. */
  private static byte[] bytes(JsonParser p, String what) throws IOException {
    return bytes(p, what, null);
  }

  /** As {@link #bytes(JsonParser, String)} for the member {@code member} of {@code what}. */
  private static byte[] bytes(JsonParser p, String what, String member) throws IOException {
    JsonToken t = p.currentToken();
    if (t != JsonToken.VALUE_STRING && t != JsonToken.VALUE_EMBEDDED_OBJECT) {
      throw wrongKind(describe(what, member), "a byte string", t);
    }
    return p.getBinaryValue();
  }

  private static String string(JsonParser p, String what) throws IOException {
    return string(p, what, null);
  }

  private static String string(JsonParser p, String what, String member) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_STRING) {
      throw wrongKind(describe(what, member), "a string", p.currentToken());
    }
    return p.getText();
  }

  private static boolean bool(JsonParser p, String what) {
    JsonToken t = p.currentToken();
    if (t != JsonToken.VALUE_TRUE && t != JsonToken.VALUE_FALSE) {
      throw wrongKind(what, "true or false", t);
    }
    return t == JsonToken.VALUE_TRUE;
  }

  /** An integer that fits a {@code long}; the parser refuses a larger one. */
  private static long longValue(JsonParser p, String what) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
      throw wrongKind(what, "an integer", p.currentToken());
    }
    return p.getLongValue();
  }

  /** An integer that fits an {@code int}; the parser refuses a larger one. */
  private static int intValue(JsonParser p, String what) throws IOException {
    return intValue(p, what, null);
  }

  private static int intValue(JsonParser p, String what, String member) throws IOException {
    if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
      throw wrongKind(describe(what, member), "an integer", p.currentToken());
    }
    return p.getIntValue();
  }

  /** {@code what}, or its member {@code member} when not null, as errors name it. */
  private static String describe(String what, String member) {
    return member == null ? what : what + " " + member;
  }

  private static Response.Code code(JsonParser p) throws IOException {
    String name = string(p, "code");
    try {
      return Response.Code.valueOf(name);
    } catch (IllegalArgumentException e) {
      throw new InvalidMessageException("unknown failure code '" + name + "'");
    }
  }

  private static InvalidMessageException wrongKind(String what, String expected, JsonToken got) {
    String kind =
        got == null
            ? "nothing"
            : switch (got) {
              case START_OBJECT -> "an object";
              case START_ARRAY -> "a list";
              case VALUE_STRING -> "a string";
              case VALUE_NUMBER_INT -> "an integer";
              case VALUE_NUMBER_FLOAT -> "a fraction";
              case VALUE_TRUE, VALUE_FALSE -> "a boolean";
              case VALUE_NULL -> "null";
              default -> got.name();
            };
    return new InvalidMessageException(what + " must be " + expected + " but was " + kind);
  }

  private static InvalidMessageException unexpected(String in, String field) {
    return new InvalidMessageException(in + " has an unknown or repeated field '" + field + "'");
  }

  private static InvalidMessageException missing(String in, String field) {
    return new InvalidMessageException(in + " is missing field '" + field + "'");
  }
}
