package dev.kad.reactor.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A copy of the log taken while the writer runs (what a crash leaves) reopens to the state after
 * some prefix of the accepted stores, at least every store flushed before the copy: nothing lost
 * that was flushed, no lower seq back, nothing that never was.
 */
class FileRecordStoreCrashTest {

  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  @Test
  @Timeout(120)
  void aCopyTakenMidWriteReopensToAPrefixOfTheAcceptedStores() throws IOException {
    for (long seed = 1; seed <= 40; seed++) {
      run(seed);
    }
  }

  private static HashSet<StoredValue> live(List<StoredValue> state, Instant now) {
    HashSet<StoredValue> out = new HashSet<>();
    for (StoredValue v : state) {
      if (!v.isExpiredAt(now)) {
        out.add(v);
      }
    }
    return out;
  }

  private void run(long seed) throws IOException {
    SplittableRandom rng = new SplittableRandom(seed);
    KadConfig config =
        KadConfig.builder()
            .maxValueBytes(64)
            .maxValuesPerKey(3)
            .maxStoredBytes(64 + KadConfig.STORED_VALUE_OVERHEAD + 1200)
            .build();
    Key[] keys = {Key.of("a"), Key.of("b"), Key.of("c")};
    NodeId[] publishers = {NodeId.random(rng), NodeId.random(rng)};
    Path file = dir.resolve("s" + seed + ".kadstore");
    long compactAt = new long[] {2048, 1, FileRecordStore.COMPACT_AT_BYTES}[(int) (seed % 3)];
    long maxQueued = seed % 4 == 0 ? 1 : FileRecordStore.MAX_QUEUED_BYTES;
    // The state after each accepted store.
    List<List<StoredValue>> states = new ArrayList<>();
    states.add(List.of());
    Instant now = START;
    // The latest instant the store was called with: an expiry run may read the clock later than
    // the store after it (another thread), and what it dropped is gone.
    Instant latest = START;
    int copies = 0;
    try (FileRecordStore store =
        FileRecordStore.open(file, config, new RecordingLogger(), compactAt, maxQueued)) {
      int flushed = 0;
      for (int step = 0; step < 300; step++) {
        now = now.plusMillis(rng.nextInt(2000));
        Key key = keys[rng.nextInt(keys.length)];
        byte[] data = new byte[rng.nextInt(40)];
        rng.nextBytes(data);
        Value value =
            Value.of(
                data,
                publishers[rng.nextInt(publishers.length)],
                rng.nextInt(2),
                rng.nextInt(5),
                now.plusSeconds(rng.nextInt(90) + 1));
        boolean cached = rng.nextInt(4) == 0;
        Instant keepUntil = cached ? now.plusSeconds(1 + rng.nextInt(40)) : Instant.MAX;
        latest = now.isAfter(latest) ? now : latest;
        if (store.store(key, value, keepUntil, cached, now).accepted()) {
          states.add(store.entries(now));
        }
        if (rng.nextInt(10) == 0) {
          // The expiry job, reading the clock a little later than the store before.
          Instant expiry = now.plusMillis(rng.nextInt(1500));
          store.expire(expiry);
          latest = expiry.isAfter(latest) ? expiry : latest;
        }
        if (rng.nextInt(40) == 0) {
          store.flush();
          flushed = states.size() - 1;
        }
        if (rng.nextInt(15) == 0) {
          int upTo = states.size() - 1;
          Path copy = dir.resolve("s" + seed + "-copy" + copies++ + ".kadstore");
          try {
            Files.copy(file, copy);
          } catch (NoSuchFileException renamedMeanwhile) {
            continue;
          }
          try (FileRecordStore reopened =
              FileRecordStore.open(copy, config, new RecordingLogger(), compactAt, maxQueued)) {
            List<Integer> matching = new ArrayList<>();
            for (int i = flushed; i <= upTo; i++) {
              if (new HashSet<>(reopened.entries(latest)).equals(live(states.get(i), latest))) {
                matching.add(i);
              }
            }
            assertThat(matching)
                .as(
                    "seed %s step %s: the copy is one of the states %s..%s",
                    seed, step, flushed, upTo)
                .isNotEmpty();
          }
        }
      }
    }
  }
}
