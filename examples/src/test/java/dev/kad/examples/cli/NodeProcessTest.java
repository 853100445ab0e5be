package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.KadNode;
import dev.kad.transport.tcp.WireFormat;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kad put|get|watch} between two {@code kad node} processes on loopback, and the node's
 * graceful shutdown. The nodes run as separate JVMs on this test's class path; the client commands
 * run in-process through picocli.
 */
class NodeProcessTest {

  private static final Pattern LISTENING = Pattern.compile("listening on (\\S+)");
  private static final long WAIT_SECONDS = 30;

  @TempDir Path logs;

  private final List<NodeProcess> nodes = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final List<KadNode> inProcess = new ArrayList<>();

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Thread t : threads) {
      t.interrupt();
      t.join(TimeUnit.SECONDS.toMillis(15));
    }
    for (NodeProcess node : nodes) {
      node.stop();
    }
    for (KadNode node : inProcess) {
      node.close().block(Duration.ofSeconds(10));
    }
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void putGetAndWatchBetweenTwoNodeProcesses() throws Exception {
    NodeProcess first = start("node", "--port", "0");
    NodeProcess second = start("node", "--port", "0", "--bootstrap", first.address);
    assertThat(second.stdout).anyMatch(l -> l.startsWith("joined the network: 1 contact"));
    String key = "cli-test-key";

    Cli.Run put = Cli.kad("put", "--bootstrap", first.address, key, "first value");
    assertThat(put.exitCode()).as(put.errText()).isZero();
    assertThat(put.out()).singleElement().asString().startsWith("stored 'cli-test-key' at ");

    Cli.Run get = Cli.kad("get", "--bootstrap", second.address, key);
    assertThat(get.exitCode()).as(get.errText()).isZero();
    assertThat(get.out()).containsExactly("first value");

    Cli watcher = new Cli();
    CompletableFuture<Cli.Run> watch =
        Cli.inBackground(
            () -> watcher.execute("watch", "--bootstrap", second.address, key, "--count", "2"),
            threads);
    watcher.out.await("first value", WAIT_SECONDS);
    Cli.Run update = Cli.kad("put", "--bootstrap", first.address, key, "second value");
    assertThat(update.exitCode()).as(update.errText()).isZero();

    Cli.Run watched = watch.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(watched.exitCode()).as(watched.errText()).isZero();
    assertThat(watched.out()).containsExactly("first value", "second value");
    assertThat(watched.err()).isEmpty();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void getOfAnUnknownKeyExitsWithOneLine() throws Exception {
    NodeProcess node = start("node", "--port", "0");

    Cli.Run get = Cli.kad("get", "--bootstrap", node.address, "nobody-stored-this");

    assertThat(get.exitCode()).isEqualTo(1);
    assertThat(get.out()).isEmpty();
    assertThat(get.err()).containsExactly("kad get: no value found for key 'nobody-stored-this'");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aPortInUseFailsWithOneLine() throws Exception {
    NodeProcess first = start("node", "--port", "0");
    String port = first.address.split(":")[1];
    Path stderr = logs.resolve("port-in-use.err");
    Process second =
        new ProcessBuilder(kadCommand("node", "--port", port))
            .redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    assertThat(second.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(second.exitValue()).isEqualTo(1);
    assertThat(Files.readAllLines(stderr))
        .singleElement()
        .asString()
        // The system's words, on epoll too, not Netty's "Failed to bind on [...]".
        .isEqualTo("kad node: cannot listen on 127.0.0.1:" + port + ": Address already in use");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aBootstrapAddressThatIsNotAKadNodeFailsWithOneLine() throws Exception {
    // A web server, say, where a kad node was expected: it answers kad's preface with HTTP.
    try (ServerSocket web = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      Thread server =
          new Thread(
              () -> {
                while (!web.isClosed()) {
                  // answers, then keeps the connection open until the client closes it
                  try (Socket s = web.accept()) {
                    s.getOutputStream()
                        .write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.UTF_8));
                    s.getInputStream().transferTo(OutputStream.nullOutputStream());
                  } catch (IOException e) {
                    // closed by the test, or the client went away
                  }
                }
              },
              "fake-web-server");
      server.setDaemon(true);
      server.start();
      String seed = "127.0.0.1:" + web.getLocalPort();
      Path stderr = logs.resolve("not-kad.err");
      Process get =
          new ProcessBuilder(kadCommand("get", "--bootstrap", seed, "key"))
              .redirectError(stderr.toFile())
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();

      assertThat(get.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
      assertThat(get.exitValue()).isEqualTo(1);
      // The engine's reason for the seed, once.
      assertThat(Files.readAllLines(stderr))
          .singleElement()
          .asString()
          .startsWith(
              "kad get: cannot join the network: no seed answered: [" + seed + " (connection")
          // what this side found, not a bare "closed": the line says what to fix
          .endsWith(
              " closed: bad preface: not a kad peer: preface 48 54 54 50 2f instead of 'KAD'"
                  + " v2 JSON)]");
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void nodeProcessClosesGracefullyOnSigterm() throws Exception {
    NodeProcess node = start("node", "--port", "0");

    node.process.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the shutdown hook runs

    assertThat(node.process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    String log = Files.readString(node.stderr);
    assertThat(log)
        .contains("started at " + node.address)
        .contains("shutting down")
        .containsPattern("node=[0-9a-f]{8} shut down")
        .doesNotContain("did not close cleanly")
        .doesNotContain("Exception");
    assertRefused(node.address);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void nodeCommandInProcessClosesItsNodeWhenItsThreadIsInterrupted() throws Exception {
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> run =
        Cli.inBackground(() -> cli.execute("node", "--port", "0"), threads);
    String address = address(cli.out.await("listening on", WAIT_SECONDS));
    cli.out.await("running", WAIT_SECONDS);

    threads.get(0).interrupt();

    assertThat(run.get(WAIT_SECONDS, TimeUnit.SECONDS).exitCode()).isZero();
    assertRefused(address);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aNodeWhoseOnlyBootstrapAddressIsItsOwnRunsAsTheFirstNode() throws Exception {
    // Every node of a cluster is started with the first one's address, the first one included.
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    String own = "127.0.0.1:" + port;
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> run =
        Cli.inBackground(
            () -> cli.execute("node", "--port", String.valueOf(port), "--bootstrap", own), threads);

    assertThat(address(cli.out.await("listening on", WAIT_SECONDS))).isEqualTo(own);
    assertThat(cli.out.await("first node", WAIT_SECONDS))
        .isEqualTo("first node of its network: every bootstrap address is this node itself");
    cli.out.await("running", WAIT_SECONDS);
    threads.get(0).interrupt();
    assertThat(run.get(WAIT_SECONDS, TimeUnit.SECONDS).exitCode()).isZero();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aNodeStartedWithAnIdHasThatId() throws Exception {
    String id = "00112233445566778899aabbccddeeff00112233";
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> run =
        Cli.inBackground(() -> cli.execute("node", "--port", "0", "--id", id), threads);

    assertThat(cli.out.await("listening on", WAIT_SECONDS)).startsWith("kad node " + id + " ");
    cli.out.await("running", WAIT_SECONDS);
    threads.get(0).interrupt();
    assertThat(run.get(WAIT_SECONDS, TimeUnit.SECONDS).exitCode()).isZero();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aNodeWithAnAdvertisedAddressNamesWhereItListensAndWhatItAdvertises() throws Exception {
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> run =
        Cli.inBackground(
            () ->
                cli.execute(
                    "node", "--port", "0", "--host", "127.0.0.1", "--advertise", "localhost:0"),
            threads);

    String line = cli.out.await("listening on", WAIT_SECONDS);
    Matcher m =
        Pattern.compile("listening on 127\\.0\\.0\\.1:(\\d+), advertised as localhost:(\\d+)$")
            .matcher(line);
    assertThat(m.find()).as(line).isTrue();
    assertThat(m.group(2)).as("advertised port 0: the bound one").isEqualTo(m.group(1));
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(m.group(1))), 2000);
    }
    cli.out.await("running", WAIT_SECONDS);
    threads.get(0).interrupt();
    assertThat(run.get(WAIT_SECONDS, TimeUnit.SECONDS).exitCode()).isZero();
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aNodeWithRetryJoinStartedBeforeItsSeedServesMeanwhileAndJoinsOnceTheSeedListens()
      throws Exception {
    // A cluster started all at once: the node comes up before the seed it joins through.
    int seedPort = freePort();
    String seed = "127.0.0.1:" + seedPort;
    NodeProcess node = launch("node", "--port", "0", "--bootstrap", seed, "--retry-join");
    node.address = address(node.lines.await("listening on", WAIT_SECONDS));

    // Each failed attempt: one WARN line naming the seed and why, and when the next comes.
    String retry = node.errLines.await("cannot join the network yet", WAIT_SECONDS);
    assertThat(retry)
        .contains("[WARN]")
        .contains("(attempt 1): no seed answered: [" + seed + " (cannot connect to " + seed)
        .contains("Connection refused)]")
        .containsPattern("; next attempt in \\d+(\\.\\d)? s$");
    assertThat(node.process.isAlive()).as("still running while it retries").isTrue();
    // It answers meanwhile: a client joins through it and stores a value there.
    Cli.Run put = Cli.kad("put", "--bootstrap", node.address, "early-key", "early value");
    assertThat(put.exitCode()).as(put.errText()).isZero();

    NodeProcess seedNode = start("node", "--port", String.valueOf(seedPort));
    assertThat(seedNode.address).isEqualTo(seed);

    assertThat(node.lines.await("joined the network", 60))
        .isEqualTo("joined the network: 1 contact in the routing table");
    node.lines.await("running", WAIT_SECONDS);
    assertThat(node.errLines.await("joined", WAIT_SECONDS))
        .contains("[INFO]")
        .containsPattern("node=[0-9a-f]{8} joined the network at attempt \\d+ \\(1 contact");
    Cli.Run get = Cli.kad("get", "--bootstrap", seed, "early-key");
    assertThat(get.exitCode()).as(get.errText()).isZero();
    assertThat(get.out()).containsExactly("early value");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aNodeWithRetryJoinDropsASeedThatDoesNotFitOnceAndRetriesTheOthers() throws Exception {
    // One seed speaks another wire format, which no retry changes; the other is not up yet.
    KadNode misfit = RetryJoinTest.startNode(WireFormat.CBOR, null);
    inProcess.add(misfit);
    String wrong = misfit.contact().address().toString();
    int seedPort = freePort();
    String seed = "127.0.0.1:" + seedPort;
    NodeProcess node =
        launch("node", "--port", "0", "--bootstrap", wrong + "," + seed, "--retry-join");
    node.address = address(node.lines.await("listening on", WAIT_SECONDS));

    // Said once, at WARN, naming the seed and why; then it is no longer dialed.
    assertThat(node.errLines.await("no retry changes", WAIT_SECONDS))
        .contains("[WARN]")
        .contains(wrong)
        .contains("peer at " + wrong + " speaks kad protocol v2 with format CBOR")
        .contains("retrying " + seed);
    assertThat(node.errLines.await("(attempt 2)", WAIT_SECONDS))
        .contains("no seed answered: [" + seed + " (cannot connect")
        .doesNotContain(wrong);
    node.errLines.await("(attempt 3)", WAIT_SECONDS);
    assertThat(node.errLines.all()).filteredOn(l -> l.contains("no retry changes")).hasSize(1);
    assertThat(node.process.isAlive()).as("still retrying the seed that is not up").isTrue();

    start("node", "--port", String.valueOf(seedPort));

    assertThat(node.lines.await("joined the network", 60))
        .isEqualTo("joined the network: 1 contact in the routing table");
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aNodeWithRetryJoinThatOthersJoinedThroughStopsRetryingThroughThem() throws Exception {
    // Its own seed never comes up, but a node joins through it: that node is its network now.
    String seed = "127.0.0.1:" + freePort();
    NodeProcess node = retryingToJoin(seed);

    start("node", "--port", "0", "--bootstrap", node.address);

    assertThat(node.lines.await("joined the network", 60))
        .isEqualTo("joined the network: 1 contact in the routing table");
    assertThat(node.errLines.await("joined", WAIT_SECONDS))
        .contains("[INFO]")
        .containsPattern("joined the network at attempt \\d+ \\(1 contact");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void sigtermWhileRetryingTheJoinClosesTheNodeGracefully() throws Exception {
    String seed = "127.0.0.1:" + freePort();
    NodeProcess node = retryingToJoin(seed);

    // SIGTERM, as Process.destroy() sends it, but leaving the pipes open: destroy() closes them
    // in this JVM, and the lines the shutdown hook writes would be lost.
    assertThat(node.process.toHandle().destroy()).isTrue();

    assertThat(node.process.waitFor(WAIT_SECONDS, TimeUnit.SECONDS)).isTrue();
    assertThat(node.process.exitValue()).as("as after any SIGTERM").isEqualTo(143);
    node.errLines.await("shut down", WAIT_SECONDS);
    assertThat(node.errLines.all())
        .noneMatch(l -> l.contains("did not close cleanly"))
        .noneMatch(l -> l.contains("Exception"))
        .noneMatch(l -> l.startsWith("kad node: "));
    assertRefused(node.address);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void nodeCommandInProcessRetryingTheJoinClosesItsNodeWhenItsThreadIsInterrupted()
      throws Exception {
    String seed = "127.0.0.1:" + freePort();
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> run =
        Cli.inBackground(
            () -> cli.execute("node", "--port", "0", "--bootstrap", seed, "--retry-join"), threads);
    String address = address(cli.out.await("listening on", WAIT_SECONDS));
    // Still retrying (the seed never starts): the attempts fail while the thread waits.
    assertThat(run).isNotDone();

    threads.get(0).interrupt();

    Cli.Run stopped = run.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(stopped.exitCode()).as(stopped.errText()).isZero();
    assertThat(stopped.err()).isEmpty();
    assertThat(stopped.outText()).doesNotContain("running");
    assertRefused(address);
  }

  /** A port nobody listens on now, chosen by the OS, for a node that starts later. */
  private static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    }
  }

  /** Asserts that nothing listens at {@code address} (HOST:PORT) any more. */
  static void assertRefused(String address) {
    String[] hostPort = address.split(":");
    assertThatThrownBy(
            () -> {
              try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 2000);
              }
            })
        .as("the node's port is released")
        .isInstanceOf(ConnectException.class);
  }

  /** The address in a {@code listening on HOST:PORT} line. */
  static String address(String line) {
    Matcher m = LISTENING.matcher(line);
    assertThat(m.find()).as(line).isTrue();
    return m.group(1);
  }

  /** Starts {@code kad args...} in a new JVM and waits until it prints that it is running. */
  /** The command line of a {@code kad} JVM on the test class path. */
  private static List<String> kadCommand(String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Xmx256m");
    command.add("-cp");
    command.add(
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path")));
    command.add(KadCli.class.getName());
    command.addAll(List.of(args));
    return command;
  }

  /** A {@code kad node --retry-join} whose seed does not answer, once it failed an attempt. */
  private NodeProcess retryingToJoin(String seed) throws IOException, InterruptedException {
    NodeProcess node = launch("node", "--port", "0", "--bootstrap", seed, "--retry-join");
    node.address = address(node.lines.await("listening on", WAIT_SECONDS));
    node.errLines.await("cannot join the network yet", WAIT_SECONDS);
    return node;
  }

  private NodeProcess start(String... args) throws IOException, InterruptedException {
    Path stderr = logs.resolve("node-" + nodes.size() + ".err");
    Process process = new ProcessBuilder(kadCommand(args)).redirectError(stderr.toFile()).start();
    NodeProcess node = new NodeProcess(process, stderr);
    nodes.add(node);
    node.awaitRunning();
    return node;
  }

  /**
   * Starts {@code kad args...} in a new JVM without waiting for it, its stderr read line by line
   * into {@link NodeProcess#errLines} rather than to a file.
   */
  private NodeProcess launch(String... args) throws IOException {
    Process process = new ProcessBuilder(kadCommand(args)).start();
    NodeProcess node = new NodeProcess(process, null);
    nodes.add(node);
    return node;
  }

  /**
   * A {@code kad node} JVM, its stdout lines and its stderr: a file, or (with no file) lines in
   * {@link #errLines}.
   */
  private static final class NodeProcess {
    final Process process;
    final Path stderr;
    final Cli.Lines lines = new Cli.Lines();
    final Cli.Lines errLines = new Cli.Lines();
    final List<String> stdout = new ArrayList<>();
    String address;

    NodeProcess(Process process, Path stderr) {
      this.process = process;
      this.stderr = stderr;
      read(process.getInputStream(), lines, "kad-node-stdout");
      if (stderr == null) {
        read(process.getErrorStream(), errLines, "kad-node-stderr");
      }
    }

    private static void read(java.io.InputStream stream, Cli.Lines into, String name) {
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                  String line;
                  while ((line = in.readLine()) != null) {
                    into.write(line + "\n");
                  }
                } catch (IOException e) {
                  // the process ended
                }
              },
              name);
      reader.setDaemon(true);
      reader.start();
    }

    void awaitRunning() throws InterruptedException, IOException {
      try {
        address = address(lines.await("listening on", WAIT_SECONDS));
        lines.await("running", WAIT_SECONDS);
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "; stderr: " + Files.readString(stderr), e);
      }
      stdout.addAll(lines.all());
    }

    void stop() throws InterruptedException {
      if (!process.isAlive()) {
        return;
      }
      process.destroy();
      if (!process.waitFor(15, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
    }
  }
}
