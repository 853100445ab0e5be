package dev.kad.transport.tcp;

import static dev.kad.transport.tcp.WireBodies.codec;
import static dev.kad.transport.tcp.WireBodies.decoded;
import static dev.kad.transport.tcp.WireBodies.edited;
import static dev.kad.transport.tcp.WireBodies.msg;
import static dev.kad.transport.tcp.WireBodies.tree;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@code subscribed} answer's {@code renewed} field: optional, written only when true and only to
 * a peer whose preface says it reads it, read as false when absent (a watcher then reads the
 * current values, the safe side with a node that predates the field).
 */
class SubscribedWireTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);
  private static final Contact SENDER = Messages.contact(1, new Address("127.0.0.1", 7000));

  private final List<TcpTransport> transports = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
  }

  /** The body of {@code message}, its {@code msg} object changed by {@code edit}. */
  private static byte[] editedMsg(WireFormat format, Message message, Consumer<ObjectNode> edit)
      throws IOException {
    return edited(format, message, t -> edit.accept(msg(t)));
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void aRenewalAndANewSubscriptionSurviveTheRoundTrip(WireFormat format) throws IOException {
    for (boolean renewed : new boolean[] {false, true}) {
      Response.Subscribed s = new Response.Subscribed(SENDER, Duration.ofSeconds(90), renewed);
      assertThat(decoded(format, editedMsg(format, s, m -> {}))).isEqualTo(s);
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void writesTheFieldOnlyWhenTheSubscriptionWasRenewed(WireFormat format) throws IOException {
    ObjectNode fresh = tree(format, new Response.Subscribed(SENDER, Duration.ofSeconds(90)));
    assertThat(fresh.get("msg").has("renewed")).isFalse();
    ObjectNode renewal =
        tree(format, new Response.Subscribed(SENDER, Duration.ofSeconds(90), true));
    assertThat(renewal.get("msg").get("renewed").asBoolean()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void readsAnAnswerWithoutTheFieldAsANewSubscription(WireFormat format) throws IOException {
    Response.Subscribed renewal = new Response.Subscribed(SENDER, Duration.ofSeconds(90), true);
    assertThat(decoded(format, editedMsg(format, renewal, m -> m.remove("renewed"))))
        .isEqualTo(new Response.Subscribed(SENDER, Duration.ofSeconds(90), false));
    assertThat(decoded(format, editedMsg(format, renewal, m -> m.put("renewed", false))))
        .isEqualTo(new Response.Subscribed(SENDER, Duration.ofSeconds(90), false));
  }

  @Test
  void readsASubscribedAsANodeThatPredatesTheFieldWroteIt() {
    // Byte for byte what the codec wrote before the field existed.
    String old =
        "{\"rid\":9,\"msg\":{\"type\":\"subscribed\",\"sender\":"
            + "{\"id\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"host\":\"10.0.0.1\",\"port\":7000},"
            + "\"ttlMillis\":60000}}";
    Message m = decoded(WireFormat.JSON, old.getBytes(StandardCharsets.UTF_8));
    assertThat(m).isInstanceOf(Response.Subscribed.class);
    assertThat(((Response.Subscribed) m).renewed()).isFalse();
    assertThat(((Response.Subscribed) m).ttl()).isEqualTo(Duration.ofMinutes(1));
    // And a new subscription's answer is still exactly those bytes.
    ByteBuf frame = codec(WireFormat.JSON).encode(ALLOC, 9, m);
    try {
      frame.skipBytes(WireCodec.LENGTH_BYTES);
      assertThat(frame.toString(StandardCharsets.UTF_8)).isEqualTo(old);
    } finally {
      frame.release();
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAMalformedFieldOrOneOnAnotherType(WireFormat format) throws IOException {
    Response.Subscribed renewal = new Response.Subscribed(SENDER, Duration.ofSeconds(90), true);
    assertRefused(
        decodedLater(format, editedMsg(format, renewal, m -> m.put("renewed", 1))),
        "renewed must be true or false but was an integer");
    assertRefused(
        decodedLater(
            format, editedMsg(format, new Response.Pong(SENDER), m -> m.put("renewed", true))),
        "pong has an unknown or repeated field 'renewed'");
    assertRefused(
        decodedLater(
            format,
            editedMsg(
                format,
                new Request.Subscribe(SENDER, Messages.id(3).asKey(), Duration.ofSeconds(9)),
                m -> m.put("renewed", true))),
        "subscribe has an unknown or repeated field 'renewed'");
  }

  private static Runnable decodedLater(WireFormat format, byte[] body) {
    return () -> decoded(format, body);
  }

  private static void assertRefused(Runnable decode, String messagePart) {
    assertThatThrownBy(decode::run)
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining(messagePart);
  }

  /** Answers every Subscribe as a renewal. */
  private TcpTransport renewingServer() {
    EchoHandler echo = new EchoHandler(1);
    TcpTransport t = TcpTransport.create(TcpTransportOptions.builder().build());
    transports.add(t);
    t.start(
            request ->
                Mono.just(
                    request instanceof Request.Subscribe r
                        ? new Response.Subscribed(echo.self, r.ttl(), true)
                        : echo.answer(request)))
        .block(BOUND);
    return t;
  }

  @Test
  void aRenewalReachesAPeerThatReadsTheField() {
    TcpTransport server = renewingServer();
    TcpTransport client = TcpTransport.create(TcpTransportOptions.builder().build());
    transports.add(client);
    client.start(new EchoHandler(5)).block(BOUND);
    Response answer =
        client
            .send(
                server.localAddress(),
                new Request.Subscribe(
                    Messages.contact(5, client.localAddress()),
                    Messages.id(3).asKey(),
                    Duration.ofSeconds(30)))
            .block(BOUND);
    assertThat(answer)
        .isEqualTo(new Response.Subscribed(new EchoHandler(1).self, Duration.ofSeconds(30), true));
  }

  @Test
  void aPeerWhosePrefaceDoesNotSayItReadsTheFieldIsAnsweredWithoutIt() throws IOException {
    TcpTransport server = renewingServer();
    for (int flags : new int[] {0, Preface.READS_RENEWED}) {
      Socket s = new Socket();
      sockets.add(s);
      s.setSoTimeout((int) BOUND.toMillis());
      s.connect(
          new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
      byte[] preface = new byte[Preface.LENGTH];
      preface[0] = 'K';
      preface[1] = 'A';
      preface[2] = 'D';
      preface[3] = (byte) Preface.VERSION;
      preface[4] = (byte) WireFormat.JSON.code();
      preface[5] = (byte) flags;
      String id = Base64.getEncoder().encodeToString(new byte[20]);
      byte[] body =
          ("{\"rid\":5,\"msg\":{\"type\":\"subscribe\",\"sender\":{\"id\":\""
                  + id
                  + "\",\"host\":\"127.0.0.1\",\"port\":9},\"key\":\""
                  + id
                  + "\",\"ttlMillis\":30000}}")
              .getBytes(StandardCharsets.UTF_8);
      OutputStream out = s.getOutputStream();
      out.write(preface);
      out.write(ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array());
      out.flush();
      InputStream in = s.getInputStream();
      byte[] answered = in.readNBytes(Preface.LENGTH);
      assertThat(answered[5] & Preface.READS_RENEWED)
          .as("the server says it reads the field")
          .isEqualTo(Preface.READS_RENEWED);
      int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
      String answer = new String(in.readNBytes(length), StandardCharsets.UTF_8);
      assertThat(answer).startsWith("{\"rid\":5,\"msg\":{\"type\":\"subscribed\"");
      if (flags == 0) {
        assertThat(answer)
            .as("an earlier version refuses unknown fields")
            .doesNotContain("renewed");
      } else {
        assertThat(answer).contains("\"renewed\":true");
      }
    }
    assertThat(server.stats().violations()).isZero();
  }
}
