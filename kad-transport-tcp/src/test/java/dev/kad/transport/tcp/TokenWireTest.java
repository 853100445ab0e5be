package dev.kad.transport.tcp;

import static dev.kad.transport.tcp.WireBodies.decoded;
import static dev.kad.transport.tcp.WireBodies.edited;
import static dev.kad.transport.tcp.WireBodies.msg;
import static dev.kad.transport.tcp.WireBodies.tree;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.Key;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A live-stream subscription's {@code token} on the wire ({@code subscribe}, {@code unsubscribe},
 * {@code notify}, {@code subscribed}): optional, written only when not 0 and only to a peer whose
 * preface sets {@link Preface#READS_TOKEN} (an earlier version refuses unknown fields and closes
 * the connection), read as 0 when absent.
 */
class TokenWireTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final Contact SENDER = Messages.contact(1, new Address("127.0.0.1", 7000));
  private static final Key KEY = Messages.id(3).asKey();

  private final List<TcpTransport> transports = new ArrayList<>();
  private final List<AutoCloseable> sockets = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable s : sockets) {
      s.close();
    }
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
  }

  private static List<Message> tokened(long token) {
    return List.of(
        new Request.Subscribe(SENDER, KEY, Duration.ofSeconds(30), false, token),
        new Request.Subscribe(SENDER, KEY, Duration.ofSeconds(30), true, token),
        new Request.Unsubscribe(SENDER, KEY, false, token),
        new Request.Notify(SENDER, KEY, List.of(Messages.value(3)), false, token),
        new Response.Subscribed(SENDER, Duration.ofSeconds(30), false, token),
        new Response.Subscribed(SENDER, Duration.ofSeconds(30), true, token));
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void everyTokenSurvivesTheRoundTrip(WireFormat format) throws IOException {
    for (long token : new long[] {1, -1, 42, Long.MIN_VALUE, Long.MAX_VALUE, 0}) {
      for (Message m : tokened(token)) {
        assertThat(decoded(format, edited(format, m, t -> {}))).isEqualTo(m);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void writesTheFieldOnlyForATokenAndReadsItsAbsenceAsNone(WireFormat format) throws IOException {
    for (Message m : tokened(0)) {
      assertThat(tree(format, m).get("msg").has("token")).as(m.toString()).isFalse();
    }
    for (Message m : tokened(-7)) {
      assertThat(tree(format, m).get("msg").get("token").asLong()).isEqualTo(-7);
      assertThat(decoded(format, edited(format, m, t -> msg(t).remove("token"))))
          .isEqualTo(withoutToken(m));
    }
  }

  private static Message withoutToken(Message m) {
    if (m instanceof Request.Subscribe r) {
      return r.withToken(0);
    } else if (m instanceof Request.Unsubscribe r) {
      return r.withToken(0);
    } else if (m instanceof Request.Notify r) {
      return r.withToken(0);
    } else if (m instanceof Response.Subscribed r) {
      return new Response.Subscribed(r.sender(), r.ttl(), r.renewed());
    }
    return m;
  }

  @ParameterizedTest
  @EnumSource(WireFormat.class)
  void refusesAMalformedTokenOrOneOnAnotherType(WireFormat format) throws IOException {
    Message notify = tokened(5).get(3);
    byte[] text = edited(format, notify, t -> msg(t).put("token", "five"));
    byte[] fraction = edited(format, notify, t -> msg(t).put("token", 1.5));
    byte[] onPong = edited(format, new Response.Pong(SENDER), t -> msg(t).put("token", 5));
    byte[] onStore =
        edited(
            format, new Request.Store(SENDER, KEY, List.of(), false), t -> msg(t).put("token", 5));
    assertRefused(() -> decoded(format, text), "token");
    assertRefused(() -> decoded(format, fraction), "token");
    assertRefused(() -> decoded(format, onPong), "pong has an unknown or repeated field 'token'");
    assertRefused(() -> decoded(format, onStore), "store has an unknown or repeated field 'token'");
  }

  private static void assertRefused(Runnable decode, String messagePart) {
    assertThatThrownBy(decode::run)
        .isInstanceOf(InvalidMessageException.class)
        .hasMessageContaining(messagePart);
  }

  @Test
  void prefacesSayTheyReadTheToken() {
    assertThat(Preface.READS & Preface.READS_TOKEN).isEqualTo(Preface.READS_TOKEN);
    assertThat(Preface.READS_TOKEN)
        .as("a flag of its own")
        .isNotIn(
            Preface.ECHO,
            Preface.CONFIRMED,
            Preface.READS_RENEWED,
            Preface.IDS_160,
            Preface.IDS_256,
            Preface.TLS_REQUIRED);
  }

  /** Answers every Subscribe as a renewal holding token 99. */
  private TcpTransport tokenHoldingServer() {
    EchoHandler echo = new EchoHandler(1);
    TcpTransport t = TcpTransport.create(TcpTransportOptions.builder().build());
    transports.add(t);
    t.start(
            request ->
                Mono.just(
                    request instanceof Request.Subscribe r
                        ? new Response.Subscribed(echo.self, r.ttl(), true, 99)
                        : echo.answer(request)))
        .block(BOUND);
    return t;
  }

  private static byte[] preface(int flags) {
    byte[] preface = new byte[Preface.LENGTH];
    preface[0] = 'K';
    preface[1] = 'A';
    preface[2] = 'D';
    preface[3] = (byte) Preface.VERSION;
    preface[4] = (byte) WireFormat.JSON.code();
    preface[5] = (byte) flags;
    return preface;
  }

  private static void writeFrame(OutputStream out, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    out.write(ByteBuffer.allocate(4 + bytes.length).putInt(bytes.length).put(bytes).array());
    out.flush();
  }

  private static String readFrame(InputStream in) throws IOException {
    int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
    return new String(in.readNBytes(length), StandardCharsets.UTF_8);
  }

  @Test
  void aSubscribedIsAnsweredWithTheTokenOnlyToAPeerWhosePrefaceSaysItReadsIt() throws IOException {
    TcpTransport server = tokenHoldingServer();
    for (int flags : new int[] {0, Preface.READS_RENEWED, Preface.READS}) {
      Socket s = new Socket();
      sockets.add(s);
      s.setSoTimeout((int) BOUND.toMillis());
      s.connect(
          new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
      String id = Base64.getEncoder().encodeToString(new byte[20]);
      OutputStream out = s.getOutputStream();
      out.write(preface(flags));
      writeFrame(
          out,
          "{\"rid\":5,\"msg\":{\"type\":\"subscribe\",\"sender\":{\"id\":\""
              + id
              + "\",\"host\":\"127.0.0.1\",\"port\":9},\"key\":\""
              + id
              + "\",\"ttlMillis\":30000}}");
      InputStream in = s.getInputStream();
      byte[] answered = in.readNBytes(Preface.LENGTH);
      assertThat(answered[5] & Preface.READS_TOKEN)
          .as("the server says it reads the field")
          .isEqualTo(Preface.READS_TOKEN);
      String answer = readFrame(in);
      assertThat(answer).startsWith("{\"rid\":5,\"msg\":{\"type\":\"subscribed\"");
      if ((flags & Preface.READS_TOKEN) == 0) {
        assertThat(answer).as("an earlier version refuses unknown fields").doesNotContain("token");
      } else {
        assertThat(answer).contains("\"token\":99");
      }
      assertThat(answer.contains("renewed")).isEqualTo((flags & Preface.READS_RENEWED) != 0);
    }
    assertThat(server.stats().violations()).isZero();
  }

  /**
   * A request with a token to a peer this node dials: it waits for the acceptor's preface (the
   * first request of a dialed connection may otherwise leave before it), then carries the token
   * only when that preface sets the flag. Written to an earlier version, the field would close the
   * connection.
   */
  @Test
  void aTokenedRequestWaitsForTheDialedPeersPrefaceAndCarriesTheTokenOnlyWhenItReadsIt()
      throws Exception {
    TcpTransport client = TcpTransport.create(TcpTransportOptions.builder().build());
    transports.add(client);
    client.start(new EchoHandler(5)).block(BOUND);
    Contact me = Messages.contact(5, client.localAddress());
    List<Request> requests =
        List.of(
            new Request.Notify(me, KEY, List.of(Messages.value(3)), false, 77),
            new Request.Subscribe(me, KEY, Duration.ofSeconds(30), false, 77),
            new Request.Unsubscribe(me, KEY, false, 77));
    for (int flags : new int[] {Preface.READS_RENEWED, Preface.READS}) {
      for (Request request : requests) {
        JsonNode received = receivedByRawPeer(client, request, flags);
        assertThat(received.get("type").asText()).isEqualTo(Wire.Type.of(request).wireName);
        if ((flags & Preface.READS_TOKEN) == 0) {
          assertThat(received.has("token")).as(request + " to an earlier version").isFalse();
        } else {
          assertThat(received.get("token").asLong()).isEqualTo(77);
        }
      }
    }
    assertThat(client.stats().violations()).isZero();
  }

  /**
   * Sends {@code request} from {@code client} to a raw peer that answers the dial's preface with
   * {@code flags} only after checking that nothing else came first, and returns the request's
   * {@code msg} as the peer read it.
   */
  private JsonNode receivedByRawPeer(TcpTransport client, Request request, int flags)
      throws Exception {
    ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    sockets.add(listener);
    CompletableFuture<Response> answer =
        client.send(new Address("127.0.0.1", listener.getLocalPort()), request).toFuture();
    listener.setSoTimeout((int) BOUND.toMillis());
    Socket s = listener.accept();
    sockets.add(s);
    InputStream in = s.getInputStream();
    s.setSoTimeout((int) BOUND.toMillis());
    assertThat(in.readNBytes(Preface.LENGTH)).hasSize(Preface.LENGTH);
    // The request waits for this side's preface: nothing more arrives before it.
    s.setSoTimeout(300);
    assertThatThrownBy(in::read).isInstanceOf(SocketTimeoutException.class);
    s.setSoTimeout((int) BOUND.toMillis());
    OutputStream out = s.getOutputStream();
    out.write(preface(flags | Preface.IDS_160));
    out.flush();
    String body = readFrame(in);
    JsonNode frame = new ObjectMapper().readTree(body);
    String id = Base64.getEncoder().encodeToString(Messages.id(9).toBytes());
    writeFrame(
        out,
        "{\"rid\":"
            + frame.get("rid").asLong()
            + ",\"msg\":{\"type\":\"pong\",\"sender\":{\"id\":\""
            + id
            + "\",\"host\":\"127.0.0.1\",\"port\":"
            + listener.getLocalPort()
            + "}}}");
    assertThat(answer.get(BOUND.toMillis(), TimeUnit.MILLISECONDS))
        .isInstanceOf(Response.Pong.class);
    return frame.get("msg");
  }

  /** Both sides of this version: the token arrives, on a fresh connection too. */
  @Test
  void theTokenReachesAPeerOfThisVersion() {
    TcpTransport server = tokenHoldingServer();
    TcpTransport client = TcpTransport.create(TcpTransportOptions.builder().build());
    transports.add(client);
    List<Request> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    client.start(new EchoHandler(5)).block(BOUND);
    TcpTransport recordingServer = TcpTransport.create(TcpTransportOptions.builder().build());
    transports.add(recordingServer);
    EchoHandler echo = new EchoHandler(1);
    recordingServer
        .start(
            request -> {
              received.add(request);
              return Mono.just(echo.answer(request));
            })
        .block(BOUND);
    Contact me = Messages.contact(5, client.localAddress());
    Request.Notify notify = new Request.Notify(me, KEY, List.of(Messages.value(3)), false, -3);
    assertThat(client.send(recordingServer.localAddress(), notify).block(BOUND))
        .isInstanceOf(Response.Pong.class);
    assertThat(received).containsExactly(notify);
    Response subscribed =
        client
            .send(
                server.localAddress(),
                new Request.Subscribe(me, KEY, Duration.ofSeconds(30), false, 99))
            .block(BOUND);
    assertThat(subscribed)
        .isEqualTo(new Response.Subscribed(echo.self, Duration.ofSeconds(30), true, 99));
  }
}
