package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import dev.kad.api.KadConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code kad demo} and the one-line errors of bad input, run in-process through picocli. */
class KadCliTest {

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void demoWithEightNodesRunsEveryStepAndExitsZero() {
    Cli.Run run = Cli.kad("demo", "--nodes", "8", "--seed", "7");

    assertThat(run.exitCode()).as(run.outText() + "\n" + run.errText()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.outText())
        .contains("kad demo: 8 nodes on 127.0.0.1")
        .contains("seed 7")
        .contains("[1/8] Start 8 TCP nodes")
        .contains("[2/8] Bootstrap")
        .contains("[3/8] Put")
        .contains("[4/8] Get")
        .contains("[5/8] Watch")
        .contains("[6/8] Trace")
        .contains("[7/8] Routing tables")
        .contains("[8/8] Shut down")
        .contains("closed 8 nodes")
        .contains("demo finished: all steps succeeded")
        .doesNotContain("FAILED");
    assertThat(run.out().stream().filter(l -> l.equals("  ok") || l.startsWith("  ok (")))
        .hasSize(8);
    // the get found the put's value, the watch saw both values, the trace finished
    assertThat(run.outText())
        .containsPattern("found \"hello from node \\d+\"")
        .containsPattern("<- \"hello again from node \\d+\"")
        .containsPattern("finished +\\d+ requests; closest: node \\d+");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void demoWithTheSameSeedPicksTheSameIdsAndNodes() {
    Cli.Run first = Cli.kad("demo", "--nodes", "4", "--seed", "99");
    Cli.Run second = Cli.kad("demo", "--nodes", "4", "--seed", "99");

    assertThat(first.exitCode()).as(first.outText()).isZero();
    assertThat(second.exitCode()).as(second.outText()).isZero();
    assertThat(idsAndChoices(second)).isEqualTo(idsAndChoices(first)).isNotEmpty();
  }

  /** The lines that depend only on the seed: node ids (without ports) and who does what. */
  private static String idsAndChoices(Cli.Run run) {
    return run.out().stream()
        .filter(
            l ->
                l.matches("  node +\\d+  id .*")
                    || l.matches("  node \\d+ (puts|looks up \"|watches).*"))
        .map(l -> l.replaceAll("127\\.0\\.0\\.1:\\d+", "ADDR").replaceAll("\\(.*\\)", ""))
        .reduce("", (a, b) -> a + b + "\n");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void demoExitsWithOneAndOneErrorLineWhenAStepFails() {
    Cli.Run run = Cli.kad("demo", "--nodes", "3", "--step-timeout", "1ms");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).hasSize(1);
    assertThat(run.err().get(0)).startsWith("kad demo: step 1 (Start 3 TCP nodes) failed: ");
    assertThat(run.outText())
        .contains("FAILED")
        .contains("[8/8] Shut down")
        .endsWith("demo FAILED")
        .doesNotContain("[2/8]");
  }

  @Test
  void demoRefusesTooFewNodes() {
    Cli.Run run = Cli.kad("demo", "--nodes", "2");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .containsExactly("kad demo: --nodes must be in [3, 100] but was 2 (see 'kad demo --help')");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void demoRefusesABucketSizeOfOneNamingIt() {
    Cli.Run run = Cli.kad("demo", "--k", "1");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .containsExactly(
            "kad demo: --k must be in [2, 256] but was 1: with one contact per bucket, lookups"
                + " miss the closest nodes (see 'kad demo --help')");
    assertThat(run.out()).isEmpty();
    assertThat(Cli.kad("demo", "--k", "257").err())
        .containsExactly("kad demo: --k must be in [2, 256] but was 257 (see 'kad demo --help')");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void demoWithTheSmallestBucketSizeItTakesRunsEveryStep() {
    // With --k 1 this seed's watch never saw the value (node 14 looked it up at the wrong node).
    Cli.Run run = Cli.kad("demo", "--nodes", "20", "--k", "2", "--seed", "1");

    assertThat(run.exitCode()).as(run.outText() + "\n" + run.errText()).isZero();
    assertThat(run.outText()).contains("k=2").contains("demo finished: all steps succeeded");
  }

  @Test
  void unknownOptionIsAUsageErrorOnOneLine() {
    Cli.Run run = Cli.kad("get", "--bootstrap", "127.0.0.1:7000", "--frobnicate", "key");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .containsExactly("kad get: Unknown option: '--frobnicate' (see 'kad get --help')");
  }

  @Test
  void aMisspeltOptionIsNamedWithWhatWasMeantAheadOfWhatItLeftMissing() {
    Cli.Run alone = Cli.kad("get", "--bootstrp", "127.0.0.1:7601", "greeting");
    Cli.Run twice =
        Cli.kad("get", "--bootstrap", "127.0.0.1:1", "--bootstrp", "127.0.0.1:2", "greeting");
    Cli.Run node = Cli.kad("node", "--port", "0", "--boostrap", "127.0.0.1:7601");

    for (Cli.Run run : List.of(alone, twice)) {
      assertThat(run.exitCode()).isEqualTo(2);
      assertThat(run.err())
          .containsExactly(
              "kad get: Unknown option: '--bootstrp' (did you mean '--bootstrap'?)"
                  + " (see 'kad get --help')");
    }
    assertThat(node.exitCode()).isEqualTo(2);
    assertThat(node.err())
        .containsExactly(
            "kad node: Unknown option: '--boostrap' (did you mean '--bootstrap'?)"
                + " (see 'kad node --help')");
  }

  @Test
  void unparsableAddressIsAUsageErrorOnOneLine() {
    Cli.Run run = Cli.kad("put", "--bootstrap", "localhost", "key", "value");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).hasSize(1);
    assertThat(run.err().get(0))
        .startsWith("kad put: Invalid value for option '--bootstrap'")
        .contains("address must be HOST:PORT but was 'localhost'");
  }

  @Test
  void settingsANodeCannotHaveAreUsageErrorsNamingThem() {
    Cli.Run port = Cli.kad("node", "--port", "99999");
    assertThat(port.exitCode()).isEqualTo(2);
    assertThat(port.err()).singleElement().asString().startsWith("kad node: ").contains("99999");
    Cli.Run wildcard = Cli.kad("node", "--port", "0", "--host", "0.0.0.0");
    assertThat(wildcard.exitCode()).isEqualTo(2);
    // Named as the user typed them, not as the transport's builder calls them.
    assertThat(wildcard.err())
        .singleElement()
        .asString()
        .contains("--advertise must be set when --host is the wildcard '0.0.0.0'");
    Cli.Run undialable = Cli.kad("node", "--port", "0", "--advertise", "0.0.0.0:7000");
    assertThat(undialable.exitCode()).isEqualTo(2);
    assertThat(undialable.err())
        .singleElement()
        .asString()
        .contains("--advertise must be an address peers can dial");
  }

  @Test
  void unparsableAdvertisedAddressOfANodeIsAUsageError() {
    Cli.Run run = Cli.kad("node", "--port", "0", "--advertise", "example.org:http");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).hasSize(1);
    assertThat(run.err().get(0))
        .startsWith("kad node: Invalid value for option '--advertise'")
        .contains("numeric port");
  }

  @Test
  void aNodeIdThatIsNotFortyHexDigitsIsAUsageErrorNamingIt() {
    Cli.Run notHex = Cli.kad("node", "--port", "0", "--id", "not-an-id");
    Cli.Run tooWide = Cli.kad("node", "--port", "0", "--id", "ab".repeat(32));

    assertThat(notHex.exitCode()).isEqualTo(2);
    assertThat(notHex.err()).hasSize(1);
    // The node runs 160-bit ids: the message asks for 40 digits, not "40 or 64".
    assertThat(notHex.err().get(0))
        .startsWith(
            "kad node: Invalid value for option '--id': node id must be 40 hex digits (160-bit"
                + " ids) but was 9: 'not-an-id'");
    assertThat(tooWide.exitCode()).isEqualTo(2);
    assertThat(tooWide.err()).hasSize(1);
    assertThat(tooWide.err().get(0))
        .startsWith(
            "kad node: Invalid value for option '--id': node id must be 40 hex digits (160-bit"
                + " ids) but was 64: 'abab");
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void unreachableBootstrapNodeFailsWithOneLine() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nobody listens there
    }
    String seed = "127.0.0.1:" + port;

    Cli.Run run = Cli.kad("get", "--bootstrap", seed, "key");

    assertThat(run.exitCode()).isEqualTo(1);
    // The engine's reason for each seed, once, and no exception class names.
    assertThat(run.err())
        .singleElement()
        .asString()
        .startsWith(
            "kad get: cannot join the network: no seed answered: ["
                + seed
                + " (cannot connect to "
                + seed
                + ": ")
        // The system's words alone, on epoll too (not "finishConnect(..) failed with error").
        .endsWith(seed + ": Connection refused)]")
        .doesNotContain("Exception");
    assertThat(run.out()).isEmpty();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void aNodeWhoseSeedDoesNotAnswerExitsWithOneLineWithoutRetryJoin() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort(); // closed again: nobody listens there
    }
    String seed = "127.0.0.1:" + port;

    Cli.Run run = Cli.kad("node", "--port", "0", "--bootstrap", seed);

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .singleElement()
        .asString()
        .startsWith("kad node: cannot join the network: no seed answered: [" + seed + " (")
        .endsWith(seed + ": Connection refused)]");
    assertThat(run.outText()).contains("listening on").doesNotContain("running");
  }

  @Test
  void retryJoinWithoutABootstrapAddressOrWithAValueIsAUsageErrorNamingIt() {
    Cli.Run alone = Cli.kad("node", "--port", "0", "--retry-join");
    Cli.Run valued =
        Cli.kad("node", "--port", "0", "--bootstrap", "127.0.0.1:1", "--retry-join=maybe");

    assertThat(alone.exitCode()).isEqualTo(2);
    assertThat(alone.err())
        .containsExactly(
            "kad node: --retry-join retries joining through --bootstrap, but no --bootstrap"
                + " address was given (see 'kad node --help')");
    assertThat(alone.out()).isEmpty();
    assertThat(valued.exitCode()).isEqualTo(2);
    assertThat(valued.err())
        .singleElement()
        .asString()
        .startsWith("kad node: Invalid value for option '--retry-join'")
        .contains("'maybe'");
    assertThat(valued.out()).isEmpty();
  }

  @Test
  void valueOverTheSizeLimitIsRefusedBeforeJoining() {
    String value = "x".repeat(16 * 1024 + 1);

    // the bootstrap address is never dialed: the size is checked first
    Cli.Run run = Cli.kad("put", "--bootstrap", "127.0.0.1:1", "key", value);

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .containsExactly(
            "kad put: VALUE is 16385 bytes but values are limited to 16384 bytes"
                + " (see 'kad put --help')");
  }

  @Test
  void missingCommandIsAUsageError() {
    Cli.Run run = Cli.kad();

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).hasSize(1);
    assertThat(run.err().get(0)).startsWith("kad: Missing command");
  }

  @Test
  void anUnknownCommandIsNamedWithTheOneItLooksLikeAndTheList() {
    Cli.Run misspelt = Cli.kad("nodes", "--port", "0");
    Cli.Run unknown = Cli.kad("frobnicate");

    assertThat(misspelt.exitCode()).isEqualTo(2);
    assertThat(misspelt.err())
        .containsExactly(
            "kad: Unknown command: 'nodes' (did you mean 'node'?); the commands are demo, node,"
                + " put, get, watch, help (see 'kad --help')");
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err())
        .singleElement(STRING)
        .startsWith("kad: Unknown command: 'frobnicate'")
        .doesNotContain("did you mean");
  }

  @Test
  void badDurationIsAUsageError() {
    Cli.Run run = Cli.kad("get", "--bootstrap", "127.0.0.1:1", "--timeout", "soon", "key");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).hasSize(1);
    assertThat(run.err().get(0)).contains("duration must look like 500ms, 15s, 2m or PT15S");
  }

  @Test
  void aDurationTooLongForATimerIsAUsageErrorNamingIt() {
    // Duration.ofHours accepts it, Reactor's nanosecond timers overflow on it.
    Cli.Run hours = Cli.kad("get", "--bootstrap", "127.0.0.1:1", "--timeout", "9999999999h", "key");
    Cli.Run digits = Cli.kad("demo", "--step-timeout", "99999999999999999999s", "--nodes", "3");

    assertThat(hours.exitCode()).isEqualTo(2);
    assertThat(hours.err())
        .singleElement()
        .asString()
        .startsWith("kad get: Invalid value for option '--timeout'")
        .contains("duration must be at most 24h but was '9999999999h'");
    assertThat(digits.exitCode()).isEqualTo(2);
    assertThat(digits.err())
        .singleElement()
        .asString()
        .contains("duration must be at most 24h but was '99999999999999999999s'");
    assertThat(digits.out()).isEmpty();
  }

  @Test
  void helpListsTheCommandsAndExitsZero() {
    Cli.Run run = Cli.kad("--help");

    assertThat(run.exitCode()).isZero();
    assertThat(run.outText()).contains("demo", "node", "put", "get", "watch");
    // Every exit code a user can meet, Ctrl-C's included.
    assertThat(run.outText()).contains("2 bad input", "130 after Ctrl-C", "143 after SIGTERM");
  }

  @Test
  void watchHelpSaysTheTimeoutDoesNotEndTheWatch() {
    Cli.Run run = Cli.kad("watch", "--help");

    assertThat(run.exitCode()).isZero();
    // picocli wraps the description: compare it as one line
    assertThat(run.outText().replaceAll("\\s+", " "))
        .contains("--timeout=DURATION Bound on starting this client node, on joining and on a put")
        .contains("a watch runs until Ctrl-C or --count")
        .doesNotContain("Bound on joining and on the operation");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void demoInterruptedByCtrlCSaysSoRatherThanThatAStepFailed() {
    // Ctrl-C runs the demo's shutdown hook, which closes the nodes under the running step. Here
    // the hook's action runs as the bootstrap step begins, as the step's title is printed.
    AtomicReference<Demo> demo = new AtomicReference<>();
    Cli.Lines out =
        new Cli.Lines() {
          private final StringBuilder written = new StringBuilder();
          private boolean fired;

          @Override
          public synchronized void write(char[] buf, int off, int len) {
            super.write(buf, off, len);
            written.append(buf, off, len);
            // printf writes in pieces: look at everything written so far
            if (!fired && written.indexOf("[2/8]") >= 0) {
              fired = true;
              demo.get().interrupt();
            }
          }
        };
    Cli.Lines err = new Cli.Lines();
    demo.set(
        new Demo(
            new PrintWriter(out, true),
            new PrintWriter(err, true),
            KadConfig.builder().k(5).build(),
            4,
            3,
            Duration.ofSeconds(15)));

    int code = demo.get().run();

    String printed = String.join("\n", out.all());
    assertThat(code).as(printed).isEqualTo(130);
    assertThat(err.all()).as("no failure on stderr").isEmpty();
    assertThat(printed)
        .contains("interrupted: closing the nodes")
        .endsWith("demo interrupted")
        .doesNotContain("FAILED")
        .doesNotContain("[3/8]");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void ctrlCDuringTheFirstStepReturnsOnlyOnceTheDemoSaidItWasInterrupted() throws Exception {
    // The JVM halts as soon as the shutdown hook returns: the hook, on a thread of its own, must
    // let the demo print its last line first.
    AtomicReference<Demo> demo = new AtomicReference<>();
    AtomicReference<Thread> hook = new AtomicReference<>();
    List<String> printedWhenTheHookReturned = new java.util.concurrent.CopyOnWriteArrayList<>();
    Cli.Lines out =
        new Cli.Lines() {
          @Override
          public synchronized void write(char[] buf, int off, int len) {
            super.write(buf, off, len);
            if (hook.get() == null && all().stream().anyMatch(l -> l.contains("[1/8]"))) {
              Thread t =
                  new Thread(
                      () -> {
                        demo.get().interrupt();
                        printedWhenTheHookReturned.addAll(all());
                      });
              hook.set(t);
              t.start();
            }
          }
        };
    demo.set(
        new Demo(
            new PrintWriter(out, true),
            new PrintWriter(new Cli.Lines(), true),
            KadConfig.builder().k(5).build(),
            6,
            3,
            Duration.ofSeconds(15)));

    int code = demo.get().run();
    hook.get().join(TimeUnit.SECONDS.toMillis(30));

    assertThat(code).isEqualTo(130);
    assertThat(printedWhenTheHookReturned)
        .contains("  interrupted: closing the nodes")
        .last()
        .isEqualTo("demo interrupted");
  }
}
