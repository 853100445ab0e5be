package dev.kad.reactor.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link FileRecordStore#open(Path, KadConfig, Instant)} drops what expired by {@code now} without
 * a record of it: a store that came with an earlier instant (a clock stepped back, a node's clock a
 * little behind the instant given to open) took the room that made, and was refused on replay. The
 * instant given to open is an instant seen since open, as the floor's comment says.
 */
class FileRecordStoreOpenFloorTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  private final SplittableRandom rng = new SplittableRandom(5);
  private final NodeId alice = NodeId.random(rng);
  private final NodeId bob = NodeId.random(rng);
  private final Key key = Key.of("k");

  @Test
  void aStoreInTheRoomOpenMadeSurvivesTheNextOpen() throws Exception {
    KadConfig config = KadConfig.builder().maxValuesPerKey(1).build();
    Path file = dir.resolve("node.kadstore");
    Value first = Value.of(new byte[] {1}, alice, 1, 1, T0.plusSeconds(180));
    Value second = Value.of(new byte[] {2}, bob, 1, 1, T0.plusSeconds(3600));
    try (FileRecordStore s = FileRecordStore.open(file, config, T0)) {
      assertThat(s.store(key, first, Instant.MAX, false, T0).accepted()).isTrue();
    }
    try (FileRecordStore s = FileRecordStore.open(file, config, T0.plusSeconds(200))) {
      assertThat(s.size()).isZero();
      // A store whose instant is a little before the one open was given: the key has room.
      assertThat(s.store(key, second, Instant.MAX, false, T0.plusSeconds(150)).accepted()).isTrue();
    }
    try (FileRecordStore reopened = FileRecordStore.open(file, config, T0.plusSeconds(210))) {
      assertThat(reopened.get(key, T0.plusSeconds(210)))
          .as("the accepted store, after a clean close and reopen")
          .containsExactly(second);
    }
  }
}
