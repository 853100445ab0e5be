package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * Every kind of bad input closes that one connection, is counted, and leaves the node serving
 * others. Hostile peers are plain blocking sockets.
 */
class TcpTransportHostilePeerTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final byte[] PREFACE = preface(2, 0);
  private static final Consumer<TcpTransportOptions.Builder> DEFAULT_OPTIONS = b -> {};

  private final Opened opened = new Opened(BOUND);

  @AfterEach
  void closeAll() throws IOException {
    opened.close();
  }

  private TcpTransport started(RequestHandler handler, Consumer<TcpTransportOptions.Builder> opts) {
    return opened.started(handler, opts);
  }

  private TcpTransport server() {
    return started(new EchoHandler(1), b -> {});
  }

  private Socket connect(TcpTransport server, Consumer<Socket> beforeConnect) throws IOException {
    Socket s = new Socket();
    opened.socket(s);
    beforeConnect.accept(s);
    s.setSoTimeout((int) BOUND.toMillis());
    s.connect(
        new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
    return s;
  }

  private Socket connect(TcpTransport server) throws IOException {
    return connect(server, s -> {});
  }

  /** Reads until the server closes the connection; fails after the bound. */
  private static void assertClosedByServer(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    byte[] buf = new byte[64 * 1024];
    try {
      while (in.read(buf) != -1) {
        // drain: the server's preface, maybe more
      }
    } catch (SocketException reset) {
      // a reset is a close too
    }
  }

  /** A dialer's preface of that version and format code, without a nonce to check. */
  private static byte[] preface(int version, int format) {
    byte[] b = new byte[38];
    b[0] = 'K';
    b[1] = 'A';
    b[2] = 'D';
    b[3] = (byte) version;
    b[4] = (byte) format;
    return b;
  }

  private static byte[] frame(byte[] body) {
    return ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array();
  }

  private static byte[] json(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  private static String sender(int idBytes) {
    return "{\"id\":\"" + b64(new byte[idBytes]) + "\",\"host\":\"127.0.0.1\",\"port\":9}";
  }

  /** A well-behaved node still gets answers from {@code server}. */
  private void assertStillServes(TcpTransport server) {
    TcpTransport good = started(new EchoHandler(5), b -> {});
    StepVerifier.create(
            good.send(
                server.localAddress(), new Request.Ping(Messages.contact(5, good.localAddress()))))
        .expectNextMatches(r -> !(r instanceof Response.Failure))
        .expectComplete()
        .verify(BOUND);
  }

  private void assertCounted(
      TcpTransport server, String what, ToLongFunction<TcpTransportStats> counter) {
    Await.until(what + " to be counted", () -> counter.applyAsLong(server.stats()) == 1);
    assertThat(server.stats().violations()).isEqualTo(1);
  }

  private void sendAndExpectClose(TcpTransport server, byte[]... chunks) throws IOException {
    Socket s = connect(server);
    OutputStream out = s.getOutputStream();
    for (byte[] c : chunks) {
      out.write(c);
    }
    out.flush();
    assertClosedByServer(s);
  }

  /**
   * One kind of bad input: how the server is configured, what a raw peer sends on a fresh
   * connection (maybe nothing), and the counter that must count it.
   */
  private record HostileInput(
      String behaviour,
      Consumer<TcpTransportOptions.Builder> options,
      String what,
      ToLongFunction<TcpTransportStats> counter,
      byte[]... sent) {

    @Override
    public String toString() {
      return behaviour;
    }
  }

  static Stream<HostileInput> hostileInputs() {
    return Stream.of(
        new HostileInput(
            "garbage bytes close the connection",
            DEFAULT_OPTIONS,
            "the bad preface",
            TcpTransportStats::badPrefaces,
            json("GET / HTTP/1.1\r\nHost: x\r\n\r\n")),
        new HostileInput(
            "a preface of another version closes the connection",
            DEFAULT_OPTIONS,
            "the bad preface",
            TcpTransportStats::badPrefaces,
            preface(1, 0)),
        new HostileInput(
            "a preface of another format closes the connection",
            DEFAULT_OPTIONS,
            "the bad preface",
            TcpTransportStats::badPrefaces,
            preface(2, 2)),
        new HostileInput(
            "a peer that sends no preface is disconnected",
            // Long enough that the well-behaved peer checked next, dialing on a stalled machine,
            // gets its preface in before the server gives up on it too.
            b -> b.connectTimeout(Duration.ofSeconds(1)),
            "the missing preface",
            TcpTransportStats::badPrefaces),
        new HostileInput(
            "a two gibibyte length prefix closes the connection",
            DEFAULT_OPTIONS,
            "the oversized frame",
            TcpTransportStats::oversizedFrames,
            PREFACE,
            new byte[] {(byte) 0x80, 0, 0, 0, '{'}),
        new HostileInput(
            "a frame just over the limit closes the connection",
            DEFAULT_OPTIONS,
            "the oversized frame",
            TcpTransportStats::oversizedFrames,
            PREFACE,
            ByteBuffer.allocate(4).putInt(64 * 1024 + 1).array()),
        new HostileInput(
            "valid JSON of an unknown type closes the connection",
            DEFAULT_OPTIONS,
            "the malformed message",
            TcpTransportStats::malformedMessages,
            PREFACE,
            frame(
                json("{\"rid\":1,\"msg\":{\"type\":\"teleport\",\"sender\":" + sender(20) + "}}"))),
        new HostileInput(
            "an id of the wrong length closes the connection",
            DEFAULT_OPTIONS,
            "the malformed message",
            TcpTransportStats::malformedMessages,
            PREFACE,
            frame(json("{\"rid\":1,\"msg\":{\"type\":\"ping\",\"sender\":" + sender(32) + "}}"))),
        new HostileInput(
            "a value over the limit closes the connection",
            b -> b.maxValueBytes(1000),
            "the malformed message",
            TcpTransportStats::malformedMessages,
            PREFACE,
            frame(json(storeOfOneValue(1001)))),
        new HostileInput(
            "a response to a request never sent closes the connection",
            DEFAULT_OPTIONS,
            "the unknown response",
            TcpTransportStats::unknownResponses,
            PREFACE,
            frame(json("{\"rid\":77,\"msg\":{\"type\":\"pong\",\"sender\":" + sender(20) + "}}"))));
  }

  /** A store request carrying one value of {@code dataBytes} bytes. */
  private static String storeOfOneValue(int dataBytes) {
    String value =
        "{\"data\":\""
            + b64(new byte[dataBytes])
            + "\",\"publisher\":\""
            + b64(new byte[20])
            + "\",\"valueId\":1,\"seq\":1,\"expiresSec\":0,\"expiresNano\":0,"
            + "\"publicKey\":\"\",\"signature\":\"\"}";
    return "{\"rid\":1,\"msg\":{\"type\":\"store\",\"sender\":"
        + sender(20)
        + ",\"key\":\""
        + b64(new byte[20])
        + "\",\"values\":["
        + value
        + "],\"cached\":false}}";
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("hostileInputs")
  void hostileInputClosesThatConnectionIsCountedAndTheServerKeepsServing(HostileInput input)
      throws IOException {
    TcpTransport server = started(new EchoHandler(1), input.options());
    sendAndExpectClose(server, input.sent());
    assertCounted(server, input.what(), input.counter());
    assertStillServes(server);
  }

  @Test
  void aTruncatedFrameIsCountedWhenThePeerCloses() throws IOException {
    TcpTransport server = server();
    Socket s = connect(server);
    s.getOutputStream().write(PREFACE);
    s.getOutputStream().write(ByteBuffer.allocate(14).putInt(100).put(json("{\"rid\":1,")).array());
    s.getOutputStream().flush();
    s.close();
    assertCounted(server, "the truncated frame", TcpTransportStats::truncatedFrames);
    assertStillServes(server);
  }

  @Test
  void aPeerTricklingAnUnfinishedFrameIsClosedAsIdle() throws IOException {
    TcpTransport server = started(new EchoHandler(1), b -> b.idleTimeout(Duration.ofMillis(300)));
    Socket s = connect(server);
    OutputStream out = s.getOutputStream();
    out.write(PREFACE);
    out.write(ByteBuffer.allocate(4).putInt(1000).array());
    out.flush();
    // One byte of the frame every 100 ms: traffic, but never a message. Bounded: 50 bytes, 5 s.
    boolean closed = false;
    for (int i = 0; i < 50 && !closed; i++) {
      try {
        Mono.delay(Duration.ofMillis(100)).block(BOUND);
        out.write('x');
        out.flush();
        closed = server.stats().idleClosed() == 1;
      } catch (SocketException closedByServer) {
        closed = true;
      }
    }
    assertThat(closed).as("closed while the peer still trickled").isTrue();
    Await.until("the idle close to be counted", () -> server.stats().idleClosed() == 1);
    Await.until("its connection to close", () -> server.stats().openConnections() == 0);
    assertThat(server.stats().violations()).isZero();
    assertStillServes(server);
  }

  @Test
  void aValidRequestFromARawPeerIsAnswered() throws IOException {
    TcpTransport server = server();
    // a preface without a width flag (a peer of an earlier release) is taken as 160-bit
    assertRawPingAnswered(connect(server), 20, Preface.IDS_160);
    assertThat(server.stats().violations()).isZero();
  }

  /**
   * Sends a Ping with a sender id of {@code idBytes} after a preface without a width flag, and
   * checks the answer: the accepting side's preface (no nonces, the flag that it reads {@code
   * renewed} and {@code widthFlag}), then a Pong.
   */
  private static void assertRawPingAnswered(Socket s, int idBytes, int widthFlag)
      throws IOException {
    s.getOutputStream()
        .write(
            frameAfterPreface(
                json(
                    "{\"rid\":5,\"msg\":{\"type\":\"ping\",\"sender\":" + sender(idBytes) + "}}")));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    byte[] answered = PREFACE.clone();
    answered[5] = (byte) (Preface.READS | widthFlag);
    assertThat(in.readNBytes(PREFACE.length)).containsExactly(answered);
    int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
    assertThat(new String(in.readNBytes(length), StandardCharsets.UTF_8))
        .startsWith("{\"rid\":5,\"msg\":{\"type\":\"pong\"");
  }

  @Test
  void aRequestThatCameInTheSameReadAsGarbageBehindItIsStillAnswered() throws IOException {
    TcpTransport server = server();
    Socket s = connect(server);
    // one write, so one read on loopback: a valid ping, then a frame of length 0
    s.getOutputStream()
        .write(
            concat(
                frameAfterPreface(
                    json("{\"rid\":5,\"msg\":{\"type\":\"ping\",\"sender\":" + sender(20) + "}}")),
                new byte[4]));
    s.getOutputStream().flush();
    InputStream in = s.getInputStream();
    assertThat(in.readNBytes(PREFACE.length)).startsWith('K', 'A', 'D');
    int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
    String body = new String(in.readNBytes(length), StandardCharsets.UTF_8);
    assertThat(body).startsWith("{\"rid\":5,\"msg\":{\"type\":\"pong\"");
    assertClosedByServer(s);
    assertCounted(server, "the empty frame", TcpTransportStats::malformedMessages);
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  private static byte[] frameAfterPreface(byte[] body) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(PREFACE);
    out.writeBytes(frame(body));
    return out.toByteArray();
  }

  @Test
  void aFloodOfIdleConnectionsOverTheBoundClosesTheQuietestAndLocksNobodyOut() throws IOException {
    TcpTransport server = started(new EchoHandler(1), b -> b.maxInboundConnections(8));
    TcpTransport good = started(new EchoHandler(5), b -> {});
    Request ping = new Request.Ping(Messages.contact(5, good.localAddress()));
    for (int i = 0; i < 20; i++) {
      connect(server).getOutputStream().write(PREFACE);
    }
    Await.until(
        "12 quiet connections closed", () -> server.stats().evictedInboundConnections() == 12);
    Await.until("8 connections open", () -> server.stats().openConnections() == 8);
    // a newcomer still gets in, and nobody was refused or counted as misbehaving
    StepVerifier.create(good.send(server.localAddress(), ping))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
    Await.until(
        "13 quiet connections closed", () -> server.stats().evictedInboundConnections() == 13);
    assertThat(server.stats().rejectedConnections()).isZero();
    assertThat(server.stats().violations()).isZero();
    // and once the flood ends, the slots come back
    opened.closeSockets();
    Await.until("the flood's connections to close", () -> server.stats().openConnections() == 1);
    assertStillServes(server);
  }

  @Test
  void connectionsFromOneIpOverItsBoundAreClosedAndItsSlotsComeBack() throws IOException {
    // every test peer is on 127.0.0.1, which is exempt unless local peers are limited too
    TcpTransport server =
        started(
            new EchoHandler(1), b -> b.maxInboundConnectionsPerIp(4).perIpLimitForLocalPeers(true));
    for (int i = 0; i < 10; i++) {
      connect(server).getOutputStream().write(PREFACE);
    }
    Await.until("6 connections refused", () -> server.stats().rejectedConnectionsPerIp() == 6);
    Await.until("4 connections open", () -> server.stats().openConnections() == 4);
    assertThat(server.stats().rejectedConnections()).isZero();
    assertThat(server.stats().violations()).isEqualTo(6);
    // closed connections give their slots back
    opened.closeSockets();
    Await.until("the flood's connections to close", () -> server.stats().openConnections() == 0);
    for (int i = 0; i < 4; i++) {
      connect(server).getOutputStream().write(PREFACE);
    }
    Await.until("4 new connections open", () -> server.stats().openConnections() == 4);
    assertThat(server.stats().rejectedConnectionsPerIp()).isEqualTo(6);
  }

  @Test
  void peersOnLoopbackAreNotBoundPerIpByDefault() throws IOException {
    // a cluster in one JVM: every peer connects from 127.0.0.1
    TcpTransport server = server();
    int peers = server.options().maxInboundConnectionsPerIp() + 8;
    for (int i = 0; i < peers; i++) {
      connect(server).getOutputStream().write(PREFACE);
    }
    Await.until(peers + " connections open", () -> server.stats().openConnections() == peers);
    assertThat(server.stats().violations()).isZero();
    assertStillServes(server);
  }

  /** A request for a key, from a raw peer, with its own request id. */
  private static byte[] findValue(int rid) {
    return frame(
        json(
            "{\"rid\":"
                + rid
                + ",\"msg\":{\"type\":\"findValue\",\"sender\":"
                + sender(20)
                + ",\"key\":\""
                + b64(new byte[20])
                + "\"}}"));
  }

  /** A raw peer that reads nothing, with a small receive window. */
  private Socket nonReader(TcpTransport server) throws IOException {
    Socket s =
        connect(
            server,
            sock -> {
              try {
                sock.setReceiveBufferSize(4096);
              } catch (SocketException e) {
                throw new IllegalStateException(e);
              }
            });
    s.getOutputStream().write(PREFACE);
    return s;
  }

  /**
   * Sends requests with ids after {@code from} one at a time, each answered before the next, while
   * {@code more} holds (at most 2,000); returns the last request id sent.
   */
  private static int requestWhile(
      Socket peer, AtomicInteger answered, int from, BooleanSupplier more) throws IOException {
    int rid = from;
    while (rid < from + 2000 && more.getAsBoolean()) {
      rid++;
      int expected = answered.get() + 1;
      peer.getOutputStream().write(findValue(rid));
      peer.getOutputStream().flush();
      Await.until("answer " + rid, () -> answered.get() >= expected);
    }
    return rid;
  }

  @Test
  void theLargestBacklogIsClosedWhenBacklogsTogetherPassTheTransportBound() throws IOException {
    Contact self = Messages.contact(1, new Address("127.0.0.1", 1));
    Response big = new Response.ValuesFound(self, List.of(Messages.value(16 * 1024)), List.of());
    AtomicInteger answered = new AtomicInteger();
    long total = 2 * 1024 * 1024;
    // Each connection may hold 16 MiB, all of them together 2 MiB.
    TcpTransport server =
        started(
            // counted once the answer is written (doFinally runs after the downstream's onNext)
            request -> Mono.<Response>just(big).doFinally(s -> answered.incrementAndGet()),
            b -> b.maxPendingWriteBytes(16 * 1024 * 1024).maxTotalPendingWriteBytes(total));
    // Two peers that never read park backlogs, together near the bound: the first over half of it.
    Socket largest = nonReader(server);
    requestWhile(largest, answered, 0, () -> server.stats().pendingWriteBytes() < total * 55 / 100);
    long largestBacklog = server.stats().pendingWriteBytes();
    Socket second = nonReader(server);
    requestWhile(second, answered, 0, () -> server.stats().pendingWriteBytes() < total * 85 / 100);
    long secondBacklog = server.stats().pendingWriteBytes() - largestBacklog;
    assertThat(secondBacklog).isPositive().isLessThan(largestBacklog);
    assertThat(server.stats().pendingWriteBytes()).isLessThanOrEqualTo(total);
    assertThat(server.stats().slowReadersClosed()).isZero();
    // A third peer, slower than its answers for now, takes the total over with a small backlog.
    Socket slow = nonReader(server);
    slow.setSoTimeout((int) BOUND.toMillis());
    int sent = requestWhile(slow, answered, 0, () -> server.stats().slowReadersClosed() == 0);
    assertThat(server.stats().slowReadersClosed()).isEqualTo(1);
    // The largest backlog is the one closed and released; the other two connections stay.
    assertClosedByServer(largest);
    Await.until("two connections open", () -> server.stats().openConnections() == 2);
    Await.until(
        "the largest backlog to be released",
        () -> server.stats().pendingWriteBytes() <= total - largestBacklog + 64 * 1024);
    assertThat(server.stats().violations()).isEqualTo(1);
    // The third peer reads now, and gets every answer on the connection it kept.
    InputStream in = slow.getInputStream();
    in.readNBytes(Preface.LENGTH);
    for (int i = 0; i < sent; i++) {
      int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
      assertThat(in.readNBytes(length)).hasSize(length);
    }
    assertThat(server.stats().slowReadersClosed()).isEqualTo(1);
    second.close();
    slow.close();
    Await.until("every connection to close", () -> server.stats().openConnections() == 0);
    Await.until("every backlog released", () -> server.stats().pendingWriteBytes() == 0);
    assertStillServes(server);
  }

  @Test
  void aPeerThatNeverReadsIsDisconnectedBeforeItsBacklogGrowsPastTheLimit() throws IOException {
    Contact self = Messages.contact(1, new Address("127.0.0.1", 1));
    Response big = new Response.ValuesFound(self, List.of(Messages.value(16 * 1024)), List.of());
    TcpTransport server =
        started(
            request -> Mono.just(big),
            b -> b.maxPendingWriteBytes(TcpTransportOptions.minPendingWriteBytes(64 * 1024)));
    Socket s =
        connect(
            server,
            sock -> {
              try {
                sock.setReceiveBufferSize(4096);
              } catch (SocketException e) {
                throw new IllegalStateException(e);
              }
            });
    byte[] request =
        frame(
            json(
                "{\"rid\":1,\"msg\":{\"type\":\"findValue\",\"sender\":"
                    + sender(20)
                    + ",\"key\":\""
                    + b64(new byte[20])
                    + "\"}}"));
    ByteArrayOutputStream burst = new ByteArrayOutputStream();
    burst.writeBytes(PREFACE);
    for (int i = 0; i < 4000; i++) {
      burst.writeBytes(request);
    }
    try {
      s.getOutputStream().write(burst.toByteArray());
      s.getOutputStream().flush();
    } catch (IOException closedWhileWriting) {
      // the server may disconnect us before the burst is written
    }
    Await.until(
        "the slow reader to be disconnected", () -> server.stats().slowReadersClosed() == 1);
    Await.until("its connection to close", () -> server.stats().openConnections() == 0);
    assertStillServes(server);
  }

  /** A raw listener standing in for a hostile node that other nodes dial. */
  private ServerSocket listener() throws IOException {
    ServerSocket l = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    opened.listener(l);
    return l;
  }

  private Socket accept(ServerSocket listener) throws IOException {
    listener.setSoTimeout((int) BOUND.toMillis());
    Socket s = listener.accept();
    opened.socket(s);
    s.setSoTimeout((int) BOUND.toMillis());
    return s;
  }

  @Test
  void aNonceSeenOnAConnectionDialedToTheImpostorDoesNotConfirmItsClaim() throws IOException {
    TcpTransport a = server();
    TcpTransport b = started(new EchoHandler(2), DEFAULT_OPTIONS);
    // b dials mallory, as nodes dial any peer they learn of; its preface shows mallory its nonce
    ServerSocket mallory = listener();
    Address malloryAddress = new Address("127.0.0.1", mallory.getLocalPort());
    Disposable unanswered =
        b.send(malloryAddress, new Request.Ping(Messages.contact(2, b.localAddress())))
            .subscribe(r -> {}, e -> {});
    try {
      Socket fromB = accept(mallory);
      byte[] seen = Arrays.copyOfRange(fromB.getInputStream().readNBytes(38), 6, 22);
      // answered as an acceptor would, so b keeps that connection open
      fromB.getOutputStream().write(PREFACE);
      fromB.getOutputStream().flush();
      // mallory, on b's IP, dials a with b's nonce and claims b's address
      byte[] preface = PREFACE.clone();
      System.arraycopy(seen, 0, preface, 6, 16);
      String claim =
          "{\"id\":\""
              + b64(new byte[20])
              + "\",\"host\":\"127.0.0.1\",\"port\":"
              + b.localAddress().port()
              + "}";
      Socket toA = connect(a);
      toA.getOutputStream().write(preface);
      toA.getOutputStream()
          .write(frame(json("{\"rid\":1,\"msg\":{\"type\":\"ping\",\"sender\":" + claim + "}}")));
      toA.getOutputStream().flush();
      // a's preface and its answer: the claim is made
      InputStream in = toA.getInputStream();
      in.readNBytes(PREFACE.length);
      in.readNBytes(ByteBuffer.wrap(in.readNBytes(4)).getInt());
      // a's requests for b reach b, the first (on the dial-back) and the later ones
      Request find = new Request.FindNode(Messages.contact(1, a.localAddress()), Messages.id(9));
      for (int i = 0; i < 3; i++) {
        StepVerifier.create(a.send(b.localAddress(), find))
            .expectNextMatches(r -> r.sender().equals(new EchoHandler(2).self))
            .expectComplete()
            .verify(BOUND);
      }
      assertThat(a.stats().claimsConfirmed()).isZero();
      assertThat(a.stats().claimsRefuted()).isEqualTo(1);
    } finally {
      unanswered.dispose();
    }
  }

  @Test
  void aPeerOfTheFirstProtocolVersionIsToldApartByItsVersionNotAsATruncation() throws IOException {
    TcpTransport client = server();
    ServerSocket v1 = listener();
    Mono<Response> ping =
        client.send(
            new Address("127.0.0.1", v1.getLocalPort()),
            new Request.Ping(Messages.contact(1, client.localAddress())));
    Disposable pending = ping.subscribe(r -> {}, e -> {});
    try {
      // a v1 node speaks its five-byte preface at once, reads the dialer's, and closes on v2
      Socket s = accept(v1);
      s.getOutputStream().write(new byte[] {'K', 'A', 'D', 1, 0});
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      in.readNBytes(38);
      in.readNBytes(ByteBuffer.wrap(in.readNBytes(4)).getInt());
      s.close();
      Await.until("the version mismatch to be counted", () -> client.stats().badPrefaces() == 1);
      assertThat(client.stats().truncatedFrames()).isZero();
    } finally {
      pending.dispose();
    }
  }

  @Test
  void keysOfTheWrongWidthFromAPeerThatDoesNotSayItsWidthAreRefused() throws IOException {
    TcpTransport server = server();
    // a 256-bit node of an earlier release: its preface carries no width flag
    sendAndExpectClose(
        server,
        frameAfterPreface(
            json(
                "{\"rid\":1,\"msg\":{\"type\":\"findValue\",\"sender\":"
                    + sender(32)
                    + ",\"key\":\""
                    + b64(new byte[32])
                    + "\"}}")));
    assertCounted(server, "the malformed message", TcpTransportStats::malformedMessages);
    assertStillServes(server);
  }

  @Test
  void aPeerOfAnotherIdWidthIsRefusedAtItsPrefaceAndToldThisNodesWidth() throws IOException {
    TcpTransport server = server();
    TcpTransport wide = started(new EchoHandler(5), b -> b.idBits(256));
    Contact sender = new Contact(dev.kad.api.NodeId.of(new byte[32]), wide.localAddress());
    StepVerifier.create(
            wide.send(server.localAddress(), new Request.FindValue(sender, Key.of("k", 256))))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(dev.kad.api.IncompatiblePeerException.class)
                    .hasMessage(
                        "peer at "
                            + server.localAddress()
                            + " uses 160-bit ids but this node 256-bit")
                    .matches(u -> !((dev.kad.api.KadException) u).isTransient()))
        .verify(BOUND);
    assertCounted(server, "the bad preface", TcpTransportStats::badPrefaces);
    assertStillServes(server);
  }

  @Test
  void anEarlierReleaseOfTheSameWidthThatSendsNoWidthFlagIsAnswered() throws IOException {
    TcpTransport wide = started(new EchoHandler(5), b -> b.idBits(256));
    assertRawPingAnswered(connect(wide), 32, Preface.IDS_256);
    assertThat(wide.stats().violations()).isZero();
  }

  @Test
  void aDialerOfAnotherFormatIsAnsweredWithThisNodesPrefaceBeforeTheClose() throws IOException {
    // a preface deadline longer than the wait below: the dialer's close is what closes it
    TcpTransport server =
        started(new EchoHandler(1), b -> b.connectTimeout(Duration.ofSeconds(60)));
    Socket s = connect(server);
    s.getOutputStream().write(preface(2, 1)); // CBOR
    s.getOutputStream().flush();
    byte[] answered = PREFACE.clone();
    answered[5] = Preface.READS | Preface.IDS_160;
    InputStream in = s.getInputStream();
    assertThat(in.readNBytes(PREFACE.length)).containsExactly(answered);
    assertThat(in.read()).as("closed after the preface").isEqualTo(-1);
    assertCounted(server, "the bad preface", TcpTransportStats::badPrefaces);
    // Only its output ended: a close with the dialer's bytes unread would reset the connection,
    // and the dialer's system could drop the preface. The dialer's close ends it.
    assertThat(server.stats().openConnections()).isEqualTo(1);
    s.close();
    Await.until("its connection to close", () -> server.stats().openConnections() == 0);
  }

  @Test
  void aDialedPeerThatAnswersWithSomethingElseFailsTheRequestAsAClosedConnectionSayingWhy()
      throws IOException {
    TcpTransport client = server();
    ServerSocket web = listener();

    Throwable failure =
        pingFailure(
            client,
            web,
            s -> {
              s.getOutputStream().write(json("HTTP/1.1 400 Bad Request\r\n\r\n"));
              s.getOutputStream().flush();
            });

    assertThat(failure)
        .isInstanceOf(dev.kad.api.UnreachableContactException.class)
        .isNotInstanceOf(dev.kad.api.IncompatiblePeerException.class)
        .hasMessage(
            "connection to 127.0.0.1:"
                + web.getLocalPort()
                + " closed: bad preface: not a kad peer: preface 48 54 54 50 2f"
                + " instead of 'KAD' v2 JSON")
        // not a kad node: maybe a proxy starting before its node
        .matches(u -> ((dev.kad.api.KadException) u).isTransient());
    assertCounted(client, "the bad preface", TcpTransportStats::badPrefaces);
  }

  @Test
  void aDialedPeerThatSaysNothingFailsTheRequestNamingTheConnectTimeout() throws IOException {
    TcpTransport client =
        started(new EchoHandler(1), b -> b.connectTimeout(Duration.ofMillis(300)));
    ServerSocket silent = listener();

    Throwable failure = pingFailure(client, silent, s -> {}); // accepts, and never writes a byte

    assertThat(failure)
        .isInstanceOf(dev.kad.api.UnreachableContactException.class)
        .hasMessage(
            "connection to 127.0.0.1:"
                + silent.getLocalPort()
                + " closed: bad preface: no preface within 300 ms (connectTimeout): the peer sent"
                + " nothing (a hung process, or not a kad node)");
  }

  @Test
  void aDialedPeerThatStopsHalfwayThroughItsPrefaceIsNamedAsSuch() throws IOException {
    TcpTransport client =
        started(new EchoHandler(1), b -> b.connectTimeout(Duration.ofMillis(300)));
    ServerSocket silent = listener();
    byte[] half = new byte[20];
    half[0] = 'K';
    half[1] = 'A';
    half[2] = 'D';
    half[3] = 2;

    Throwable failure =
        pingFailure(
            client,
            silent,
            s -> {
              s.getOutputStream().write(half);
              s.getOutputStream().flush();
            });

    assertThat(failure)
        .isInstanceOf(dev.kad.api.UnreachableContactException.class)
        .hasMessage(
            "connection to 127.0.0.1:"
                + silent.getLocalPort()
                + " closed: bad preface: no whole preface within 300 ms (connectTimeout): the"
                + " peer sent 20 of its 38 bytes and stopped (a hung process?)");
  }

  @Test
  void garbageIsNotAnsweredWithAPreface() throws IOException {
    TcpTransport server = server();
    Socket s = connect(server);
    s.getOutputStream().write(json("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    s.getOutputStream().flush();
    assertThat(s.getInputStream().read()).isEqualTo(-1);
    assertCounted(server, "the bad preface", TcpTransportStats::badPrefaces);
  }

  @Test
  void aDialerToldAnotherFormatByTheAcceptorSaysSoNotThatTheConnectionClosed() throws IOException {
    TcpTransport client = server();
    ServerSocket cbor = listener();

    Throwable failure =
        pingFailure(
            client,
            cbor,
            s -> {
              s.getInputStream().readNBytes(PREFACE.length);
              s.getOutputStream().write(preface(2, 1));
              s.getOutputStream().flush();
            });

    assertThat(failure)
        .isInstanceOf(dev.kad.api.IncompatiblePeerException.class)
        .hasMessage(
            "peer at 127.0.0.1:"
                + cbor.getLocalPort()
                + " speaks kad protocol v2 with format CBOR but this node speaks v2"
                + " with JSON")
        .matches(u -> !((dev.kad.api.KadException) u).isTransient());
    assertCounted(client, "the bad preface", TcpTransportStats::badPrefaces);
  }

  /** What a raw peer does with the connection it accepted; the server closes it after. */
  @FunctionalInterface
  private interface RawPeerAction {
    void on(Socket accepted) throws IOException;
  }

  /**
   * What a ping from {@code client} to {@code listener} fails with, the raw peer there doing {@code
   * peer} with the connection it accepted and then waiting for the client to close it.
   */
  private Throwable pingFailure(TcpTransport client, ServerSocket listener, RawPeerAction peer) {
    Mono<Response> ping =
        client.send(
            new Address("127.0.0.1", listener.getLocalPort()),
            new Request.Ping(Messages.contact(1, client.localAddress())));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    StepVerifier.create(ping)
        .then(
            () -> {
              try {
                Socket s = accept(listener);
                peer.on(s);
                assertClosedByServer(s);
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            })
        .expectErrorSatisfies(failure::set)
        .verify(BOUND);
    return failure.get();
  }
}
