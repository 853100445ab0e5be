package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BinaryNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.ContainerNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.message.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Mutation fuzzing of frame bodies: valid bodies of every message type in every format, mutated at
 * the byte level (flips, truncation, splices, hostile length prefixes, deep nesting) and at the
 * structure level (values of the wrong kind, huge and negative numbers, ids of the wrong length,
 * hosts in other scripts, repeated, missing and unknown fields). Whatever comes in, the decoder
 * either returns a message (which then survives its own round trip) or refuses it with {@link
 * InvalidMessageException}, and allocates no more than a bounded multiple of the body's size.
 * {@link WireCodecProperties} covers valid bodies.
 */
class WireMutationProperties {

  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);
  private static final int MAX_FRAME = 64 * 1024;
  private static final int MAX_VALUE = 1024;

  /**
   * What one decode may allocate, in bytes, for a body of {@code n} bytes: the parser's buffers,
   * the message, an exception with its stack trace, and a generous multiple of the body.
   */
  private static long allocationBound(int n) {
    return 2 * 1024 * 1024 + 64L * n;
  }

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  enum Kind {
    FLIP_BIT,
    SET_BYTE,
    TRUNCATE,
    INSERT_RANDOM,
    DELETE_RANGE,
    DUPLICATE_RANGE,
    SPLICE,
    HOSTILE_AT_TOKEN,
    DEEP_AT_TOKEN,
    REPLACE_NODE,
    REMOVE_FIELD,
    ADD_FIELD,
    DUPLICATE_FIELD,
    RENAME_FIELD,
    WRAP_IN_ARRAY
  }

  /**
   * One mutation: {@code at} and {@code to} are fractions of the body (or of its tokens or nodes),
   * {@code pick} chooses among variants, {@code seed} draws random bytes.
   */
  record Mutation(Kind kind, double at, double to, int pick, long seed) {}

  @Provide
  Arbitrary<Message> messages() {
    return Messages.messages(160);
  }

  @Provide
  Arbitrary<List<Mutation>> mutations() {
    return mutationLists();
  }

  /** One to four mutations, structure-level ones twice as often as byte-level ones. */
  static Arbitrary<List<Mutation>> mutationLists() {
    Arbitrary<Double> fractions = Arbitraries.doubles().between(0, 1);
    // Structure-level mutations twice as often: byte-level ones mostly break the format, and it
    // is the structure-level ones that reach the mapping's checks.
    List<Kind> weighted = new ArrayList<>();
    for (Kind k : Kind.values()) {
      weighted.add(k);
      if (k.compareTo(Kind.REPLACE_NODE) >= 0) {
        weighted.add(k);
      }
    }
    Arbitrary<Kind> kinds = Arbitraries.of(weighted);
    return Combinators.combine(
            kinds,
            fractions,
            fractions,
            Arbitraries.integers().between(0, 1000),
            Arbitraries.longs())
        .as(Mutation::new)
        .list()
        .ofMinSize(1)
        .ofMaxSize(4);
  }

  @Property(tries = 2000)
  void aMutatedBodyDecodesToAValidMessageOrIsRefused(
      @ForAll WireFormat format,
      @ForAll long rid,
      @ForAll("messages") Message message,
      @ForAll("messages") Message other,
      @ForAll("mutations") List<Mutation> mutations,
      @ForAll boolean direct) {
    WireCodec codec = new WireCodec(format, 160, MAX_VALUE, MAX_FRAME);
    byte[] body = body(codec, rid, message);
    byte[] otherBody = body(codec, rid + 1, other);
    for (Mutation m : mutations) {
      body = apply(format, body, otherBody, m);
    }
    assertDecodesOrRefuses(codec, body, direct);
  }

  /**
   * Decodes {@code body} and checks the outcome: a message that survives its own round trip, or an
   * {@link InvalidMessageException}; nothing else, and no more allocation than the bound.
   */
  static void assertDecodesOrRefuses(WireCodec codec, byte[] body, boolean direct) {
    ByteBuf buf = direct ? Unpooled.directBuffer(body.length) : Unpooled.buffer(body.length);
    buf.writeBytes(body);
    WireCodec.Decoded decoded = null;
    long allocated;
    long before = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId());
    try {
      decoded = codec.decode(buf);
    } catch (InvalidMessageException e) {
      // refused, as it should be
    } catch (Throwable e) {
      fail(
          codec.format()
              + " body "
              + ByteBufUtil.hexDump(body)
              + " made the decoder throw "
              + e
              + " instead of InvalidMessageException",
          e);
    } finally {
      allocated = THREADS.getThreadAllocatedBytes(Thread.currentThread().getId()) - before;
      buf.release();
    }
    assertThat(allocated)
        .as(
            "bytes allocated decoding the %d-byte %s body %s",
            body.length, codec.format(), ByteBufUtil.hexDump(body, 0, Math.min(body.length, 200)))
        .isLessThanOrEqualTo(allocationBound(body.length));
    if (decoded != null) {
      ByteBuf again = codec.encode(ALLOC, decoded.rid(), decoded.message());
      try {
        again.skipBytes(WireCodec.LENGTH_BYTES);
        WireCodec.Decoded twice = codec.decode(again);
        assertThat(twice).isEqualTo(decoded);
      } finally {
        again.release();
      }
    }
  }

  static byte[] body(WireCodec codec, long rid, Message message) {
    ByteBuf frame = codec.encode(ALLOC, rid, message);
    try {
      frame.skipBytes(WireCodec.LENGTH_BYTES);
      return ByteBufUtil.getBytes(frame);
    } finally {
      frame.release();
    }
  }

  static byte[] apply(WireFormat format, byte[] body, byte[] other, Mutation m) {
    SplittableRandom random = new SplittableRandom(m.seed());
    int at = index(m.at(), body.length);
    int to = index(m.to(), body.length);
    int lo = Math.min(at, to);
    int hi = Math.max(at, to);
    return switch (m.kind()) {
      case FLIP_BIT -> {
        if (body.length == 0) {
          yield body;
        }
        byte[] b = body.clone();
        int i = Math.min(at, b.length - 1);
        b[i] ^= (byte) (1 << (m.pick() & 7));
        yield b;
      }
      case SET_BYTE -> {
        if (body.length == 0) {
          yield body;
        }
        byte[] b = body.clone();
        b[Math.min(at, b.length - 1)] = (byte) m.pick();
        yield b;
      }
      case TRUNCATE -> Arrays.copyOf(body, at);
      case INSERT_RANDOM -> {
        byte[] extra = new byte[1 + m.pick() % 8];
        random.nextBytes(extra);
        yield concat(Arrays.copyOf(body, at), extra, Arrays.copyOfRange(body, at, body.length));
      }
      case DELETE_RANGE ->
          concat(Arrays.copyOf(body, lo), Arrays.copyOfRange(body, hi, body.length));
      case DUPLICATE_RANGE ->
          concat(
              Arrays.copyOf(body, hi),
              Arrays.copyOfRange(body, lo, hi),
              Arrays.copyOfRange(body, hi, body.length));
      case SPLICE ->
          concat(
              Arrays.copyOf(body, at),
              Arrays.copyOfRange(other, index(m.to(), other.length), other.length));
      case HOSTILE_AT_TOKEN -> {
        int t = tokenStart(format, body, m.at());
        byte[] hostile = hostile(format, m.pick());
        // keep what followed the token now and then, so the hostile value sits in a structure
        byte[] rest =
            m.pick() % 3 == 0 ? Arrays.copyOfRange(body, t, body.length) : new byte[m.pick() % 5];
        yield concat(Arrays.copyOf(body, t), hostile, rest);
      }
      case DEEP_AT_TOKEN -> {
        int t = tokenStart(format, body, m.at());
        byte[] deep = new byte[1 + m.pick() * 3];
        Arrays.fill(deep, openArray(format, m.pick()));
        yield concat(Arrays.copyOf(body, t), deep, Arrays.copyOfRange(body, t, body.length));
      }
      default -> structural(format, body, other, m);
    };
  }

  private static int index(double fraction, int length) {
    return Math.min(length, (int) (fraction * (length + 1)));
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** Where a token starts, chosen by {@code fraction} among the tokens that parse. */
  private static int tokenStart(WireFormat format, byte[] body, double fraction) {
    List<Integer> starts = new ArrayList<>();
    try (JsonParser p = WireCodec.factory(format).createParser(body)) {
      while (p.nextToken() != null) {
        long offset = p.currentTokenLocation().getByteOffset();
        if (offset >= 0 && offset <= body.length) {
          starts.add((int) offset);
        }
      }
    } catch (IOException | RuntimeException e) {
      // as many tokens as parse
    }
    if (starts.isEmpty()) {
      return index(fraction, body.length);
    }
    return starts.get(Math.min(starts.size() - 1, (int) (fraction * starts.size())));
  }

  private static byte openArray(WireFormat format, int pick) {
    return switch (format) {
      case JSON -> pick % 2 == 0 ? (byte) '[' : (byte) '{';
      case CBOR -> pick % 2 == 0 ? (byte) 0x9f : (byte) 0x81;
      case SMILE -> (byte) 0xf8;
    };
  }

  private static byte[] b(int... bytes) {
    byte[] out = new byte[bytes.length];
    for (int i = 0; i < bytes.length; i++) {
      out[i] = (byte) bytes[i];
    }
    return out;
  }

  /** Smile's unsigned variable-length integer: 7 bits a byte, 6 in the last, which has bit 7. */
  private static byte[] vint(long value) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Integer> groups = new ArrayList<>();
    groups.add((int) (value & 0x3f) | 0x80);
    value >>>= 6;
    while (value != 0) {
      groups.add((int) (value & 0x7f));
      value >>>= 7;
    }
    Collections.reverse(groups);
    groups.forEach(out::write);
    return out.toByteArray();
  }

  /** Values whose header claims far more than the body holds, or numbers out of every range. */
  private static byte[] hostile(WireFormat format, int pick) {
    List<byte[]> choices =
        switch (format) {
          case JSON ->
              List.of(
                  "1e999999999".getBytes(),
                  "-1e-999999999".getBytes(),
                  ("9".repeat(1200)).getBytes(),
                  "18446744073709551616".getBytes(),
                  "-9223372036854775809".getBytes(),
                  "\"\\ud800\"".getBytes(),
                  "\"\\u0000\"".getBytes(),
                  "\"".getBytes(),
                  "NaN".getBytes(),
                  "\"AAAA====\"".getBytes(),
                  b(0xff, 0xfe, 0xc0, 0x80),
                  "[".repeat(1500).getBytes());
          case CBOR ->
              List.of(
                  b(0x5a, 0x7f, 0xff, 0xff, 0xff),
                  b(0x5a, 0x00, 0x03, 0xd0, 0x8f),
                  b(0x5b, 0x00, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff),
                  b(0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
                  b(0x7a, 0x7f, 0xff, 0xff, 0xff),
                  b(0x7a, 0x00, 0x03, 0xd0, 0x8f),
                  b(0x7b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
                  b(0x9a, 0x7f, 0xff, 0xff, 0xff),
                  b(0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
                  b(0xba, 0x7f, 0xff, 0xff, 0xff),
                  b(0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
                  b(0x5f, 0x5a, 0x7f, 0xff, 0xff, 0xff),
                  b(0x7f, 0x7a, 0x7f, 0xff, 0xff, 0xff),
                  b(0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
                  b(0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
                  b(0xc2, 0x5a, 0x7f, 0xff, 0xff, 0xff),
                  b(0xc2, 0x58, 0x20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17),
                  b(0xc3, 0x41, 0x05),
                  b(0xc4, 0x82, 0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
                  b(0xc4, 0x82, 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
                  b(0xc5, 0x82, 0x1a, 0x7f, 0xff, 0xff, 0xff, 0x01),
                  b(0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0),
                  b(0xf9, 0x7c, 0x00),
                  b(0xf7),
                  b(0xf0),
                  b(0xff),
                  b(0x1c),
                  b(0xd9, 0xd9, 0xf7, 0x01),
                  b(0xa1, 0x5a, 0x7f, 0xff, 0xff, 0xff),
                  b(0xa1, 0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
          case SMILE ->
              List.of(
                  concat(b(0xfd), vint(0x7fffffffL)),
                  concat(b(0xfd), vint(250_000)),
                  concat(b(0xfd), vint(Long.MAX_VALUE)),
                  concat(b(0xe8), vint(0x7fffffffL)),
                  concat(b(0xe8), vint(250_000)),
                  concat(b(0xe8), vint(Long.MAX_VALUE)),
                  concat(b(0x26), vint(0x7fffffffL)),
                  concat(b(0x2a), vint(5), vint(0x7fffffffL)),
                  concat(b(0x2a), vint(0xffffffffL), vint(1), b(0x01)),
                  concat(b(0x25), vint(Long.MAX_VALUE), vint(Long.MAX_VALUE)),
                  concat(b(0x24), vint(0xffffffffffL)),
                  b(0xe0, 'a', 'b', 'c'),
                  b(0xe4, 0xc3, 0xa9),
                  b(0x28, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f),
                  b(0x29, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f),
                  b(0x01),
                  b(0x1f),
                  b(0xec, 0x03, 0xff),
                  b(0x40),
                  b(0x7f),
                  b(0x80),
                  b(0xff),
                  b(0xfa, 0x30),
                  b(0xfa, 0x3f),
                  b(0xfa, 0x34, 0x30),
                  b(0xfa, 0xf7, 0xff),
                  b(0xfa, 0x80, 'x'),
                  b(0xfb));
        };
    return choices.get(pick % choices.size());
  }

  // ---- structure-level mutations ----

  /** A node in the tree, where it stands in its parent (null for the root). */
  private record Place(ContainerNode<?> parent, String field, int index, JsonNode node) {}

  private static byte[] structural(WireFormat format, byte[] body, byte[] other, Mutation m) {
    ObjectMapper mapper = new ObjectMapper(WireCodec.factory(format));
    JsonNode root;
    JsonNode otherRoot;
    try {
      root = mapper.readTree(body);
      otherRoot = mapper.readTree(other);
    } catch (IOException | RuntimeException e) {
      return body; // an earlier mutation broke it: nothing to change structurally
    }
    if (root == null || root.isMissingNode() || otherRoot == null || otherRoot.isMissingNode()) {
      return body;
    }
    List<Place> places = new ArrayList<>();
    collect(null, null, -1, root, places);
    Set<JsonNode> duplicated = Collections.newSetFromMap(new IdentityHashMap<>());
    Place place = places.get(Math.min(places.size() - 1, (int) (m.at() * places.size())));
    List<Place> objects = places.stream().filter(p -> p.node() instanceof ObjectNode).toList();
    ObjectNode object =
        objects.isEmpty()
            ? null
            : (ObjectNode)
                objects.get(Math.min(objects.size() - 1, (int) (m.at() * objects.size()))).node();
    switch (m.kind()) {
      case REPLACE_NODE -> {
        List<Place> donors = new ArrayList<>();
        collect(null, null, -1, otherRoot, donors);
        JsonNode donor =
            donors.get(Math.min(donors.size() - 1, (int) (m.to() * donors.size()))).node();
        root = replace(root, place, replacement(format, m.pick(), place.node(), donor));
      }
      case WRAP_IN_ARRAY ->
          root = replace(root, place, JsonNodeFactory.instance.arrayNode().add(place.node()));
      case REMOVE_FIELD -> {
        if (object != null && object.size() > 0) {
          object.remove(fieldName(object, m.pick()));
        }
      }
      case ADD_FIELD -> {
        if (object != null) {
          List<String> names = new ArrayList<>(FIELD_NAMES);
          object.set(
              names.get(m.pick() % names.size()),
              replacement(format, m.pick() / 7, object.deepCopy(), object.deepCopy()));
        }
      }
      case DUPLICATE_FIELD -> {
        if (object != null && object.size() > 0) {
          // moved first, then written twice by write()
          String name = fieldName(object, m.pick());
          JsonNode v = object.remove(name);
          ObjectNode reordered = JsonNodeFactory.instance.objectNode();
          reordered.set(name, m.pick() % 2 == 0 ? v : replacement(format, m.pick() / 2, v, v));
          reordered.setAll(object);
          object.removeAll();
          object.setAll(reordered);
          duplicated.add(object);
        }
      }
      case RENAME_FIELD -> {
        if (object != null && object.size() > 0) {
          String name = fieldName(object, m.pick());
          List<String> names = new ArrayList<>(FIELD_NAMES);
          String renamed = names.get((m.pick() / 3) % names.size());
          JsonNode v = object.remove(name);
          object.set(renamed, v);
        }
      }
      default -> throw new IllegalStateException(m.kind().name());
    }
    JsonFactory factory = WireCodec.factory(format);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonGenerator g = factory.createGenerator(out)) {
      write(g, root, duplicated);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    return out.toByteArray();
  }

  private static final List<String> FIELD_NAMES =
      List.of(
          "rid",
          "msg",
          "type",
          "sender",
          "target",
          "key",
          "values",
          "cached",
          "ttlMillis",
          "contacts",
          "accepted",
          "rejected",
          "code",
          "message",
          "fromClient",
          "renewed",
          "id",
          "host",
          "port",
          "data",
          "publisher",
          "valueId",
          "seq",
          "expiresSec",
          "expiresNano",
          "publicKey",
          "signature",
          "index",
          "reason",
          "",
          "\u00e9t\u00e9",
          "rid\u0000");

  private static String fieldName(ObjectNode object, int pick) {
    List<String> names = new ArrayList<>();
    namesOf(object, names);
    return names.get(pick % names.size());
  }

  private static void namesOf(ObjectNode object, List<String> names) {
    for (Map.Entry<String, JsonNode> e : object.properties()) {
      names.add(e.getKey());
    }
  }

  private static void collect(
      ContainerNode<?> parent, String field, int index, JsonNode node, List<Place> out) {
    out.add(new Place(parent, field, index, node));
    if (node instanceof ObjectNode o) {
      for (Map.Entry<String, JsonNode> e : o.properties()) {
        collect(o, e.getKey(), -1, e.getValue(), out);
      }
    } else if (node instanceof ArrayNode a) {
      for (int i = 0; i < a.size(); i++) {
        collect(a, null, i, a.get(i), out);
      }
    }
  }

  private static JsonNode replace(JsonNode root, Place place, JsonNode with) {
    if (place.parent() == null) {
      return with;
    }
    if (place.parent() instanceof ObjectNode o) {
      o.set(place.field(), with);
    } else {
      ((ArrayNode) place.parent()).set(place.index(), with);
    }
    return root;
  }

  private static JsonNode bytes(WireFormat format, byte[] b) {
    // JSON carries byte strings as base64 text
    return format == WireFormat.JSON
        ? TextNode.valueOf(Base64.getEncoder().encodeToString(b))
        : BinaryNode.valueOf(b);
  }

  private static JsonNode replacement(
      WireFormat format, int pick, JsonNode original, JsonNode donor) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return switch (pick % 34) {
      case 0 -> NullNode.instance;
      case 1 -> BooleanNode.TRUE;
      case 2 -> IntNode.valueOf(-1);
      case 3 -> LongNode.valueOf(Long.MIN_VALUE);
      case 4 -> LongNode.valueOf(Long.MAX_VALUE);
      case 5 -> BigIntegerNode.valueOf(BigInteger.TWO.pow(70));
      case 6 -> DoubleNode.valueOf(1.5);
      case 7 -> DecimalNode.valueOf(new BigDecimal("1e400"));
      case 8 -> TextNode.valueOf("");
      case 9 -> TextNode.valueOf("h\u00e9.example");
      case 10 -> TextNode.valueOf("a".repeat(300));
      case 11 -> TextNode.valueOf("\u0000\n\uffff\ud83d\ude00");
      case 12 -> TextNode.valueOf("::1%eth0");
      case 13 -> bytes(format, new byte[0]);
      case 14 -> bytes(format, new byte[19]);
      case 15 -> bytes(format, new byte[21]);
      case 16 -> bytes(format, new byte[32]);
      case 17 -> f.arrayNode();
      case 18 -> f.objectNode();
      case 19 -> f.arrayNode().add(original);
      case 20 -> IntNode.valueOf(65536);
      case 21 -> IntNode.valueOf(Integer.MIN_VALUE);
      case 22 -> LongNode.valueOf(Integer.MAX_VALUE + 1L);
      case 23 -> TextNode.valueOf("not base64!");
      case 24 -> IntNode.valueOf(0);
      case 25 -> donor.deepCopy();
      case 26 ->
          TextNode.valueOf(Arrays.asList("ping", "store", "failure", "subscribed").get(pick % 4));
      case 27 -> TextNode.valueOf("LIMIT");
      case 28 -> bytes(format, new byte[MAX_VALUE + 1]);
      case 29 -> TextNode.valueOf("1.2.3.4.5");
      case 30 -> TextNode.valueOf("\uff45xample");
      case 31 -> LongNode.valueOf(-1_000_000_000_000_000L);
      case 32 -> f.arrayNode().add(NullNode.instance);
      default -> {
        ArrayNode deep = f.arrayNode();
        ArrayNode inner = deep;
        for (int i = 0; i < 200; i++) {
          inner = inner.addArray();
        }
        yield deep;
      }
    };
  }

  /** Writes {@code node}, each object in {@code duplicated} with its first field twice. */
  private static void write(JsonGenerator g, JsonNode node, Set<JsonNode> duplicated)
      throws IOException {
    if (node instanceof ObjectNode o) {
      g.writeStartObject();
      boolean first = true;
      for (Map.Entry<String, JsonNode> e : o.properties()) {
        int times = first && duplicated.contains(o) ? 2 : 1;
        for (int i = 0; i < times; i++) {
          g.writeFieldName(e.getKey());
          write(g, e.getValue(), duplicated);
        }
        first = false;
      }
      g.writeEndObject();
    } else if (node instanceof ArrayNode a) {
      g.writeStartArray();
      for (JsonNode e : a) {
        write(g, e, duplicated);
      }
      g.writeEndArray();
    } else if (node.isBinary()) {
      g.writeBinary(node.binaryValue());
    } else if (node.isTextual()) {
      g.writeString(node.textValue());
    } else if (node.isBoolean()) {
      g.writeBoolean(node.booleanValue());
    } else if (node.isNull()) {
      g.writeNull();
    } else if (node.isInt()) {
      g.writeNumber(node.intValue());
    } else if (node.isLong()) {
      g.writeNumber(node.longValue());
    } else if (node.isBigInteger()) {
      g.writeNumber(node.bigIntegerValue());
    } else if (node.isBigDecimal()) {
      g.writeNumber(node.decimalValue());
    } else if (node.isNumber()) {
      g.writeNumber(node.doubleValue());
    } else {
      throw new IllegalStateException("cannot write " + node.getNodeType());
    }
  }
}
