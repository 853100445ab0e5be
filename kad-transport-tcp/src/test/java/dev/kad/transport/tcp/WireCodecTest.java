package dev.kad.transport.tcp;

import static dev.kad.transport.tcp.WireBodies.MAX_VALUE;
import static dev.kad.transport.tcp.WireBodies.codec;
import static dev.kad.transport.tcp.WireBodies.decoded;
import static dev.kad.transport.tcp.WireBodies.edited;
import static dev.kad.transport.tcp.WireBodies.msg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class WireCodecTest {

  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);
  private static final Contact SENDER = Messages.contact(1, new Address("127.0.0.1", 7000));

  private static void assertRefused(WireFormat format, byte[] body, String messagePart) {
    ByteBuf buf = Unpooled.wrappedBuffer(body);
    try {
      assertThatThrownBy(() -> codec(format).decode(buf))
          .isInstanceOf(InvalidMessageException.class)
          .hasMessageContaining(messagePart);
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void decodesWhatItEncodes(WireFormat format) throws IOException {
    Message ping = new Request.Ping(SENDER);
    ByteBuf buf = Unpooled.wrappedBuffer(edited(format, ping, t -> {}));
    try {
      assertThat(codec(format).decode(buf).message()).isEqualTo(ping);
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAnUnknownType(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(format, new Request.Ping(SENDER), t -> msg(t).put("type", "teleport")),
        "teleport");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAMissingType(WireFormat format) throws IOException {
    assertRefused(
        format, edited(format, new Request.Ping(SENDER), t -> msg(t).remove("type")), "type");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAMissingField(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(format, new Request.FindNode(SENDER, Messages.id(2)), t -> msg(t).remove("target")),
        "target");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAMissingRequestId(WireFormat format) throws IOException {
    assertRefused(format, edited(format, new Request.Ping(SENDER), t -> t.remove("rid")), "rid");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesANullField(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(format, new Request.FindValue(SENDER, Key.of("k")), t -> msg(t).putNull("key")),
        "key");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAnUnknownField(WireFormat format) throws IOException {
    assertRefused(
        format, edited(format, new Request.Ping(SENDER), t -> msg(t).put("extra", 1)), "extra");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAFieldOfAnotherMessageType(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(format, new Request.Ping(SENDER), t -> msg(t).put("target", new byte[20])),
        "ping has an unknown or repeated field 'target'");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesARepeatedField(WireFormat format) throws IOException {
    // A tree cannot hold a key twice, so the body is JSON text carried over token by token.
    String repeated =
        "{\"rid\":1,\"msg\":{\"type\":\"ping\",\"type\":\"ping\",\"sender\":"
            + "{\"id\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"host\":\"h\",\"port\":1}}}";
    assertRefused(format, transcoded(format, repeated), "unknown or repeated field 'type'");
  }

  /** {@code json} in {@code format}, event for event, repeated keys included. */
  private static byte[] transcoded(WireFormat format, String json) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (JsonParser p = WireCodec.factory(WireFormat.JSON).createParser(json);
        JsonGenerator g = WireCodec.factory(format).createGenerator(out)) {
      while (p.nextToken() != null) {
        g.copyCurrentEvent(p);
      }
    }
    return out.toByteArray();
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesTextWhereANumberBelongs(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Request.Subscribe(SENDER, Key.of("k"), Duration.ofSeconds(1)),
            t -> msg(t).put("ttlMillis", "1000")),
        "ttlMillis must be an integer but was a string");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAFractionWhereAnIntegerBelongs(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Request.Ping(SENDER),
            t -> ((ObjectNode) msg(t).get("sender")).put("port", 7000.5)),
        "sender port must be an integer but was a fraction");
  }

  /** A message, how its body is spoiled, and what the refusal must say. */
  private record Spoiled(Message message, Consumer<ObjectNode> edit, String refusal) {}

  private static ObjectNode firstValue(ObjectNode frame) {
    return (ObjectNode) msg(frame).get("values").get(0);
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAValueOfTheWrongShapeWhereverItStands(WireFormat format) throws IOException {
    Key key = Key.of("k");
    List<Spoiled> cases =
        List.of(
            new Spoiled(
                new Response.Failure(SENDER, Response.Code.LIMIT, "full"),
                t -> msg(t).put("code", "TELEPORT"),
                "unknown failure code 'TELEPORT'"),
            new Spoiled(
                new Request.Store(SENDER, key, List.of(Messages.value(3)), false),
                t -> msg(t).put("cached", "yes"),
                "cached must be true or false but was a string"),
            new Spoiled(
                new Response.NodesFound(SENDER, List.of(SENDER)),
                t -> msg(t).putObject("contacts"),
                "contacts must be a list but was an object"),
            new Spoiled(
                new Request.Ping(SENDER),
                t -> msg(t).put("sender", "me"),
                "sender must be an object but was a string"),
            new Spoiled(
                new Request.Notify(SENDER, key, List.of(Messages.value(3))),
                t -> firstValue(t).remove("seq"),
                "values element is missing field 'seq'"),
            new Spoiled(
                new Request.Notify(SENDER, key, List.of(Messages.value(3))),
                t -> firstValue(t).put("extra", 1),
                "values element has an unknown or repeated field 'extra'"),
            new Spoiled(
                new Request.Ping(SENDER),
                t -> t.putArray("msg"),
                "msg must be an object but was a list"));
    for (Spoiled c : cases) {
      assertRefused(format, edited(format, c.message(), c.edit()), c.refusal());
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void readsFieldsInAnyOrder(WireFormat format) throws IOException {
    Message found = new Response.NodesFound(SENDER, List.of(SENDER));
    byte[] body =
        edited(
            format,
            found,
            t -> {
              ObjectNode m = msg(t);
              ObjectNode reordered = t.objectNode();
              reordered.set("contacts", m.get("contacts"));
              reordered.set("sender", m.get("sender"));
              reordered.set("type", m.get("type"));
              t.remove("msg");
              t.remove("rid");
              t.set("msg", reordered);
              t.put("rid", 42);
            });
    ByteBuf buf = Unpooled.wrappedBuffer(body);
    try {
      WireCodec.Decoded decoded = codec(format).decode(buf);
      assertThat(decoded.rid()).isEqualTo(42);
      assertThat(decoded.message()).isEqualTo(found);
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAnIdOfTheWrongLength(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Request.FindNode(SENDER, Messages.id(2)),
            t -> msg(t).put("target", new byte[32])),
        "target must be 20 bytes");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesASenderIdOfTheWrongLength(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Request.Ping(SENDER),
            t -> ((ObjectNode) msg(t).get("sender")).put("id", new byte[19])),
        "sender id must be 20 bytes");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAValueOverTheLimit(WireFormat format) throws IOException {
    Message store =
        new Request.Store(SENDER, Key.of("k"), List.of(Messages.value(MAX_VALUE + 1)), false);
    assertRefused(format, edited(format, store, t -> {}), "maxValueBytes 100");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void acceptsAValueAtTheLimit(WireFormat format) throws IOException {
    Message store =
        new Request.Store(SENDER, Key.of("k"), List.of(Messages.value(MAX_VALUE)), true);
    ByteBuf buf = Unpooled.wrappedBuffer(edited(format, store, t -> {}));
    try {
      assertThat(codec(format).decode(buf).message()).isEqualTo(store);
    } finally {
      buf.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesNanosOutOfRange(WireFormat format) throws IOException {
    Message notify = new Request.Notify(SENDER, Key.of("k"), List.of(Messages.value(3)));
    assertRefused(
        format,
        edited(
            format, notify, t -> ((ObjectNode) msg(t).get("values").get(0)).put("expiresNano", -1)),
        "expiresNano");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesANegativeTtl(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Request.Subscribe(SENDER, Key.of("k"), Duration.ofSeconds(1)),
            t -> msg(t).put("ttlMillis", -5)),
        "ttlMillis");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAnInvalidPort(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Request.Ping(SENDER),
            t -> ((ObjectNode) msg(t).get("sender")).put("port", 70000)),
        "port");
  }

  /**
   * A host no DNS name (at most 253 characters) or IP literal can be: a node would keep the contact
   * and repeat it in its answers, so that a few such contacts push every answer naming them past
   * maxFrameBytes, and its control characters would reach log lines.
   */
  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAHostNoNameOrAddressCanBe(WireFormat format) throws IOException {
    Contact longest = new Contact(SENDER.id(), new Address("a".repeat(253), 7000));
    assertThat(decode(format, new Response.NodesFound(SENDER, List.of(longest))).contacts())
        .containsExactly(longest);
    assertRefused(
        format,
        edited(
            format,
            new Request.Ping(SENDER),
            t -> ((ObjectNode) msg(t).get("sender")).put("host", "a".repeat(254))),
        "sender host must be at most 253 characters but had 254");
    // A contact so addressed is left out (an earlier version may have taken a host this one
    // refuses, and repeats it), and the answer's other contacts kept.
    Contact other = new Contact(NodeId.of(new byte[20]), new Address("10.0.0.2", 7000));
    byte[] controlInHost =
        edited(
            format,
            new Response.NodesFound(SENDER, List.of(SENDER, other)),
            t -> ((ObjectNode) msg(t).withArray("contacts").get(0)).put("host", "10.0.0.1\nx"));
    assertThat(((Response.NodesFound) decoded(format, controlInHost)).contacts())
        .containsExactly(other);
    byte[] numericHost =
        edited(
            format,
            new Response.NodesFound(SENDER, List.of(other, SENDER)),
            t -> ((ObjectNode) msg(t).withArray("contacts").get(1)).put("host", "167772165"));
    assertThat(((Response.NodesFound) decoded(format, numericHost)).contacts())
        .containsExactly(other);
    // Past a bound, no older node's answer: each left-out host costs an exception.
    List<Contact> many = new ArrayList<>();
    for (int i = 0; i <= WireMapping.MAX_CONTACTS_LEFT_OUT; i++) {
      many.add(new Contact(NodeId.of(new byte[20]), new Address("10.0.0." + i, 7000)));
    }
    assertRefused(
        format,
        edited(
            format,
            new Response.NodesFound(SENDER, many),
            t -> {
              for (var contact : msg(t).withArray("contacts")) {
                ((ObjectNode) contact).put("host", "1");
              }
            }),
        "more than "
            + WireMapping.MAX_CONTACTS_LEFT_OUT
            + " contacts with hosts this node refuses");
    assertRefused(
        format,
        edited(
            format,
            new Request.Ping(SENDER),
            t -> ((ObjectNode) msg(t).get("sender")).put("host", "node one")),
        "sender host must be ASCII letters, digits and . - _ : % only but had U+0020 at index 4");
  }

  private static Response.NodesFound decode(WireFormat format, Response.NodesFound message) {
    return (Response.NodesFound) decodeMessage(format, message);
  }

  private static Message decodeMessage(WireFormat format, Message message) {
    ByteBuf frame = codec(format).encode(ALLOC, 1, message);
    try {
      frame.skipBytes(WireCodec.LENGTH_BYTES);
      return codec(format).decode(frame).message();
    } finally {
      frame.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void aTtlPastACenturyIsTakenAsTheLongestNotRefused(WireFormat format) throws IOException {
    // Another implementation may grant Long.MAX_VALUE ms for "forever".
    byte[] forever =
        edited(
            format,
            new Response.Subscribed(SENDER, Duration.ofMinutes(5)),
            t -> msg(t).put("ttlMillis", Long.MAX_VALUE));
    ByteBuf body = Unpooled.wrappedBuffer(forever);
    try {
      assertThat(((Response.Subscribed) codec(format).decode(body).message()).ttl())
          .isEqualTo(KadConfig.MAX_DURATION);
    } finally {
      body.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void aPeersWordsArriveOnOneShortLine(WireFormat format) {
    String forged = "refused\n2026-11-26 [main] ERROR forged line" + "x".repeat(1000);
    Response.Failure failure =
        (Response.Failure)
            decodeMessage(format, new Response.Failure(SENDER, Response.Code.LIMIT, forged));
    Response.Stored stored =
        (Response.Stored)
            decodeMessage(
                format, new Response.Stored(SENDER, 0, List.of(new Response.Rejected(0, forged))));

    for (String text : List.of(failure.message(), stored.rejected().get(0).reason())) {
      assertThat(text)
          .startsWith("refused\\n2026-11-26 [main] ERROR forged line")
          .doesNotContain("\n")
          .endsWith("... (" + (forged.length() - PeerText.MAX_CHARS) + " more characters)");
    }
    // Short words pass as they are.
    assertThat(
            ((Response.Failure)
                    decodeMessage(
                        format, new Response.Failure(SENDER, Response.Code.LIMIT, "full")))
                .message())
        .isEqualTo("full");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesANullListElement(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Response.NodesFound(SENDER, List.of(SENDER)),
            t -> msg(t).putArray("contacts").addNull()),
        "contact");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAnEnumByNumber(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(
            format,
            new Response.Failure(SENDER, Response.Code.LIMIT, "full"),
            t -> msg(t).put("code", 1)),
        "malformed");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesTrailingBytes(WireFormat format) throws IOException {
    byte[] body = edited(format, new Request.Ping(SENDER), t -> {});
    // a second document; Smile's 4-byte header would start a new stream, so it is left out
    int skip = format == WireFormat.SMILE ? 4 : 0;
    byte[] doubled = new byte[body.length * 2 - skip];
    System.arraycopy(body, 0, doubled, 0, body.length);
    System.arraycopy(body, skip, doubled, body.length, body.length - skip);
    assertRefused(format, doubled, "malformed");
  }

  /** One request of every type, marked as from a client or not. */
  private static List<Request> everyRequest(boolean fromClient) {
    Key key = Key.of("k");
    return List.of(
        new Request.Ping(SENDER, fromClient),
        new Request.FindNode(SENDER, Messages.id(2), fromClient),
        new Request.FindValue(SENDER, key, fromClient),
        new Request.Store(SENDER, key, List.of(Messages.value(3)), true, fromClient),
        new Request.Subscribe(SENDER, key, Duration.ofSeconds(30), fromClient),
        new Request.Unsubscribe(SENDER, key, fromClient),
        new Request.Notify(SENDER, key, List.of(Messages.value(3)), fromClient));
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void everyRequestKeepsItsClientMarkThroughTheRoundTrip(WireFormat format) throws IOException {
    for (boolean fromClient : new boolean[] {false, true}) {
      for (Request r : everyRequest(fromClient)) {
        Message back = decoded(format, edited(format, r, t -> {}));
        assertThat(back).as("%s", r).isEqualTo(r);
        assertThat(((Request) back).fromClient()).isEqualTo(fromClient);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void writesTheClientMarkOnlyWhenSet(WireFormat format) throws IOException {
    for (Request r : everyRequest(false)) {
      edited(format, r, t -> assertThat(msg(t).has("fromClient")).as("%s", r).isFalse());
      edited(
          format,
          r.withFromClient(true),
          t -> assertThat(msg(t).get("fromClient").asBoolean()).as("%s", r).isTrue());
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void readsAFrameWithoutTheMarkAsAFullNodesAndAnExplicitFalseToo(WireFormat format)
      throws IOException {
    for (Request r : everyRequest(true)) {
      assertThat(decoded(format, edited(format, r, t -> msg(t).remove("fromClient"))))
          .isEqualTo(r.withFromClient(false));
      assertThat(decoded(format, edited(format, r, t -> msg(t).put("fromClient", false))))
          .isEqualTo(r.withFromClient(false));
    }
  }

  @Test
  void readsAPingAsANodeWithoutClientModeWroteIt() {
    // Byte for byte what the codec wrote before the mark existed.
    String old =
        "{\"rid\":9,\"msg\":{\"type\":\"ping\",\"sender\":"
            + "{\"id\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"host\":\"10.0.0.1\",\"port\":7000}}}";
    Message m = decoded(WireFormat.JSON, old.getBytes(StandardCharsets.UTF_8));
    assertThat(m).isInstanceOf(Request.Ping.class);
    assertThat(((Request) m).fromClient()).isFalse();
    // And a full node's ping is still exactly those bytes.
    Request.Ping ping = (Request.Ping) m;
    ByteBuf frame = codec(WireFormat.JSON).encode(ALLOC, 9, ping);
    try {
      frame.skipBytes(WireCodec.LENGTH_BYTES);
      assertThat(frame.toString(StandardCharsets.UTF_8)).isEqualTo(old);
    } finally {
      frame.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAMalformedClientMark(WireFormat format) throws IOException {
    Request ping = new Request.Ping(SENDER, true);
    assertRefused(
        format,
        edited(format, ping, t -> msg(t).put("fromClient", 1)),
        "fromClient must be true or false but was an integer");
    assertRefused(
        format,
        edited(format, ping, t -> msg(t).put("fromClient", "true")),
        "fromClient must be true or false but was a string");
    assertRefused(
        format,
        edited(format, ping, t -> msg(t).putNull("fromClient")),
        "fromClient must be true or false but was null");
    assertRefused(
        format,
        transcoded(
            format,
            "{\"rid\":1,\"msg\":{\"type\":\"ping\",\"fromClient\":true,\"fromClient\":true,"
                + "\"sender\":{\"id\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"host\":\"h\",\"port\":1}}}"),
        "unknown or repeated field 'fromClient'");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAClientMarkOnAResponse(WireFormat format) throws IOException {
    assertRefused(
        format,
        edited(format, new Response.Pong(SENDER), t -> msg(t).put("fromClient", true)),
        "pong has an unknown or repeated field 'fromClient'");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesGarbage(WireFormat format) {
    assertRefused(
        format, "\u0000\u00ff garbage {".getBytes(StandardCharsets.ISO_8859_1), "malformed");
  }

  @Test
  void refusesJsonThatIsNotAnObject() {
    assertRefused(WireFormat.JSON, "[1,2,3]".getBytes(StandardCharsets.UTF_8), "malformed");
    assertRefused(WireFormat.JSON, "null".getBytes(StandardCharsets.UTF_8), "malformed");
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void anAnswerForAFullKeyFitsAFrameWhateverItsContactsHosts(WireFormat format) {
    KadConfig config = KadConfig.defaults();
    WireCodec codec =
        new WireCodec(format, config.idBits(), config.maxValueBytes(), config.maxFrameBytes());
    // Values from distinct publishers filling the key's budget to within a small value, as a
    // node may hold them, largest first.
    List<Value> values = new ArrayList<>();
    long held = 0;
    for (int size = config.maxValueBytes(); size > 0; size /= 2) {
      while (true) {
        Value v =
            Value.of(
                new byte[size],
                Messages.id(100 + values.size()),
                0,
                Long.MAX_VALUE,
                Instant.ofEpochSecond(1_700_000_000L));
        if (held + config.valueWireBytes(v) > config.keyWireBudget()) {
          break;
        }
        held += config.valueWireBytes(v);
        values.add(v);
      }
    }
    List<Contact> closest = new ArrayList<>();
    for (int i = 0; i < config.k(); i++) {
      String host = ("n" + i + ".").repeat(100).substring(0, Address.MAX_HOST_LENGTH);
      closest.add(Messages.contact(200 + i, new Address(host, 65_535)));
    }

    List<Contact> fitting = config.contactsThatFit(closest, values);
    ByteBuf frame =
        codec.encode(ALLOC, Long.MAX_VALUE, new Response.ValuesFound(SENDER, values, fitting));
    try {
      assertThat(frame.readableBytes() - WireCodec.LENGTH_BYTES)
          .isLessThanOrEqualTo(config.maxFrameBytes());
    } finally {
      frame.release();
    }
    // Room for some, not for all: listing them all would not fit.
    assertThat(fitting).isNotEmpty().isEqualTo(closest.subList(0, fitting.size()));
    if (format == WireFormat.JSON) {
      assertThatThrownBy(
              () ->
                  codec
                      .encode(ALLOC, 1, new Response.ValuesFound(SENDER, values, closest))
                      .release())
          .hasMessageContaining("maxFrameBytes");
    }
  }

  @Test
  void refusesToEncodeAFrameOverTheLimit() {
    WireCodec small = new WireCodec(WireFormat.JSON, 160, 1024, 1024);
    Message store =
        new Request.Store(
            SENDER, Key.of("k"), List.of(Messages.value(1000), Messages.value(1000)), false);
    assertThatThrownBy(() -> small.encode(ALLOC, 1, store))
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining("maxFrameBytes 1024");
  }

  @Test
  void prefaceNamesVersionAndFormatAndCarriesTheNonces() {
    byte[] nonce = new byte[Preface.NONCE_BYTES];
    byte[] echo = new byte[Preface.NONCE_BYTES];
    Arrays.fill(nonce, (byte) 7);
    Arrays.fill(echo, (byte) 9);
    ByteBuf buf = Preface.encode(ALLOC, WireFormat.CBOR, Preface.ECHO, nonce, echo);
    try {
      byte[] b = new byte[Preface.LENGTH];
      buf.readBytes(b);
      assertThat(buf.isReadable()).isFalse();
      assertThat(Arrays.copyOf(b, 6)).containsExactly('K', 'A', 'D', 2, 1, Preface.ECHO);
      assertThat(Preface.check(b, WireFormat.CBOR, 160)).isEmpty();
      Preface.Received received = Preface.parse(b);
      assertThat(received.has(Preface.ECHO)).isTrue();
      assertThat(received.has(Preface.CONFIRMED)).isFalse();
      assertThat(received.nonce()).isEqualTo(nonce);
      assertThat(received.echo()).isEqualTo(echo);
      assertThat(Preface.check(b, WireFormat.JSON, 160).map(Preface.Problem::detail))
          .hasValueSatisfying(m -> assertThat(m).contains("format CBOR").contains("v2 with JSON"));
      assertThat(
              Preface.check(new byte[] {'K', 'A', 'D', 9, 0}, WireFormat.JSON, 160)
                  .map(Preface.Problem::detail))
          .hasValueSatisfying(m -> assertThat(m).contains("v9"));
      assertThat(
              Preface.check("GET /".getBytes(StandardCharsets.US_ASCII), WireFormat.JSON, 160)
                  .map(Preface.Problem::detail))
          .hasValueSatisfying(m -> assertThat(m).contains("not a kad peer"));
    } finally {
      buf.release();
    }
  }

  @Test
  void prefaceFlagsNameTheIdWidthAndAPrefaceWithoutThemFitsEither() {
    for (int bits : new int[] {160, 256}) {
      ByteBuf buf = Preface.encode(ALLOC, WireFormat.JSON, Preface.widthFlag(bits), null, null);
      try {
        byte[] b = new byte[Preface.LENGTH];
        buf.readBytes(b);
        int other = bits == 160 ? 256 : 160;
        assertThat(Preface.check(b, WireFormat.JSON, bits)).isEmpty();
        assertThat(Preface.check(b, WireFormat.JSON, other))
            .hasValue(
                new Preface.Problem(
                    true, "uses " + bits + "-bit ids but this node " + other + "-bit"));
        // an earlier release sets no width flag: taken as fitting, as it always was
        b[5] = 0;
        assertThat(Preface.check(b, WireFormat.JSON, bits)).isEmpty();
        b[5] = Preface.IDS_160 | Preface.IDS_256;
        assertThat(Preface.check(b, WireFormat.JSON, bits).map(Preface.Problem::detail))
            .hasValue("peer claims both 160-bit and 256-bit ids");
      } finally {
        buf.release();
      }
    }
    assertThat(
            new Preface.Problem(true, "uses 256-bit ids but this node 160-bit")
                .of(new java.net.InetSocketAddress("192.0.2.7", 7000)))
        .isEqualTo("peer at 192.0.2.7:7000 uses 256-bit ids but this node 160-bit");
  }

  @Test
  void aTlsClientHelloAndAPrefaceThatRequiresTlsAreAnsweredNamingTls() {
    // the first bytes of a TLS 1.2/1.3 ClientHello record: handshake, version 3.1
    byte[] hello = new byte[Preface.LENGTH];
    hello[0] = 0x16;
    hello[1] = 0x03;
    hello[2] = 0x01;
    assertThat(Preface.check(hello, WireFormat.JSON, 160))
        .hasValue(new Preface.Problem(true, "speaks TLS, which this node has off"));

    ByteBuf buf =
        Preface.encode(
            ALLOC, WireFormat.JSON, Preface.widthFlag(160) | Preface.TLS_REQUIRED, null, null);
    try {
      byte[] b = new byte[Preface.LENGTH];
      buf.readBytes(b);
      assertThat(Preface.check(b, WireFormat.JSON, 160))
          .hasValue(new Preface.Problem(true, "requires TLS, which this node has off"));
      // what a dialer needs to act on comes first, before the format it would see next
      assertThat(Preface.check(b, WireFormat.CBOR, 256))
          .hasValue(new Preface.Problem(true, "requires TLS, which this node has off"));
    } finally {
      buf.release();
    }
  }
}
