package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.message.Request;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link TcpTransportGauges}: the transport's counts in a Micrometer registry, without Spring. */
class TcpTransportGaugesTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  private final Opened opened = new Opened(BOUND);
  private final MeterRegistry registry = new SimpleMeterRegistry();

  @AfterEach
  void closeAll() throws IOException {
    opened.close();
  }

  @Test
  void theMetersFollowTheTransportsConnectionsAndTheOnesItDropped() throws IOException {
    TcpTransport server = opened.started(new EchoHandler(1), b -> {});
    new TcpTransportGauges(server, Tags.of("node", "a")).bindTo(registry);
    assertThat(registry.get("kad.transport.connections.open").tag("node", "a").gauge().value())
        .isZero();

    TcpTransport client = opened.started(new EchoHandler(2), b -> {});
    client
        .send(server.localAddress(), new Request.Ping(Messages.contact(2, client.localAddress())))
        .block(BOUND);
    try (Socket hostile = opened.socket(new Socket())) {
      hostile.setSoTimeout((int) BOUND.toMillis());
      hostile.connect(
          new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
      hostile.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.UTF_8));
      drainUntilClosed(hostile.getInputStream());
    }
    Await.until("the bad preface to be counted", () -> server.stats().violations() == 1);
    // Counted as it is closed: the connection leaves the open ones a moment later.
    Await.until("the hostile connection to close", () -> server.stats().openConnections() == 1);

    assertThat(registry.get("kad.transport.connections.dropped").functionCounter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("kad.transport.connections.open").gauge().value())
        .as("the client's connection")
        .isEqualTo(1.0);
    assertThat(registry.get("kad.transport.requests.rate.limited").functionCounter().count())
        .isZero();
  }

  private static void drainUntilClosed(InputStream in) throws IOException {
    byte[] buf = new byte[4096];
    try {
      while (in.read(buf) != -1) {
        // the server's preface, then the close
      }
    } catch (SocketException reset) {
      // a reset is a close too
    }
  }
}
