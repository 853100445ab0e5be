package dev.kad.bench;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.reactor.store.FileRecordStore;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.reactor.store.StoreOutcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What keeping values on file costs the caller of a store: {@link FileRecordStore} (which appends
 * each accepted store to its log from a writer thread of its own, compacting as it grows) against
 * the {@link InMemoryRecordStore} it wraps. Each store replaces one of 1,000 values of 1 KiB by a
 * higher seq, so every call is accepted and logged.
 *
 * <pre>{@code
 * java -cp kad-bench/target/kad-bench.jar org.openjdk.jmh.Main RecordStore
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class RecordStoreBenchmark {

  private static final int KEYS = 1000;
  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  /** Where the values are kept: {@code memory} or {@code file}. */
  @Param({"memory", "file"})
  public String store;

  private RecordStore records;
  private Path dir;
  private Key[] keys;
  private byte[] data;
  private NodeId publisher;
  private long seq;
  private int next;

  /** Opens the store (a file store in a new temporary directory) and fills every key once. */
  @Setup
  public void setUp() throws IOException {
    KadConfig config = KadConfig.defaults();
    if (store.equals("file")) {
      dir = Files.createTempDirectory("kad-store-bench");
      records = FileRecordStore.open(dir.resolve("values"), config);
    } else {
      records = new InMemoryRecordStore(config);
    }
    SplittableRandom random = new SplittableRandom(42);
    keys = new Key[KEYS];
    for (int i = 0; i < KEYS; i++) {
      keys[i] = Key.of("key-" + i);
    }
    data = new byte[1024];
    random.nextBytes(data);
    publisher = NodeId.random(random);
    for (int i = 0; i < KEYS; i++) {
      storeNext();
    }
  }

  /**
   * Replaces the next key's value by a higher seq.
   *
   * @return the outcome, consumed by JMH
   */
  @Benchmark
  public StoreOutcome storeReplacement() {
    return storeNext();
  }

  /**
   * Reads the next key's values.
   *
   * @return the values, consumed by JMH
   */
  @Benchmark
  public List<Value> get() {
    next = (next + 1) % KEYS;
    return records.get(keys[next], START);
  }

  private StoreOutcome storeNext() {
    next = (next + 1) % KEYS;
    seq++;
    Value value = Value.of(data, publisher, 0, seq, START.plus(Duration.ofDays(1)));
    StoreOutcome outcome = records.store(keys[next], value, value.expiresAt(), false, START);
    if (!outcome.accepted()) {
      throw new IllegalStateException("store refused: " + outcome.reason());
    }
    return outcome;
  }

  /** Closes the store and deletes its directory. */
  @TearDown
  public void tearDown() throws IOException {
    if (records instanceof FileRecordStore file) {
      file.close();
      try (Stream<Path> files = Files.walk(dir)) {
        files.sorted(Comparator.reverseOrder()).forEach(RecordStoreBenchmark::delete);
      }
    }
  }

  private static void delete(Path path) {
    try {
      Files.delete(path);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
