package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * Over {@code maxInboundConnections}, the accepted connection quiet the longest makes room for the
 * newcomer; one with a request in flight never does, and when every one has, the newcomer is
 * refused. Idle peers are raw sockets that sent a preface and nothing else.
 */
class TcpInboundEvictionTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final int MAX_INBOUND = 8;

  /** A dialer's preface (protocol v2, JSON), without a nonce to check. */
  private static final byte[] PREFACE = {
    'K', 'A', 'D', 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0
  };

  private final Opened opened = new Opened(BOUND);

  /** Holds the answer to every FindValue until released; answers anything else at once. */
  private final Sinks.Empty<Void> release = Sinks.empty();

  private final AtomicInteger held = new AtomicInteger();

  private final RequestHandler holding =
      request -> {
        if (request instanceof Request.FindValue) {
          held.incrementAndGet();
          EchoHandler echo = new EchoHandler(1);
          return release.asMono().then(Mono.fromSupplier(() -> echo.answer(request)));
        }
        return new EchoHandler(1).handle(request);
      };

  @AfterEach
  void closeAll() throws IOException {
    release.tryEmitEmpty();
    opened.close();
  }

  private TcpTransport server() {
    return opened.started(
        holding, b -> b.maxInboundConnections(MAX_INBOUND).perIpLimitForLocalPeers(false));
  }

  /** A raw peer that sent a preface and nothing else. */
  private Socket idlePeer(TcpTransport server) throws IOException {
    Socket s = opened.socket(new Socket());
    s.setSoTimeout((int) BOUND.toMillis());
    s.connect(
        new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
    s.getOutputStream().write(PREFACE);
    s.getOutputStream().flush();
    return s;
  }

  /** A raw peer whose FindValue with request id 7 the server holds. */
  private Socket busyPeer(TcpTransport server) throws IOException {
    int before = held.get();
    Socket s = idlePeer(server);
    s.getOutputStream().write(findValue(7));
    s.getOutputStream().flush();
    Await.until("the handler to hold the request", () -> held.get() == before + 1);
    return s;
  }

  private static byte[] findValue(int rid) {
    String id = Base64.getEncoder().encodeToString(new byte[20]);
    String body =
        "{\"rid\":"
            + rid
            + ",\"msg\":{\"type\":\"findValue\",\"sender\":{\"id\":\""
            + id
            + "\",\"host\":\"127.0.0.1\",\"port\":9},\"key\":\""
            + id
            + "\"}}";
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    return ByteBuffer.allocate(4 + b.length).putInt(b.length).put(b).array();
  }

  /** Reads until the server closes the connection; fails after the bound. */
  private static void assertClosedByServer(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    byte[] buf = new byte[4096];
    try {
      while (in.read(buf) != -1) {
        // drain: the server's preface
      }
    } catch (SocketException reset) {
      // a reset is a close too
    }
  }

  /** Reads the server's preface and then the answer to request id 7. */
  private static void assertAnswered(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    assertThat(in.readNBytes(PREFACE.length)).hasSize(PREFACE.length);
    int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
    assertThat(new String(in.readNBytes(length), StandardCharsets.UTF_8))
        .startsWith("{\"rid\":7,\"msg\":{\"type\":\"valuesFound\"");
  }

  /**
   * Idle peers opened one at a time, each counted open before the next, until {@code server} holds
   * {@code MAX_INBOUND} connections with the {@code alreadyOpen} it had.
   */
  private List<Socket> idlePeersUpToTheBound(TcpTransport server, int alreadyOpen)
      throws IOException {
    List<Socket> idle = new ArrayList<>();
    for (int open = alreadyOpen + 1; open <= MAX_INBOUND; open++) {
      idle.add(idlePeer(server));
      int expected = open;
      Await.until(
          expected + " connections open", () -> server.stats().openConnections() == expected);
    }
    return idle;
  }

  private Mono<Response> ping(TcpTransport client, TcpTransport server) {
    return client.send(
        server.localAddress(), new Request.Ping(Messages.contact(5, client.localAddress())));
  }

  /** The client's ping is answered: the newcomer was let in. */
  private void assertServed(TcpTransport client, TcpTransport server) {
    StepVerifier.create(ping(client, server))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void theQuietestAcceptedConnectionMakesRoomForAnHonestNewcomer() throws IOException {
    TcpTransport server = server();
    List<Socket> idle = idlePeersUpToTheBound(server, 0);
    TcpTransport client = opened.started(new EchoHandler(5), b -> {});

    assertServed(client, server);

    // the first idle peer, quiet since it connected, made room; nobody was refused
    assertClosedByServer(idle.get(0));
    Await.until("one eviction", () -> server.stats().evictedInboundConnections() == 1);
    Await.until(
        MAX_INBOUND + " connections open", () -> server.stats().openConnections() == MAX_INBOUND);
    assertThat(server.stats().rejectedConnections()).isZero();
    assertThat(server.stats().violations()).isZero();
  }

  @Test
  void aConnectionWithARequestInFlightIsNeverEvicted() throws IOException {
    TcpTransport server = server();
    // the oldest connection, quiet since its request, but with that request in flight
    Socket busy = busyPeer(server);
    List<Socket> idle = idlePeersUpToTheBound(server, 1);
    TcpTransport client = opened.started(new EchoHandler(5), b -> {});

    assertServed(client, server);

    // the quietest idle one went, not the older one with a request in flight
    assertClosedByServer(idle.get(0));
    Await.until("one eviction", () -> server.stats().evictedInboundConnections() == 1);
    release.tryEmitEmpty();
    assertAnswered(busy);
    assertThat(server.stats().evictedInboundConnections()).isEqualTo(1);
  }

  @Test
  void whenEveryAcceptedConnectionHasARequestInFlightTheNewcomerIsRefused() throws IOException {
    TcpTransport server = server();
    List<Socket> busy = new ArrayList<>();
    for (int i = 0; i < MAX_INBOUND; i++) {
      busy.add(busyPeer(server));
    }
    TcpTransport client = opened.started(new EchoHandler(5), b -> {});

    StepVerifier.create(ping(client, server))
        .expectError(UnreachableContactException.class)
        .verify(BOUND);

    assertThat(server.stats().rejectedConnections()).isPositive();
    assertThat(server.stats().evictedInboundConnections()).isZero();
    release.tryEmitEmpty();
    for (Socket s : busy) {
      assertAnswered(s);
    }
  }
}
