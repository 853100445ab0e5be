package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.NodeId;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What an operator meets driving {@code kad} by hand: version flags and bad --bootstrap lists. */
class OperatorCliTest {

  private final List<Thread> threads = new ArrayList<>();

  @AfterEach
  void stopEverything() throws InterruptedException {
    for (Thread t : threads) {
      t.interrupt();
      t.join(TimeUnit.SECONDS.toMillis(15));
    }
  }

  /** Every subcommand's --help lists {@code -V, --version}: it must print the version. */
  @ParameterizedTest
  @ValueSource(strings = {"node", "put", "get", "watch", "demo"})
  void everySubcommandPrintsTheVersionItsHelpPromises(String command) {
    assertThat(Cli.kad(command, "--help").outText()).contains("-V, --version");

    Cli.Run run = Cli.kad(command, "--version");

    assertThat(run.exitCode()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(run.out()).hasSize(1).first().asString().startsWith("kad ");
    assertThat(Cli.kad(command, "-V").out()).isEqualTo(run.out());
  }

  /**
   * A seed no node can dial (port 0, a wildcard or multicast IP) is bad input like an unparsable
   * one: refused naming --bootstrap before the node binds its port, prints its id or writes its
   * data directory.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aSeedNoNodeCanDialIsRefusedNamingBootstrapBeforeTheNodeStarts(@TempDir Path tmp) {
    Path dir = tmp.resolve("data");
    Cli.Run node =
        Cli.kad("node", "--port", "0", "--data-dir", dir.toString(), "--bootstrap", "127.0.0.1:0");

    assertThat(node.exitCode()).isEqualTo(2);
    assertThat(node.err()).hasSize(1);
    assertThat(node.errText())
        .startsWith("kad node: Invalid value for option '--bootstrap'")
        .contains("127.0.0.1:0");
    assertThat(node.out()).as("nothing started").isEmpty();
    assertThat(Files.exists(dir.resolve("node-id"))).as("no id written").isFalse();

    Cli.Run get = Cli.kad("get", "--bootstrap", "0.0.0.0:7000", "key");
    assertThat(get.exitCode()).isEqualTo(2);
    assertThat(get.err()).hasSize(1);
    assertThat(get.errText())
        .startsWith("kad get: Invalid value for option '--bootstrap'")
        .contains("0.0.0.0:7000");
  }

  /**
   * {@code --bootstrap ,} (say {@code --bootstrap "$SEED1,$SEED2"} with both unset) names no
   * address. {@code --bootstrap ""} is refused; so must this be, rather than a {@code kad node}
   * starting a network of its own beside the one it was told to join.
   */
  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aBootstrapListOfOnlyCommasIsRefusedNamingBootstrap() throws Exception {
    Cli cli = new Cli();
    CompletableFuture<Cli.Run> node =
        Cli.inBackground(() -> cli.execute("node", "--port", "0", "--bootstrap", ","), threads);
    Cli.Run run;
    try {
      run = node.get(30, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("kad node --bootstrap , kept running: " + cli.out.all(), e);
    }
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).hasSize(1);
    assertThat(run.errText()).startsWith("kad node: ").contains("--bootstrap").contains("','");
    assertThat(run.out()).isEmpty();

    Cli.Run get = Cli.kad("get", "--bootstrap", ",,", "key");
    assertThat(get.exitCode()).isEqualTo(2);
    assertThat(get.err()).hasSize(1);
    assertThat(get.errText()).startsWith("kad get: ").contains("--bootstrap").contains("',,'");
  }

  /**
   * A node restarted at its address with a new id is still listed under its old id for a while
   * (README), and different nodes may return either: with both gone, {@code kad put} printed {@code
   * 3 did not answer (127.0.0.1:47103, 127.0.0.1:47103, 127.0.0.1:47106)}, the address twice, which
   * reads like a bug in the report. Each address is named once, with how many ids there did not
   * answer.
   */
  @Test
  void aPutNamesAnAddressWhereSeveralIdsDidNotAnswerOnce() {
    SplittableRandom random = new SplittableRandom(1);
    Address restarted = Address.parse("127.0.0.1:47103");
    Address other = Address.parse("127.0.0.1:47106");
    List<Contact> failed =
        List.of(
            new Contact(NodeId.random(random), restarted),
            new Contact(NodeId.random(random), restarted),
            new Contact(NodeId.random(random), other));

    assertThat(PutCommand.addresses(failed)).isEqualTo("127.0.0.1:47103 (2 ids), 127.0.0.1:47106");
  }

  /** Five addresses are named, each once, then an ellipsis. */
  @Test
  void aPutNamesAtMostFiveAddresses() {
    SplittableRandom random = new SplittableRandom(2);
    List<Contact> failed = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      failed.add(new Contact(NodeId.random(random), Address.parse("127.0.0.1:" + (47110 + i))));
    }
    failed.add(new Contact(NodeId.random(random), Address.parse("127.0.0.1:47110")));

    assertThat(PutCommand.addresses(failed))
        .isEqualTo(
            "127.0.0.1:47110 (2 ids), 127.0.0.1:47111, 127.0.0.1:47112, 127.0.0.1:47113,"
                + " 127.0.0.1:47114, …");
  }

  /** The demo's trace said "returned 1 contacts" when an answer named one contact. */
  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void theDemoTraceCountsOneContactInTheSingular() {
    Cli.Run run = Cli.kad("demo", "--nodes", "3", "--seed", "42");

    assertThat(run.exitCode()).as(run.outText()).isZero();
    assertThat(run.outText())
        .containsPattern("(?m)returned 1 contact$")
        .doesNotContain("returned 1 contacts");
  }
}
