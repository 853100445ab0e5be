package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code kad put} against nodes started in-process on 127.0.0.1: what it reports counts the nodes
 * that keep the value, never the short-lived client node itself.
 */
class PutCommandTest {

  private final List<KadNode> nodes = new ArrayList<>();

  @AfterEach
  void closeNodes() {
    for (KadNode node : nodes) {
      node.close().block(Duration.ofSeconds(10));
    }
  }

  private String startNode(KadConfig config) {
    return startNode(config, null);
  }

  private String startNode(KadConfig config, NodeId id) {
    KadNode node =
        RunningNode.startNode(
            config,
            "put-test-" + nodes.size(),
            id,
            "127.0.0.1",
            0,
            null,
            1,
            new SplittableRandom(nodes.size()),
            Duration.ofSeconds(30));
    nodes.add(node);
    return node.contact().address().toString();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void reportsTheNodesThatKeepTheValueNotTheClient() {
    String seed = startNode(KadConfig.defaults());

    Cli.Run run = Cli.kad("put", "--bootstrap", seed, "greeting", "hello");

    assertThat(run.exitCode()).as(run.errText()).isZero();
    assertThat(run.out()).containsExactly("stored 'greeting' at 1 of 1 nodes");
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void namesTheNodesThatDidNotAnswer() {
    String seed = startNode(KadConfig.defaults());
    String gone = startNode(KadConfig.defaults());
    KadNode leaving = nodes.get(1);
    leaving.bootstrap(List.of(Address.parse(seed))).block(Duration.ofSeconds(30));
    leaving.close().block(Duration.ofSeconds(10)); // the seed still lists it

    Cli.Run run = Cli.kad("put", "--bootstrap", seed, "greeting", "hello");

    assertThat(run.exitCode()).as(run.errText()).isZero();
    assertThat(run.out())
        .containsExactly("stored 'greeting' at 1 of 2 nodes; 1 did not answer (" + gone + ")");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void failsWithOneLineWhenNoOtherNodeStoredTheValue() {
    // The only other node takes no value over 4 bytes (its transport drops the Store), and the
    // client, in client mode, keeps no copy of its own: nobody stored it.
    String seed = startNode(KadConfig.builder().maxValueBytes(4).build());

    Cli.Run run = Cli.kad("put", "--bootstrap", seed, "greeting", "hello world");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .singleElement()
        .asString()
        .startsWith("kad put: could not store 'greeting': no node answered the stores for key ");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aPutWithTheSameIdReplacesTheValueAndOneWithoutAddsOne() {
    String seed = startNode(KadConfig.defaults());
    String id = "3f2a000000000000000000000000000000000001";

    assertThat(Cli.kad("put", "--bootstrap", seed, "--id", id, "greeting", "hello").exitCode())
        .isZero();
    assertThat(Cli.kad("put", "--bootstrap", seed, "--id", id, "greeting", "hello 2").exitCode())
        .isZero();
    Cli.Run replaced = Cli.kad("get", "--bootstrap", seed, "greeting");
    assertThat(replaced.out()).as(replaced.errText()).containsExactly("hello 2");

    // Without --id each run is a new publisher: its value goes next to the other.
    assertThat(Cli.kad("put", "--bootstrap", seed, "greeting", "hi").exitCode()).isZero();
    Cli.Run both = Cli.kad("get", "--bootstrap", seed, "greeting");
    assertThat(both.out()).as(both.errText()).containsExactlyInAnyOrder("hello 2", "hi");
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aPutUnderTheIdOfTheNodeItJoinsThroughIsStoredThereToo() {
    // Publishing as one's own node, through it: the node and the client share the id.
    String id = "3f2a000000000000000000000000000000000002";
    String seed = startNode(KadConfig.defaults(), NodeId.parse(id));

    Cli.Run run = Cli.kad("put", "--bootstrap", seed, "--id", id, "greeting", "hello");

    assertThat(run.exitCode()).as(run.errText()).isZero();
    assertThat(run.out()).containsExactly("stored 'greeting' at 1 of 1 nodes");
    assertThat(Cli.kad("get", "--bootstrap", seed, "greeting").out()).containsExactly("hello");
  }

  @Test
  void anIdThatIsNotFortyHexDigitsIsAUsageErrorNamingIt() {
    Cli.Run run = Cli.kad("put", "--bootstrap", "127.0.0.1:1", "--id", "abc", "greeting", "x");

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.errText()).contains("node id must be 40 hex digits (160-bit ids) but was 3");
  }
}
