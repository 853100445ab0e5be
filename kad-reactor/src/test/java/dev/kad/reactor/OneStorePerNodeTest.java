package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.reactor.store.FileRecordStore;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A record store serves one running node, as a transport does: the same {@link FileRecordStore}
 * given to two builders used to start both, sharing one file past its lock ("one node per file"),
 * and the second, never closed, logged an EXPIRY failure every minute once the store closed.
 */
class OneStorePerNodeTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(5).build();

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(time, 42);

  @TempDir Path dir;

  @AfterEach
  void tearDown() {
    time.dispose();
  }

  private KadNode start(dev.kad.reactor.store.RecordStore store) {
    return VirtualTime.await(
        time,
        KadNodes.builder().config(CONFIG).transport(network.newTransport()).store(store).start());
  }

  @Test
  void aSecondNodeOnARunningNodesStoreIsRefusedNamingBoth() throws Exception {
    try (FileRecordStore store = FileRecordStore.open(dir.resolve("values"), CONFIG)) {
      KadNode first = start(store);

      Throwable second = catchThrowable(() -> start(store));

      assertThat(second)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(store.toString())
          .hasMessageContaining("already serves node " + first.id().toShortHex())
          .hasMessageContaining("each node needs a store of its own");
      VirtualTime.await(time, first.close());
    }
  }

  @Test
  void aClosedNodesStoreServesTheNextNode() {
    InMemoryRecordStore store = new InMemoryRecordStore(CONFIG);
    KadNode first = start(store);
    VirtualTime.await(time, first.close());

    KadNode next = start(store);

    assertThat(next.id()).isNotEqualTo(first.id());
    VirtualTime.await(time, next.close());
  }

  @Test
  void aRefusedStartLeavesTheStoreToItsNode() {
    InMemoryRecordStore store = new InMemoryRecordStore(CONFIG);
    KadNode first = start(store);
    catchThrowable(() -> start(store));
    catchThrowable(() -> start(store));
    VirtualTime.await(time, first.close());

    KadNode next = start(store);
    VirtualTime.await(time, next.close());
  }
}
