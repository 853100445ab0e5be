package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.testkit.NoBlocking;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

/** The detector the transport tests rely on sees a blocking call on an event loop. */
class NoBlockingTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  @Test
  void aHandlerThatParksOnAnEventLoopIsCaught() {
    NoBlocking.start();
    EchoHandler echo = new EchoHandler(1);
    TcpTransport server = TcpTransport.create(TcpTransportOptions.builder().build());
    TcpTransport client = TcpTransport.create(TcpTransportOptions.builder().build());
    try {
      server
          .start(
              request ->
                  Mono.fromCallable(
                      () -> {
                        // a blocking call, as a lock wait or a blocking client would make
                        LockSupport.parkNanos(1_000);
                        return echo.answer(request);
                      }))
          .block(BOUND);
      client.start(new EchoHandler(2)).block(BOUND);
      Response answer =
          client
              .send(
                  server.localAddress(),
                  new Request.Ping(Messages.contact(2, client.localAddress())))
              .block(BOUND);
      assertThat(answer).isInstanceOf(Response.Pong.class);
    } finally {
      server.close().block(BOUND);
      client.close().block(BOUND);
    }
    assertThat(NoBlocking.calls()).anyMatch(call -> call.endsWith("Unsafe#park"));
  }
}
