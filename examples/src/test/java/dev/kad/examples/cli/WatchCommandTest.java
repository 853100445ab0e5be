package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.testkit.TestCertificates;
import dev.kad.transport.tcp.WireFormat;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code kad watch} against nodes started in-process on 127.0.0.1: it says on stderr when its
 * network goes away and when it is back, and keeps printing values on stdout only.
 */
class WatchCommandTest {

  private static final long WAIT_SECONDS = 30;

  private final List<KadNode> nodes = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Thread t : threads) {
      t.interrupt();
      t.join(TimeUnit.SECONDS.toMillis(15));
    }
    for (KadNode node : nodes) {
      node.close().block(Duration.ofSeconds(10));
    }
  }

  private KadNode startNode(int port) {
    KadNode node =
        RunningNode.startNode(
            KadConfig.defaults(),
            "watch-test-" + nodes.size(),
            null,
            "127.0.0.1",
            port,
            null,
            1,
            new SplittableRandom(nodes.size()),
            Duration.ofSeconds(30));
    nodes.add(node);
    return node;
  }

  /** A watch through one seed that holds "first", cut off by the seed's close. */
  private record CutOff(
      Cli watcher, CompletableFuture<Cli.Run> watch, String address, int port, String line) {}

  private CutOff watchUntilItsOnlySeedCloses() throws Exception {
    KadNode seed = startNode(0);
    String address = seed.contact().address().toString();
    int port = seed.contact().address().port();
    seed.put(Key.of("watched"), bytes("first")).block(Duration.ofSeconds(10));
    Cli watcher = new Cli();
    CompletableFuture<Cli.Run> watch =
        Cli.inBackground(
            () ->
                watcher.execute(
                    "watch", "--bootstrap", address, "--silence-warning", "2s", "watched"),
            threads);
    watcher.out.await("first", WAIT_SECONDS);

    seed.close().block(Duration.ofSeconds(10));
    String line = watcher.err.await("no node has answered", WAIT_SECONDS);
    return new CutOff(watcher, watch, address, port, line);
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void saysWhenItsNetworkIsGoneAndWhenItIsBackAndWatchesOnThroughTheNewNodes() throws Exception {
    CutOff cut = watchUntilItsOnlySeedCloses();
    Cli watcher = cut.watcher();
    CompletableFuture<Cli.Run> watch = cut.watch();
    String address = cut.address();
    int port = cut.port();
    String cutOff = cut.line();
    assertThat(cutOff)
        .isEqualTo(
            "kad watch: no node has answered for 2 s; still watching 'watched', joining again"
                + " through "
                + address);

    // The network comes back at the seed's address, as a new node (a new id) without the value.
    KadNode restarted = startNode(port);
    restarted.put(Key.of("watched"), bytes("second")).block(Duration.ofSeconds(10));
    // The table still holds the dead node's contact next to the new one's.
    String reconnected = watcher.err.await("reconnected", WAIT_SECONDS);
    assertThat(reconnected)
        .matches("kad watch: reconnected \\(\\d+ nodes? known\\); watching 'watched' again");
    // The watch started afresh: it read the new node's value and is subscribed there.
    watcher.out.await("second", WAIT_SECONDS);
    restarted.put(Key.of("watched"), bytes("third")).block(Duration.ofSeconds(10));
    watcher.out.await("third", WAIT_SECONDS);

    threads.get(0).interrupt();
    Cli.Run run = watch.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(run.exitCode()).as(run.errText()).isZero();
    assertThat(run.out()).containsExactly("first", "second", "third");
    assertThat(run.err()).containsExactly(cutOff, reconnected);
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aWatchWhoseOnlySeedComesBackWithTlsOnStopsWithOneLineInsteadOfRetrying() throws Exception {
    CutOff cut = watchUntilItsOnlySeedCloses();
    CompletableFuture<Cli.Run> watch = cut.watch();
    String address = cut.address();
    int port = cut.port();
    String cutOff = cut.line();
    // The seed comes back at its address with TLS on, which the watch has off: no retry mends it.
    TestCertificates certs = TestCertificates.shared();
    nodes.add(
        RetryJoinTest.startNode(
            WireFormat.JSON,
            RetryJoinTest.tls(certs.selfSigned("watch-seed", "IP:127.0.0.1"), certs.password()),
            port));

    // A watch that retried would still run here (and the Timeout would end it).
    Cli.Run run = watch.get(WAIT_SECONDS * 2, TimeUnit.SECONDS);
    assertThat(run.exitCode()).as(run.errText()).isEqualTo(1);
    assertThat(run.err())
        .containsExactly(
            cutOff,
            "kad watch: cannot join the network: each seed failed in a way no retry changes: ["
                + address
                + " (peer at "
                + address
                + " requires TLS, which this node has off)]");
    assertThat(run.out()).containsExactly("first");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aWatchSaysOnceThatASeedDoesNotFitAndRejoinsThroughTheOthers() throws Exception {
    KadNode first = startNode(0);
    KadNode second = startNode(0);
    String firstAddress = first.contact().address().toString();
    String secondAddress = second.contact().address().toString();
    first.bootstrap(List.of(second.contact().address())).block(Duration.ofSeconds(10));
    first.put(Key.of("watched"), bytes("first")).block(Duration.ofSeconds(10));
    Cli watcher = new Cli();
    CompletableFuture<Cli.Run> watch =
        Cli.inBackground(
            () ->
                watcher.execute(
                    "watch",
                    "--bootstrap",
                    secondAddress + "," + firstAddress,
                    "--silence-warning",
                    "2s",
                    "watched"),
            threads);
    watcher.out.await("first", WAIT_SECONDS);

    first.close().block(Duration.ofSeconds(10));
    second.close().block(Duration.ofSeconds(10));
    String cutOff = watcher.err.await("no node has answered", WAIT_SECONDS);
    // The second seed comes back speaking another wire format; the first is still down.
    nodes.add(RetryJoinTest.startNode(WireFormat.CBOR, null, second.contact().address().port()));
    String misfit = watcher.err.await("no retry changes", WAIT_SECONDS);
    assertThat(misfit)
        .isEqualTo(
            "kad watch: will not join through "
                + secondAddress
                + " again: peer at "
                + secondAddress
                + " speaks kad protocol v2 with format CBOR but this node speaks v2 with JSON,"
                + " which no retry changes; retrying "
                + firstAddress);

    // The first seed comes back as it was: the watch rejoins through it and watches on.
    KadNode restarted = startNode(first.contact().address().port());
    restarted.put(Key.of("watched"), bytes("second")).block(Duration.ofSeconds(10));
    String reconnected = watcher.err.await("reconnected", WAIT_SECONDS * 2);
    watcher.out.await("second", WAIT_SECONDS);

    threads.get(0).interrupt();
    Cli.Run run = watch.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(run.exitCode()).as(run.errText()).isZero();
    assertThat(run.err()).containsExactly(cutOff, misfit, reconnected);
  }

  @Test
  void aSilenceWarningUnderTwoSecondsIsBadInput() {
    Cli.Run run =
        Cli.kad("watch", "--bootstrap", "127.0.0.1:1", "--silence-warning", "1500ms", "k");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .containsExactly(
            "kad watch: --silence-warning must be at least 2s but was 1.5 s (see 'kad watch"
                + " --help')");
  }

  @Test
  void helpDocumentsTheSilenceWarning() {
    Cli.Run run = Cli.kad("watch", "--help");

    assertThat(run.outText().replaceAll("\\s+", " "))
        .contains("--silence-warning=DURATION")
        .contains("(default: 60s, at least 2s)");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
