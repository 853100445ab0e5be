package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.Key;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** A tokened request on a dialed connection whose peer never sends its preface. */
class TokenPrefaceWaitTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
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

  /**
   * The peer accepts and reads the dialer's preface but never answers with its own, and keeps the
   * connection open: the request waiting for the preface still ends at requestTimeout.
   */
  @Test
  void aTokenedRequestToAPeerThatNeverSendsItsPrefaceStillTimesOut() throws Exception {
    TcpTransport client =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .requestTimeout(Duration.ofMillis(500))
                .connectTimeout(Duration.ofSeconds(5))
                .build());
    transports.add(client);
    client.start(request -> Mono.<Response>empty()).block(BOUND);
    Contact me = Messages.contact(5, client.localAddress());
    ServerSocket listener = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
    sockets.add(listener);
    long start = System.nanoTime();
    CompletableFuture<Response> answer =
        client
            .send(
                new Address("127.0.0.1", listener.getLocalPort()),
                new Request.Subscribe(me, KEY, Duration.ofSeconds(30), false, 77))
            .toFuture();
    listener.setSoTimeout((int) BOUND.toMillis());
    Socket s = listener.accept();
    sockets.add(s);
    InputStream in = s.getInputStream();
    s.setSoTimeout((int) BOUND.toMillis());
    assertThat(in.readNBytes(Preface.LENGTH)).hasSize(Preface.LENGTH);
    Throwable failure = null;
    try {
      answer.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      failure = e.getCause();
    }
    long tookMillis = (System.nanoTime() - start) / 1_000_000;
    assertThat(failure).isInstanceOf(KadTimeoutException.class);
    assertThat(tookMillis).isLessThan(4000);
    // Nothing but the preface was written: the request never left.
    s.setSoTimeout(200);
    assertThat(readOrTimeout(in)).isEqualTo(-2);
  }

  private static int readOrTimeout(InputStream in) {
    try {
      return in.read();
    } catch (java.net.SocketTimeoutException e) {
      return -2;
    } catch (java.io.IOException e) {
      return -3;
    }
  }
}
