package dev.kad.reactor.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine calls its store from several threads, each with the instant it read from the clock, so
 * a call can come with an instant earlier than one before it (a Store request reads the clock once,
 * then checks each value's signature for about a millisecond, while the expiry job runs). What the
 * in-memory store dropped at the later instant made room for the store at the earlier one, but the
 * log holds only the store: replayed at its own instant, it was refused.
 */
class FileRecordStoreReplayOrderTest {

  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @TempDir Path dir;

  private final SplittableRandom rng = new SplittableRandom(3);
  private final NodeId alice = NodeId.random(rng);
  private final NodeId bob = NodeId.random(rng);
  private final Key key = Key.of("k");

  private FileRecordStore open(KadConfig config) throws IOException {
    return FileRecordStore.open(
        dir.resolve("node.kadstore"),
        config,
        new RecordingLogger(),
        FileRecordStore.COMPACT_AT_BYTES,
        FileRecordStore.MAX_QUEUED_BYTES);
  }

  @Test
  void aStoreAcceptedAfterAnExpiryRunThatReadTheClockLaterSurvivesAReopen() throws Exception {
    KadConfig config = KadConfig.builder().maxValuesPerKey(1).build();
    Value first = Value.of(new byte[] {1}, alice, 1, 1, T0.plusSeconds(10));
    Value second = Value.of(new byte[] {2}, bob, 1, 1, T0.plusSeconds(3600));
    RecordingLogger log;
    try (FileRecordStore s = open(config)) {
      assertThat(s.store(key, first, Instant.MAX, false, T0).accepted()).isTrue();
      // The expiry job, on the scheduler, at 10 s: the first value goes.
      assertThat(s.expire(T0.plusSeconds(10))).isEqualTo(1);
      // A Store request whose thread read the clock a moment before: the key has room now.
      assertThat(s.store(key, second, Instant.MAX, false, T0.plusMillis(9_990)).accepted())
          .isTrue();
      assertThat(s.get(key, T0.plusSeconds(11))).containsExactly(second);
    }
    try (FileRecordStore reopened = open(config)) {
      assertThat(reopened.get(key, T0.plusSeconds(11)))
          .as("the accepted store, after a clean close and reopen")
          .containsExactly(second);
    }
  }

  @Test
  void aStoreAcceptedAfterARefusedStoreThatReadTheClockLaterSurvivesAReopen() throws Exception {
    KadConfig config = KadConfig.builder().maxValuesPerKey(1).build();
    Value first = Value.of(new byte[] {1}, alice, 1, 1, T0.plusSeconds(10));
    Value second = Value.of(new byte[] {2}, bob, 1, 1, T0.plusSeconds(3600));
    Key other = Key.of("other");
    Value held = Value.of(new byte[] {3}, bob, 2, 5, T0.plusSeconds(3600));
    Value older = Value.of(new byte[] {4}, bob, 2, 4, T0.plusSeconds(3600));
    try (FileRecordStore s = open(config)) {
      assertThat(s.store(key, first, Instant.MAX, false, T0).accepted()).isTrue();
      assertThat(s.store(other, held, Instant.MAX, false, T0).accepted()).isTrue();
      // Refused (an older seq), but it drops what expired at its instant first, unlogged.
      assertThat(s.store(other, older, Instant.MAX, false, T0.plusSeconds(10)).accepted())
          .isFalse();
      assertThat(s.store(key, second, Instant.MAX, false, T0.plusMillis(9_990)).accepted())
          .isTrue();
    }
    try (FileRecordStore reopened = open(config)) {
      assertThat(reopened.get(key, T0.plusSeconds(11))).containsExactly(second);
    }
  }

  @Test
  void aRewriteAfterTheClockWentBackAcrossARestartKeepsTheValuesNotYetExpired() throws Exception {
    KadConfig config = KadConfig.defaults();
    Path file = dir.resolve("node.kadstore");
    Key other = Key.of("other");
    Instant ahead = T0.plusSeconds(3600);
    // The last run's clock was an hour ahead.
    try (FileRecordStore s = open(config)) {
      s.store(
          other,
          Value.of(new byte[] {9}, alice, 1, 1, ahead.plusSeconds(86_400)),
          Instant.MAX,
          false,
          ahead);
    }
    // Set right since; every batch rewrites the log (no record fits the queue).
    Value value = Value.of(new byte[] {1}, bob, 1, 1, T0.plusSeconds(1800));
    try (FileRecordStore s = FileRecordStore.open(file, config, new RecordingLogger(), 1, 1)) {
      assertThat(s.store(key, value, Instant.MAX, false, T0).accepted()).isTrue();
      s.flush();
      assertThat(s.get(key, T0.plusSeconds(60))).containsExactly(value);
    }
    try (FileRecordStore reopened = open(config)) {
      assertThat(reopened.get(key, T0.plusSeconds(60)))
          .as("a value accepted and not expired, after a rewrite and a reopen")
          .containsExactly(value);
    }
  }
}
