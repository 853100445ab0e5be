package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.api.message.Response;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.TestCertificates;
import dev.kad.transport.tcp.TcpTls;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import dev.kad.transport.tcp.WireFormat;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Mono;

/**
 * {@code kad node --retry-join} through a seed whose settings do not fit this node's: no retry can
 * fix that, so the node stops at the first attempt with one line naming the seed and the mistake,
 * closes and exits 1, as without {@code --retry-join}. The seeds run in this JVM; the node runs
 * in-process through picocli, on a thread of its own so that a node that retries anyway fails the
 * test instead of hanging it.
 */
class RetryJoinTest {

  private static final long WAIT_SECONDS = 30;

  @TempDir static Path dir;

  /** This node's key, self-signed, trusted by itself alone. */
  private static TestCertificates.Issued mine;

  /** Another self-signed key: a seed holding it is not trusted by this node. */
  private static TestCertificates.Issued stranger;

  private static String password;

  private static Map<String, String> env;

  private final List<KadNode> nodes = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final List<Supplier<Mono<Void>>> closeables = new ArrayList<>();

  @BeforeAll
  static void certificates() {
    TestCertificates certs = TestCertificates.create(dir);
    mine = certs.selfSigned("node", "IP:127.0.0.1");
    stranger = certs.selfSigned("stranger", "IP:127.0.0.1");
    password = certs.password();
    env = Map.of("KAD_TEST_TLS_PASSWORD", password);
  }

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Thread t : threads) {
      t.interrupt();
      t.join(TimeUnit.SECONDS.toMillis(15));
    }
    for (KadNode node : nodes) {
      node.close().block(Duration.ofSeconds(10));
    }
    for (Supplier<Mono<Void>> c : closeables) {
      c.get().block(Duration.ofSeconds(10));
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aSeedThatRequiresTlsStopsANodeWithoutIt() throws Exception {
    String seed = startSeed(WireFormat.JSON, tls(mine));

    assertStopsAtOnce(
        retryJoin(Map.of(), List.of(seed)),
        seed,
        "peer at " + seed + " requires TLS, which this node has off");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aSeedWithTlsOffStopsANodeThatRequiresTls() throws Exception {
    String seed = startSeed(WireFormat.JSON, null);

    assertStopsAtOnce(
        retryJoin(env, tlsOptions(mine), List.of(seed)),
        seed,
        "peer at " + seed + " has TLS off (it answered in plaintext), and this node requires TLS");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aSeedOfAnotherWireFormatStopsTheNode() throws Exception {
    String seed = startSeed(WireFormat.CBOR, null);

    assertStopsAtOnce(
        retryJoin(Map.of(), List.of(seed)),
        seed,
        "peer at "
            + seed
            + " speaks kad protocol v2 with format CBOR but this node speaks v2"
            + " with JSON");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aSeedWhoseCertificateThisNodeDoesNotTrustStopsTheNode() throws Exception {
    String seed = startSeed(WireFormat.JSON, tls(stranger));

    assertStopsAtOnce(
        retryJoin(env, tlsOptions(mine), List.of(seed)), seed, "TLS handshake with " + seed);
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void twoSeedsThatBothDoNotFitAreNamedInOneLine() throws Exception {
    String tlsSeed = startSeed(WireFormat.JSON, tls(mine));
    String cborSeed = startSeed(WireFormat.CBOR, null);

    retryJoin(Map.of(), List.of(tlsSeed, cborSeed));
    Cli.Run run = finished();

    assertThat(run.exitCode()).as(run.errText()).isEqualTo(1);
    assertThat(run.err())
        .singleElement()
        .asString()
        .startsWith("kad node: cannot join the network: ")
        .contains(tlsSeed + " (peer at " + tlsSeed + " requires TLS")
        .contains(cborSeed + " (peer at " + cborSeed + " speaks kad protocol v2 with format CBOR");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aSeedThatAnswersThePingWithSomethingElseStopsTheNodeWithTheOtherMisfits() throws Exception {
    // Not a setting that does not fit, but no retry changes it either: it is named with the others
    // in one line, not left to the engine's raw "no seed answered".
    String odd = startOddSeed();
    String cborSeed = startSeed(WireFormat.CBOR, null);

    retryJoin(Map.of(), List.of(odd, cborSeed));
    Cli.Run run = finished();

    assertThat(run.exitCode()).as(run.errText()).isEqualTo(1);
    assertThat(run.err())
        .singleElement()
        .asString()
        .startsWith("kad node: cannot join the network: ")
        .contains("no retry changes")
        .containsPattern(
            java.util.regex.Pattern.quote(odd + " (") + "[^)]*answered the ping with NodesFound\\)")
        .contains(cborSeed + " (peer at " + cborSeed + " speaks kad protocol v2 with format CBOR");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void putGetAndWatchThroughSeedsThatDoNotFitSayNoRetryChangesIt() {
    // No retry there, but the line tells a seed that does not fit from one that is down.
    String tlsSeed = startSeed(WireFormat.JSON, tls(mine));
    String cborSeed = startSeed(WireFormat.CBOR, null);
    String seeds = tlsSeed + "," + cborSeed;

    for (String[] args :
        List.of(
            new String[] {"put", "--bootstrap", seeds, "k", "v"},
            new String[] {"get", "--bootstrap", seeds, "k"},
            new String[] {"watch", "--bootstrap", seeds, "k"},
            new String[] {"node", "--port", "0", "--bootstrap", seeds})) {
      Cli.Run run = Cli.kad(args);

      assertThat(run.exitCode()).as(run.errText()).isEqualTo(1);
      assertThat(run.err())
          .singleElement()
          .asString()
          .isEqualTo(
              "kad "
                  + args[0]
                  + ": cannot join the network: each seed failed in a way no retry changes: ["
                  + tlsSeed
                  + " (peer at "
                  + tlsSeed
                  + " requires TLS, which this node has off), "
                  + cborSeed
                  + " (peer at "
                  + cborSeed
                  + " speaks kad protocol v2 with format CBOR but this node speaks v2 with JSON)]");
    }
  }

  private CompletableFuture<Cli.Run> pending;

  /** Starts a seed in this JVM that answers every request, a ping too, with an empty NodesFound. */
  private String startOddSeed() {
    TcpTransport transport =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .fromConfig(KadConfig.defaults())
                .name("seed-odd")
                .eventLoopThreads(1)
                .build());
    closeables.add(transport::close);
    Contact[] self = new Contact[1];
    transport
        .start(request -> Mono.just(new Response.NodesFound(self[0], List.of())))
        .block(Duration.ofSeconds(WAIT_SECONDS));
    self[0] = new Contact(NodeId.random(new Random(1)), transport.localAddress());
    return transport.localAddress().toString();
  }

  /** {@code kad node --port 0 --retry-join --bootstrap seeds}, in the background. */
  private Cli retryJoin(Map<String, String> environment, List<String> seeds) {
    return retryJoin(environment, List.of(), seeds);
  }

  private Cli retryJoin(Map<String, String> environment, List<String> tls, List<String> seeds) {
    List<String> args = new ArrayList<>(List.of("node", "--port", "0", "--retry-join"));
    args.addAll(tls);
    args.addAll(List.of("--bootstrap", String.join(",", seeds)));
    Cli cli = new Cli();
    pending =
        Cli.inBackground(
            () -> cli.execute(KadCli.commandLine(environment::get), args.toArray(String[]::new)),
            threads);
    return cli;
  }

  private Cli.Run finished() throws Exception {
    // The first attempt fails within a connect; a node that retried would still run here.
    return pending.get(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  /**
   * The node exits 1 after one attempt, with one line naming the seed and {@code reason}, and its
   * port closed.
   */
  private void assertStopsAtOnce(Cli cli, String seed, String reason) throws Exception {
    String address = NodeProcessTest.address(cli.out.await("listening on", WAIT_SECONDS));
    Cli.Run run = finished();

    assertThat(run.exitCode()).as(run.errText()).isEqualTo(1);
    assertThat(run.err())
        .singleElement()
        .asString()
        .startsWith("kad node: cannot join the network: ")
        .contains("no retry changes")
        .contains(seed + " (" + reason);
    assertThat(run.outText()).doesNotContain("running").doesNotContain("joined");
    NodeProcessTest.assertRefused(address);
  }

  private static TcpTls tls(TestCertificates.Issued key) {
    return tls(key, password);
  }

  /** TLS with {@code key}, trusting it alone. */
  static TcpTls tls(TestCertificates.Issued key, String password) {
    return TcpTls.builder()
        .keyStore(key.keyStore(), password.toCharArray())
        .trustStore(key.keyStore(), password.toCharArray())
        .build();
  }

  private static List<String> tlsOptions(TestCertificates.Issued key) {
    return List.of(
        "--tls-key-store",
        key.keyStore().toString(),
        "--tls-trust-store",
        key.keyStore().toString(),
        "--tls-password-env",
        "KAD_TEST_TLS_PASSWORD");
  }

  /** Starts a seed in this JVM speaking {@code format}, with TLS when {@code tls} is set. */
  private String startSeed(WireFormat format, TcpTls tls) {
    KadNode node = startNode(format, tls);
    nodes.add(node);
    return node.contact().address().toString();
  }

  /**
   * A node on 127.0.0.1, a free port, speaking {@code format}, with TLS when {@code tls} is set;
   * the caller closes it.
   */
  static KadNode startNode(WireFormat format, TcpTls tls) {
    return startNode(format, tls, 0);
  }

  /**
   * A node on 127.0.0.1:{@code port} (0: a free one), speaking {@code format}, with TLS when {@code
   * tls} is set; the caller closes it.
   */
  static KadNode startNode(WireFormat format, TcpTls tls, int port) {
    KadConfig config = KadConfig.defaults();
    TcpTransportOptions.Builder options =
        TcpTransportOptions.builder()
            .fromConfig(config)
            .name("seed-" + format.name().toLowerCase(Locale.ROOT))
            .format(format)
            .bindPort(port)
            .eventLoopThreads(1);
    if (tls != null) {
      options.tls(tls);
    }
    return KadNodes.builder()
        .config(config)
        .transport(TcpTransport.create(options.build()))
        .start()
        .block(Duration.ofSeconds(WAIT_SECONDS));
  }
}
