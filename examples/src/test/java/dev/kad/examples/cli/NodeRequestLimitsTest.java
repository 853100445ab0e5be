package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;

/**
 * {@code kad node --check-sender-address} and {@code --max-requests-per-second-per-ip}: the node's
 * transport refuses a request whose sender claims another host's address, serves honest peers, and
 * a rate it cannot take is bad input naming the option.
 */
class NodeRequestLimitsTest {

  private static final long WAIT_SECONDS = 30;
  private static final Duration BOUND = Duration.ofSeconds(20);

  private final List<Thread> threads = new ArrayList<>();

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Thread t : threads) {
      t.interrupt();
      t.join(TimeUnit.SECONDS.toMillis(15));
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void withCheckSenderAddressARequestClaimingAnotherHostIsRefusedAndHonestClientsAreServed()
      throws Exception {
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> run =
        Cli.inBackground(
            () -> cli.execute("node", "--port", "0", "--check-sender-address"), threads);
    Address node =
        Address.parse(NodeProcessTest.address(cli.out.await("listening on", WAIT_SECONDS)));
    cli.out.await("running", WAIT_SECONDS);

    TcpTransport peer =
        TcpTransport.create(TcpTransportOptions.builder().bindHost("127.0.0.1").build());
    try {
      peer.start(request -> Mono.empty()).block(BOUND);
      NodeId id = NodeId.random(160, new SplittableRandom(7));
      Response spoofed =
          peer.send(node, new Request.Ping(new Contact(id, new Address("192.0.2.1", 9)), false))
              .block(BOUND);
      Response honest =
          peer.send(node, new Request.Ping(new Contact(id, peer.localAddress()), false))
              .block(BOUND);

      assertThat(spoofed)
          .isInstanceOfSatisfying(
              Response.Failure.class,
              f -> {
                assertThat(f.code()).isEqualTo(Response.Code.INVALID);
                assertThat(f.message()).contains("sender claims 192.0.2.1:9");
              });
      assertThat(honest).isInstanceOf(Response.Pong.class);
    } finally {
      peer.close().block(BOUND);
    }
    Cli.Run put = Cli.kad("put", "--bootstrap", node.toString(), "greeting", "hello");
    assertThat(put.exitCode()).as("%s", put.err()).isZero();

    threads.get(0).interrupt();
    assertThat(run.get(WAIT_SECONDS, TimeUnit.SECONDS).exitCode()).isZero();
  }

  @Test
  void aNegativeRequestRateIsBadInputNamingTheOption() {
    Cli.Run negative = Cli.kad("node", "--port", "0", "--max-requests-per-second-per-ip", "-1");

    assertThat(negative.exitCode()).isEqualTo(2);
    assertThat(negative.err())
        .singleElement()
        .asString()
        .startsWith("kad node: ")
        .contains("--max-requests-per-second-per-ip must be in [0, 1000000] but was -1");
    assertThat(negative.out()).as("no node started").isEmpty();
  }
}
