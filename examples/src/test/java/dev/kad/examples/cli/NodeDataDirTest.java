package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.reactor.store.FileRecordStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kad node --data-dir}: a node restarted on its directory keeps its id and the values it
 * stored, and rejoins through the contacts it saved. The nodes run in-process through picocli on
 * loopback; interrupting a node's thread is its Ctrl-C.
 */
class NodeDataDirTest {

  private static final long WAIT_SECONDS = 30;

  @TempDir Path temp;

  private final List<Thread> threads = new ArrayList<>();

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Thread t : threads) {
      t.interrupt();
      t.join(TimeUnit.SECONDS.toMillis(15));
    }
  }

  /** A node command running on a thread of its own. */
  private final class Running {
    final Cli cli = new Cli();
    final Thread thread;
    final CompletableFuture<Cli.Run> run;
    final String listening;
    final String address;
    private boolean running;

    Running(String... args) throws InterruptedException {
      List<String> all = new ArrayList<>(List.of("node"));
      all.addAll(List.of(args));
      if (!all.contains("--port")) {
        all.addAll(List.of("--port", "0"));
      }
      run = Cli.inBackground(() -> cli.execute(all.toArray(String[]::new)), threads);
      thread = threads.get(threads.size() - 1);
      listening = cli.out.await("listening on", WAIT_SECONDS);
      address = NodeProcessTest.address(listening);
    }

    /** Waits for a line containing {@code text}; each line is awaited once. */
    String awaitLine(String text) throws InterruptedException {
      String line = cli.out.await(text, WAIT_SECONDS);
      running |= line.startsWith("running; ");
      return line;
    }

    /** Ctrl-C once the node runs, and the exit code 0 of a node stopped so. */
    void stop() throws Exception {
      if (!running) {
        awaitLine("running; ");
      }
      thread.interrupt();
      Cli.Run done = run.get(WAIT_SECONDS, TimeUnit.SECONDS);
      assertThat(done.exitCode()).as(done.errText()).isZero();
    }
  }

  /**
   * Runs a node on {@code dir} that joins through {@code seed}, checks it saved the seed's address
   * once joined (not only at the minute's save or the close, so that a crash keeps it), and stops
   * it: what a restart on {@code dir} finds.
   */
  private void joinAndStop(Path dir, Running seed) throws Exception {
    Running first = new Running("--data-dir", dir.toString(), "--bootstrap", seed.address);
    first.awaitLine("joined the network: 1 contact");
    first.awaitLine("running; ");
    assertThat(Files.readAllLines(dir.resolve("contacts"))).contains(seed.address);
    first.stop();
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aNodeRestartedOnItsDataDirKeepsItsIdAndTheValuesItStored() throws Exception {
    Path dir = temp.resolve("node");
    Running first = new Running("--data-dir", dir.toString());
    String id = first.listening.split(" ")[2];
    Cli.Run put = Cli.kad("put", "--bootstrap", first.address, "kept-key", "kept value");
    assertThat(put.exitCode()).as(put.errText()).isZero();
    first.stop();

    Running again = new Running("--data-dir", dir.toString());
    again.awaitLine("running");

    assertThat(again.listening).startsWith("kad node " + id + " listening on ");
    Cli.Run get = Cli.kad("get", "--bootstrap", again.address, "kept-key");
    assertThat(get.exitCode()).as(get.errText()).isZero();
    assertThat(get.out()).containsExactly("kept value");
    again.stop();
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aNodeRestartedOnItsDataDirRejoinsThroughTheContactsItSaved() throws Exception {
    Running seed = new Running();
    Path dir = temp.resolve("node");
    joinAndStop(dir, seed);

    Running again = new Running("--data-dir", dir.toString());

    assertThat(again.awaitLine("joined the network"))
        .isEqualTo(
            "joined the network: 1 contact in the routing table (through the contacts saved in "
                + dir
                + ")");
    again.stop();
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void theFirstNodeSavesTheNodesThatJoinThroughItWhileItRuns() throws Exception {
    Path dir = temp.resolve("first");
    Running first = new Running("--data-dir", dir.toString());
    first.awaitLine("running; ");
    try (WatchService watcher = dir.getFileSystem().newWatchService()) {
      dir.register(
          watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY);
      Running second = new Running("--bootstrap", first.address);
      second.awaitLine("joined the network");

      // It joins through nobody, so only its periodic save (every 5 s) keeps the newcomer
      // for a restart after a crash, before any close.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
      while (!savedContacts(dir).contains(second.address)) {
        long left = deadline - System.nanoTime();
        assertThat(left).as("contacts saved in %s within %d s", dir, WAIT_SECONDS).isPositive();
        WatchKey key = watcher.poll(left, TimeUnit.NANOSECONDS);
        if (key != null) {
          key.pollEvents();
          key.reset();
        }
      }
      assertThat(first.thread.isAlive()).isTrue();
    }
  }

  private static List<String> savedContacts(Path dir) throws IOException {
    Path file = dir.resolve("contacts");
    return Files.exists(file) ? Files.readAllLines(file) : List.of();
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aNodeWhoseSavedContactsAreGoneRunsAsTheFirstNodeOfItsNetwork() throws Exception {
    Running seed = new Running();
    Path dir = temp.resolve("node");
    joinAndStop(dir, seed);
    seed.stop();

    Running again = new Running("--data-dir", dir.toString());

    assertThat(again.awaitLine("no saved contact answered"))
        .startsWith("no saved contact answered (")
        .contains(seed.address)
        .endsWith(
            "); running as the first node of its network until others join (if the network moved"
                + " to other addresses, give --bootstrap HOST:PORT of a running node)");
    again.stop();
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void aNodeWhoseOnlyBootstrapAddressIsItsOwnRunsAsTheFirstNodeWhenItsSavedContactsAreGone()
      throws Exception {
    // Every node of a cluster is started with the same list, its own address included; the
    // whole cluster restarts, and this node is up first.
    Running seed = new Running();
    Path dir = temp.resolve("node");
    int port;
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = free.getLocalPort();
    }
    String own = "127.0.0.1:" + port;
    Running first =
        new Running(
            "--port",
            String.valueOf(port),
            "--data-dir",
            dir.toString(),
            "--bootstrap",
            own + "," + seed.address);
    first.awaitLine("joined the network");
    first.stop();
    seed.stop();

    Running again =
        new Running(
            "--port", String.valueOf(port), "--data-dir", dir.toString(), "--bootstrap", own);

    assertThat(again.awaitLine("no saved contact answered")).contains(seed.address);
    again.stop();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aSecondNodeOnTheSameDataDirFailsWithOneLine() throws Exception {
    Path dir = temp.resolve("node");
    Running first = new Running("--data-dir", dir.toString());
    first.awaitLine("running");

    Cli.Run second = Cli.kad("node", "--port", "0", "--data-dir", dir.toString());

    assertThat(second.exitCode()).isEqualTo(1);
    assertThat(second.err())
        .singleElement()
        .asString()
        .startsWith("kad node: cannot open the stored values: record store file ")
        .contains(dir.resolve("values").toString())
        .contains("in use");
    first.stop();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aRestartWithNoSavedContactSaysItRunsAloneAndHowToJoin() throws Exception {
    Path dir = temp.resolve("node");
    Running first = new Running("--data-dir", dir.toString());
    first.stop();

    Running again = new Running("--data-dir", dir.toString());

    assertThat(again.awaitLine("no contacts saved"))
        .isEqualTo(
            "no contacts saved in "
                + dir.resolve("contacts")
                + ": running as the first node of its network; give --bootstrap HOST:PORT of a"
                + " running node to join one");
    again.stop();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aRestartWhoseSavedContactsAreAllUnusableSaysSo() throws Exception {
    Path dir = temp.resolve("node");
    Running first = new Running("--data-dir", dir.toString());
    first.stop();
    Files.writeString(dir.resolve("contacts"), "127.0.0.1:0\nnot an address\n");

    Running again = new Running("--data-dir", dir.toString());

    assertThat(again.awaitLine("saved in"))
        .startsWith("no usable contact saved in " + dir.resolve("contacts") + ": ");
    again.stop();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aDirectoryInUseGetsNoIdWrittenByASecondNode() throws Exception {
    Path dir = temp.resolve("node");
    FileRecordStore held = FileRecordStore.open(dir.resolve("values"), KadConfig.defaults());
    try {
      Cli.Run second = Cli.kad("node", "--port", "0", "--data-dir", dir.toString());

      assertThat(second.exitCode()).isEqualTo(1);
      assertThat(dir.resolve("node-id")).doesNotExist();
    } finally {
      held.close();
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aStartRefusedForBadInputWritesNoIdAndLeavesTheDirectoryFree() throws Exception {
    Path dir = temp.resolve("node");

    Cli.Run retry = Cli.kad("node", "--port", "0", "--data-dir", dir.toString(), "--retry-join");
    Cli.Run tls =
        Cli.kad(
            "node",
            "--port",
            "0",
            "--data-dir",
            dir.toString(),
            "--tls-key-store",
            temp.resolve("missing.p12").toString(),
            "--tls-trust-store",
            temp.resolve("missing-ca.p12").toString(),
            "--tls-password-env",
            "KAD_TEST_NO_SUCH_VARIABLE");

    assertThat(retry.exitCode()).isEqualTo(2);
    assertThat(tls.exitCode()).isNotZero();
    assertThat(tls.errText()).doesNotContain("in use");
    assertThat(dir.resolve("node-id")).doesNotExist();
    // nothing holds the directory: a node starts on it
    new Running("--data-dir", dir.toString()).stop();
  }

  @Test
  void anEmptyDataDirIsBadUsage() {
    Cli.Run run = Cli.kad("node", "--port", "0", "--data-dir=");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .singleElement()
        .asString()
        .startsWith("kad node: --data-dir must name a directory but was ''");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void anIdOtherThanTheKeptOneFailsWithOneLine() throws Exception {
    Path dir = temp.resolve("node");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("node-id"), "00112233445566778899aabbccddeeff00112233\n");

    Cli.Run run =
        Cli.kad(
            "node",
            "--port",
            "0",
            "--data-dir",
            dir.toString(),
            "--id",
            "ffffffffffffffffffffffffffffffffffffffff");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .containsExactly(
            "kad node: --id ffffffffffffffffffffffffffffffffffffffff is not the id "
                + dir.resolve("node-id")
                + " holds (00112233445566778899aabbccddeeff00112233): leave --id out, or give"
                + " another --data-dir");
  }
}
