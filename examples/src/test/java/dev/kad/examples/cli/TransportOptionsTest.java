package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine.ParseResult;
import reactor.core.publisher.Mono;

/**
 * The transport's options on the command line. {@code --connect-timeout} of {@code kad
 * node|put|get|watch}: a positive duration in the format of every other duration, refused as bad
 * input otherwise, and the transport's: a node closes a connection that sends no preface after it,
 * not after the transport's default 5 s. {@code kad node --check-sender-address} and {@code
 * --max-requests-per-second-per-ip}: the node's transport refuses a request whose sender claims
 * another host's address, serves honest peers, and a rate it cannot take is bad input naming the
 * option.
 */
class TransportOptionsTest {

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
  void everyCommandThatStartsANodeTakesItDefaultingToFiveSeconds() {
    List<List<String>> commands =
        List.of(
            List.of("node", "--port", "0"),
            List.of("put", "--bootstrap", "127.0.0.1:1", "k", "v"),
            List.of("get", "--bootstrap", "127.0.0.1:1", "k"),
            List.of("watch", "--bootstrap", "127.0.0.1:1", "k"));
    for (List<String> command : commands) {
      assertThat(connectTimeout(command, List.of("--connect-timeout", "750ms")))
          .as("%s", command)
          .isEqualTo(Duration.ofMillis(750));
      assertThat(connectTimeout(command, List.of("--connect-timeout", "PT12S")))
          .as("%s", command)
          .isEqualTo(Duration.ofSeconds(12));
      assertThat(connectTimeout(command, List.of()))
          .as("%s", command)
          .isEqualTo(Duration.ofSeconds(5));
    }
  }

  @Test
  void aConnectTimeoutThatIsNotAPositiveDurationIsAUsageErrorNamingIt() {
    Cli.Run zero = Cli.kad("node", "--port", "0", "--connect-timeout", "0s");
    Cli.Run word = Cli.kad("get", "--bootstrap", "127.0.0.1:1", "--connect-timeout", "soon", "key");
    Cli.Run tooLong =
        Cli.kad("watch", "--bootstrap", "127.0.0.1:1", "--connect-timeout", "25h", "key");

    assertThat(zero.exitCode()).isEqualTo(2);
    assertThat(zero.err())
        .singleElement()
        .asString()
        .startsWith("kad node: Invalid value for option '--connect-timeout'")
        .contains("duration must be positive but was '0s'");
    assertThat(zero.out()).as("no node started").isEmpty();
    assertThat(word.exitCode()).isEqualTo(2);
    assertThat(word.err())
        .singleElement()
        .asString()
        .startsWith("kad get: Invalid value for option '--connect-timeout'")
        .contains("but was 'soon'");
    assertThat(tooLong.exitCode()).isEqualTo(2);
    assertThat(tooLong.err())
        .singleElement()
        .asString()
        .contains("duration must be at most 24h but was '25h'");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aNodeClosesAConnectionWithoutAPrefaceAfterItsConnectTimeout() throws Exception {
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> run =
        Cli.inBackground(
            () -> cli.execute("node", "--port", "0", "--connect-timeout", "300ms"), threads);
    String address = NodeProcessTest.address(cli.out.await("listening on", WAIT_SECONDS));
    cli.out.await("running", WAIT_SECONDS);
    String[] hostPort = address.split(":");

    long elapsedMillis;
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 5000);
      socket.setSoTimeout(10_000); // a node on the 5 s default would close it within this
      long start = System.nanoTime();
      readUntilClosed(socket.getInputStream());
      elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    }

    // 300 ms plus a generous margin for a loaded host, well short of the default 5 s.
    assertThat(elapsedMillis).isLessThan(3000);
    threads.get(0).interrupt();
    assertThat(run.get(WAIT_SECONDS, TimeUnit.SECONDS).exitCode()).isZero();
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

  @Test
  void maxPerIpSetsTheRoutingTablesLimitOnOnePublicIpDefaultingToTwo() {
    assertThat(nodeConfig("--max-per-ip", "0").maxPerIp()).isZero();
    assertThat(nodeConfig("--max-per-ip", "5").maxPerIp()).isEqualTo(5);
    assertThat(nodeConfig().maxPerIp()).isEqualTo(2);
  }

  @Test
  void aMaxPerIpOutOfRangeIsBadInputNamingTheOption() {
    Cli.Run negative = Cli.kad("node", "--port", "0", "--max-per-ip", "-1");

    assertThat(negative.exitCode()).isEqualTo(2);
    assertThat(negative.err())
        .singleElement()
        .asString()
        .startsWith("kad node: ")
        .contains("--max-per-ip must be in [0, 256] but was -1");
    assertThat(negative.out()).as("no node started").isEmpty();
  }

  /** The settings {@code kad node --port 0} with {@code options} would start its node with. */
  private static KadConfig nodeConfig(String... options) {
    List<String> args = new ArrayList<>(List.of("node", "--port", "0"));
    args.addAll(List.of(options));
    ParseResult parsed = KadCli.commandLine().parseArgs(args.toArray(String[]::new));
    return ((NodeCommand) parsed.subcommand().commandSpec().userObject()).config();
  }

  /**
   * Reads until the peer closes the connection; throws {@code SocketTimeoutException} when it stays
   * open past the socket's timeout.
   */
  private static void readUntilClosed(InputStream in) throws IOException {
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) >= 0) {
        // whatever the node writes before it closes does not matter here
      }
    } catch (SocketException reset) {
      // closed with a reset: closed all the same
    }
  }

  /** The value of {@code --connect-timeout} once {@code command} and {@code options} are parsed. */
  private static Duration connectTimeout(List<String> command, List<String> options) {
    List<String> args = new ArrayList<>(command.subList(0, 1));
    args.addAll(options);
    args.addAll(command.subList(1, command.size()));
    ParseResult parsed = KadCli.commandLine().parseArgs(args.toArray(String[]::new));
    return parsed.subcommand().commandSpec().findOption("--connect-timeout").getValue();
  }
}
