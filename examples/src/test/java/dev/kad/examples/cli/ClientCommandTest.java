package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.RoutingTableSnapshot;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code kad put|get|watch} run client nodes: the node they join through, a full node on loopback
 * in this JVM, answers them and holds no contact for any of them once they have exited.
 */
class ClientCommandTest {

  private KadNode seed;

  @AfterEach
  void closeTheSeed() {
    if (seed != null) {
      Await.of(seed.close(), RunningNode.CLOSE_TIMEOUT, "closing the seed");
    }
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void theNodeJoinedThroughHoldsNoContactForPutGetOrWatchAfterTheyExit() {
    seed =
        RunningNode.startNode(
            KadConfig.defaults(),
            "seed",
            null,
            "127.0.0.1",
            0,
            null,
            1,
            new SplittableRandom(1),
            Duration.ofSeconds(30));
    String address = seed.contact().address().toString();

    Cli.Run put = Cli.kad("put", "--bootstrap", address, "client-key", "a value");
    Cli.Run get = Cli.kad("get", "--bootstrap", address, "client-key");
    Cli.Run watch = Cli.kad("watch", "--bootstrap", address, "client-key", "--count", "1");

    assertThat(put.exitCode()).as(put.errText()).isZero();
    assertThat(get.exitCode()).as(get.errText()).isZero();
    assertThat(get.out()).containsExactly("a value");
    assertThat(watch.exitCode()).as(watch.errText()).isZero();
    assertThat(watch.out()).containsExactly("a value");
    RoutingTableSnapshot table = seed.routingTable();
    assertThat(table.contacts()).isEmpty();
    assertThat(table.buckets()).allSatisfy(b -> assertThat(b.replacements()).isEmpty());
  }

  @Test
  void theClientCommandsRunClientNodes() {
    assertThat(new GetCommand().config.clientMode()).isTrue();
    assertThat(new PutCommand().config.clientMode()).isTrue();
    assertThat(new WatchCommand().config.clientMode()).isTrue();
  }
}
