package dev.kad.reactor.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link FileRecordStore} under random sequences of stores (a few keys, publishers and value ids;
 * seqs, expiries and cached copies that replace, renew and get refused; a clock moving forward),
 * with a log that is compacted often and a queue that overflows: closing and reopening gives the
 * same values with the same bookkeeping.
 */
class FileRecordStoreProperties {

  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  /** One signer, made once: a key pair takes a while. */
  private static final KeyPair SIGNER = ed25519();

  private static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Property(tries = 60)
  void aReopenedStoreHoldsWhatTheClosedOneHeld(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 300) int steps,
      @ForAll @IntRange(min = 1, max = 6) int maxValuesPerKey,
      @ForAll @IntRange(min = 0, max = 2) int compaction,
      @ForAll @IntRange(min = 0, max = 2) int queue)
      throws IOException {
    SplittableRandom rng = new SplittableRandom(seed);
    KadConfig config =
        KadConfig.builder()
            .maxValueBytes(64)
            .maxValuesPerKey(maxValuesPerKey)
            .maxStoredBytes(64 + KadConfig.STORED_VALUE_OVERHEAD + 2000)
            .build();
    // Rewrites: as the defaults have it, often, or after every batch; a queue of the default
    // size, of a few records, or none (every batch a rewrite).
    long compactAt = new long[] {FileRecordStore.COMPACT_AT_BYTES, 2048, 1}[compaction];
    long maxQueued = new long[] {FileRecordStore.MAX_QUEUED_BYTES, 1024, 1}[queue];
    Key[] keys = {Key.of("a"), Key.of("b"), Key.of("c")};
    NodeId[] publishers = {NodeId.random(rng), NodeId.random(rng), NodeId.random(rng)};
    Path dir = Files.createTempDirectory("kad-store");
    Path file = dir.resolve("node.kadstore");
    try {
      List<Value> sent = new ArrayList<>();
      Instant now = START;
      List<StoredValue> before;
      int size;
      long bytes;
      try (FileRecordStore store =
          FileRecordStore.open(file, config, new RecordingLogger(), compactAt, maxQueued)) {
        int signatures = 2;
        for (int step = 0; step < steps; step++) {
          now = now.plusMillis(rng.nextInt(3000));
          Key key = keys[rng.nextInt(keys.length)];
          Value value;
          if (!sent.isEmpty() && rng.nextInt(3) == 0) {
            // The same again, renewed, or with another seq.
            Value old = sent.get(rng.nextInt(sent.size()));
            value =
                switch (rng.nextInt(3)) {
                  case 0 -> old;
                  case 1 -> old.withUpdate(old.data(), old.seq(), old.expiresAt().plusSeconds(30));
                  default ->
                      old.withUpdate(old.data(), old.seq() + rng.nextInt(3) - 1, old.expiresAt());
                };
          } else {
            byte[] data = new byte[rng.nextInt(40)];
            rng.nextBytes(data);
            value =
                Value.of(
                    data,
                    publishers[rng.nextInt(publishers.length)],
                    rng.nextInt(2),
                    rng.nextInt(4),
                    now.plusSeconds(rng.nextInt(60) - 5));
          }
          if (signatures > 0 && rng.nextInt(10) == 0) {
            signatures--;
            value = value.signedWith(key, SIGNER);
          }
          sent.add(value);
          boolean cached = rng.nextInt(3) == 0;
          Instant keepUntil = cached ? now.plusSeconds(1 + rng.nextInt(40)) : Instant.MAX;
          store.store(key, value, keepUntil, cached, now);
          if (rng.nextInt(50) == 0) {
            store.flush();
          }
        }
        before = store.entries(now);
        store.expire(now);
        size = store.size();
        bytes = store.storedBytes();
      }
      RecordingLogger log = new RecordingLogger();
      try (FileRecordStore reopened =
          FileRecordStore.open(file, config, log, compactAt, maxQueued)) {
        assertThat(reopened.entries(now))
            .as("entries at %s, seed %s", now, seed)
            .containsExactlyInAnyOrderElementsOf(before);
        reopened.expire(now);
        assertThat(reopened.size()).as("size").isEqualTo(size);
        assertThat(reopened.storedBytes()).as("storedBytes").isEqualTo(bytes);
        assertThat(log.lines).as("nothing refused or torn").isEmpty();
      }
    } finally {
      try (Stream<Path> paths = Files.walk(dir)) {
        for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }
}
