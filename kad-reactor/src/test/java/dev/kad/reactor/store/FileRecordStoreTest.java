package dev.kad.reactor.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Marker;
import org.slf4j.event.Level;

class FileRecordStoreTest {

  private static final KadConfig CONFIG = KadConfig.defaults();

  @TempDir Path dir;

  private final SplittableRandom rng = new SplittableRandom(7);
  private final NodeId alice = NodeId.random(rng);
  private final NodeId bob = NodeId.random(rng);
  private final Key key = Key.of("k");
  private final Key other = Key.of("other");
  private final Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final Instant day = now.plus(Duration.ofDays(1));
  private final RecordingLogger log = new RecordingLogger();
  private final List<FileRecordStore> opened = new ArrayList<>();

  @AfterEach
  void closeAll() {
    opened.forEach(FileRecordStore::close);
  }

  private Path file() {
    return dir.resolve("node.kadstore");
  }

  /** Checks that a refused open names the file and says why. */
  private Consumer<RecordStoreFileException> refused(RecordStoreFileException.Reason reason) {
    return e -> {
      assertThat(e.reason()).isEqualTo(reason);
      assertThat(e.file()).isEqualTo(file().toAbsolutePath());
    };
  }

  private FileRecordStore open(KadConfig config) throws IOException {
    return open(config, FileRecordStore.COMPACT_AT_BYTES, FileRecordStore.MAX_QUEUED_BYTES);
  }

  private FileRecordStore open(KadConfig config, long compactAtBytes, long maxQueuedBytes)
      throws IOException {
    FileRecordStore s = FileRecordStore.open(file(), config, log, compactAtBytes, maxQueuedBytes);
    opened.add(s);
    return s;
  }

  private FileRecordStore open() throws IOException {
    return open(CONFIG);
  }

  private static Value value(int b, NodeId publisher, long valueId, long seq, Instant expiresAt) {
    return Value.of(new byte[] {(byte) b, 2, 3}, publisher, valueId, seq, expiresAt);
  }

  private static StoreOutcome put(RecordStore s, Key key, Value v, Instant at) {
    return s.store(key, v, Instant.MAX, false, at);
  }

  private static KeyPair ed25519() throws Exception {
    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  @Test
  void aReopenedStoreHoldsTheSameValuesWithTheirBookkeeping() throws Exception {
    KeyPair signer = ed25519();
    FileRecordStore s = open();
    assertThat(s.loadedValues()).isZero();
    put(s, key, value(1, alice, 1, 1, day), now);
    // Replaced by a higher seq.
    put(s, key, value(2, alice, 1, 2, day), now.plusSeconds(1));
    // Renewed with a later expiry.
    put(s, key, value(3, bob, 1, 1, day), now.plusSeconds(2));
    assertThat(put(s, key, value(3, bob, 1, 1, day.plusSeconds(60)), now.plusSeconds(3)))
        .isEqualTo(StoreOutcome.renewed());
    // A cached copy, kept for less than its expiry.
    assertThat(
            s.store(other, value(4, bob, 2, 1, day), now.plusSeconds(600), true, now.plusSeconds(4))
                .changed())
        .isTrue();
    // A signed value, renewed by its publisher with a new signature over its later expiry.
    Value signed = value(5, alice, 7, 3, day).signedWith(other, signer);
    put(s, other, signed, now.plusSeconds(5));
    Value resigned =
        signed.withUpdate(signed.data(), 3, day.plusSeconds(120)).signedWith(other, signer);
    assertThat(put(s, other, resigned, now.plusSeconds(6))).isEqualTo(StoreOutcome.renewed());
    Instant at = now.plusSeconds(10);
    List<StoredValue> before = s.entries(at);
    int size = s.size();
    long bytes = s.storedBytes();
    s.close();

    FileRecordStore reopened = open();
    assertThat(reopened.loadedValues()).isEqualTo(4);
    assertThat(reopened.entries(at)).containsExactlyInAnyOrderElementsOf(before);
    assertThat(reopened.get(key, at))
        .containsExactlyInAnyOrder(
            value(2, alice, 1, 2, day), value(3, bob, 1, 1, day.plusSeconds(60)));
    assertThat(reopened.get(other, at)).contains(resigned);
    Value loaded = reopened.get(other, at).stream().filter(Value::isSigned).findFirst().get();
    assertThat(loaded.signature()).isEqualTo(resigned.signature());
    assertThat(loaded.verifySignature(other)).isTrue();
    assertThat(reopened.entries(at))
        .filteredOn(StoredValue::cached)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.keepUntil()).isEqualTo(now.plusSeconds(600));
              assertThat(v.storedAt()).isEqualTo(now.plusSeconds(4));
            });
    assertThat(reopened.size()).isEqualTo(size);
    assertThat(reopened.storedBytes()).isEqualTo(bytes);
    assertThat(log.lines).noneMatch(l -> l.startsWith("WARN") || l.startsWith("ERROR"));
  }

  @Test
  void expiredValuesAreNotReturnedAfterAReopen() throws Exception {
    FileRecordStore s = open();
    put(s, key, value(1, alice, 1, 1, now.plusSeconds(30)), now);
    put(s, key, value(2, bob, 1, 1, day), now);
    s.close();

    FileRecordStore reopened = open();
    Instant later = now.plusSeconds(60);
    assertThat(reopened.get(key, later)).containsExactly(value(2, bob, 1, 1, day));
    assertThat(reopened.entries(later)).hasSize(1);
    assertThat(reopened.expire(later)).isEqualTo(1);
  }

  @Test
  void valuesExpiredByTheOpeningTimeAreNeitherCountedNorHeldAgainstTheLimits() throws Exception {
    KadConfig twoPerKey = KadConfig.builder().maxValuesPerKey(2).build();
    FileRecordStore s = open(twoPerKey);
    put(s, key, value(1, alice, 1, 1, now.plusSeconds(30)), now);
    put(s, key, value(2, bob, 1, 1, day), now);
    s.close();
    Instant later = now.plusSeconds(60);

    FileRecordStore reopened = FileRecordStore.open(file(), twoPerKey, later);
    opened.add(reopened);

    assertThat(reopened.loadedValues()).isEqualTo(1);
    assertThat(reopened.size()).isEqualTo(1);
    InMemoryRecordStore bobsAlone = new InMemoryRecordStore(twoPerKey);
    put(bobsAlone, key, value(2, bob, 1, 1, day), now);
    assertThat(reopened.storedBytes()).isEqualTo(bobsAlone.storedBytes());
    NodeId carol = NodeId.random(rng);
    assertThat(put(reopened, key, value(3, carol, 1, 1, day), later).accepted()).isTrue();
  }

  @Test
  void withoutAnOpeningTimeExpiredValuesStayUntilTheExpiryRun() throws Exception {
    FileRecordStore s = open();
    put(s, key, value(1, alice, 1, 1, now.plusSeconds(30)), now);
    s.close();

    assertThat(open().loadedValues()).isEqualTo(1);
  }

  @Test
  void aStoreUsedAfterItsCloseSaysWhichFileAndWhatOrderToCloseIn() throws Exception {
    FileRecordStore s = open();
    s.close();

    assertThatThrownBy(() -> put(s, key, value(1, alice, 1, 1, day), now))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(file().getFileName().toString())
        .hasMessageEndingWith("is closed: close the node that uses it first");
  }

  @Test
  void refusedStoresAreNotLogged() throws Exception {
    FileRecordStore s = open();
    put(s, key, value(1, alice, 1, 5, day), now);
    s.flush();
    long length = Files.size(file());
    assertThat(put(s, key, value(2, alice, 1, 4, day), now).accepted()).isFalse();
    assertThat(put(s, key, value(2, alice, 2, 1, now), now).accepted()).isFalse();
    s.flush();
    assertThat(Files.size(file())).isEqualTo(length);
  }

  @Test
  void flushWritesWhatWasAcceptedWhileTheStoreStaysOpen() throws Exception {
    FileRecordStore s = open();
    long empty = Files.size(file());
    put(s, key, value(1, alice, 1, 1, day), now);
    s.flush();
    assertThat(Files.size(file())).isGreaterThan(empty);
    // What another process would read after a crash now: the flushed record, nothing torn.
    Path copy = dir.resolve("copy.kadstore");
    Files.copy(file(), copy);
    try (FileRecordStore read = FileRecordStore.open(copy, CONFIG)) {
      assertThat(read.get(key, now)).containsExactly(value(1, alice, 1, 1, day));
    }
  }

  @Test
  void aTornTailLosesOnlyTheLastRecordAndTheFileStaysUsable() throws Exception {
    FileRecordStore s = open();
    put(s, key, value(1, alice, 1, 1, day), now);
    put(s, key, value(2, alice, 2, 1, day), now);
    put(s, key, value(3, alice, 3, 1, day), now);
    s.close();
    long length = Files.size(file());
    try (FileChannel c = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      c.truncate(length - 3);
    }

    FileRecordStore torn = open();
    assertThat(torn.get(key, now))
        .containsExactlyInAnyOrder(value(1, alice, 1, 1, day), value(2, alice, 2, 1, day));
    assertThat(log.at("WARN"))
        .singleElement()
        .satisfies(
            l -> assertThat(l).contains(file().toString()).contains("dropped").contains(" bytes"));
    put(torn, key, value(4, alice, 4, 1, day), now);
    torn.close();

    log.lines.clear();
    FileRecordStore again = open();
    assertThat(again.get(key, now)).hasSize(3).contains(value(4, alice, 4, 1, day));
    assertThat(log.at("WARN")).isEmpty();
  }

  @Test
  void damageBeforeTheEndKeepsTheRecordsBeforeItAndACopyOfTheFileAsItWas() throws Exception {
    FileRecordStore s = open();
    for (int i = 0; i < 40; i++) {
      put(s, key, value(i % 8, alice, i, 1, day), now.plusSeconds(i));
    }
    s.close();
    byte[] before = Files.readAllBytes(file());
    int middle = before.length / 2;
    try (FileChannel c = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      c.write(ByteBuffer.allocate(64), middle);
    }
    byte[] damaged = Files.readAllBytes(file());

    FileRecordStore reopened = open();

    assertThat(reopened.loadedValues()).isPositive().isLessThan(40);
    assertThat(log.at("WARN"))
        .singleElement()
        .asString()
        .contains(file().toString())
        .contains("damaged at offset")
        .contains("copied to");
    try (var copies = Files.list(dir)) {
      List<Path> kept =
          copies.filter(p -> p.getFileName().toString().contains(".damaged-")).toList();
      assertThat(kept).singleElement();
      assertThat(Files.readAllBytes(kept.get(0))).isEqualTo(damaged);
    }
    assertThat(Files.size(file())).isLessThanOrEqualTo(middle);
  }

  @Test
  void garbageAfterTheLastRecordIsCutOffAndNothingBeforeItIsLost() throws Exception {
    FileRecordStore s = open();
    put(s, key, value(1, alice, 1, 1, day), now);
    put(s, key, value(2, alice, 2, 1, day), now);
    s.close();
    long length = Files.size(file());
    byte[] garbage = new byte[37];
    rng.nextBytes(garbage);
    Files.write(file(), garbage, StandardOpenOption.APPEND);

    FileRecordStore reopened = open();
    assertThat(reopened.get(key, now)).hasSize(2);
    assertThat(Files.size(file())).isEqualTo(length);
    assertThat(log.at("WARN"))
        .singleElement()
        .satisfies(l -> assertThat(l).contains(file().toString()).contains("dropped 37 bytes"));
  }

  @Test
  void aLastRecordWithABadChecksumIsDropped() throws Exception {
    FileRecordStore s = open();
    put(s, key, value(1, alice, 1, 1, day), now);
    put(s, key, value(2, alice, 2, 1, day), now);
    s.close();
    long length = Files.size(file());
    try (FileChannel c =
        FileChannel.open(file(), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(1);
      c.read(b, length - 2);
      b.put(0, (byte) (b.get(0) ^ 0x5a)).rewind();
      c.write(b, length - 2);
    }

    FileRecordStore reopened = open();
    assertThat(reopened.get(key, now)).containsExactly(value(1, alice, 1, 1, day));
    assertThat(log.at("WARN")).singleElement().asString().contains(file().toString());
  }

  @Test
  void storesRefusedOnLoadingUnderLowerLimitsAreCountedInOneWarning() throws Exception {
    FileRecordStore s = open();
    for (int i = 0; i < 5; i++) {
      put(s, key, value(i, alice, i, 1, day), now);
    }
    s.close();

    FileRecordStore smaller = open(CONFIG.toBuilder().maxValuesPerKey(3).build());
    assertThat(smaller.loadedValues()).isEqualTo(3);
    assertThat(log.at("WARN"))
        .singleElement()
        .asString()
        .contains(file().toString())
        .contains("2 of 5 records were refused")
        .contains("maxValuesPerKey");
  }

  @Test
  void aFileWithAnotherMagicFailsToOpenNamingTheFile() throws Exception {
    Files.write(file(), "not a kad store at all".getBytes());
    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            RecordStoreFileException.class, refused(RecordStoreFileException.Reason.NOT_A_STORE))
        .hasMessageContaining(file().toString())
        .hasMessageContaining("is not a kad record store");
    // The failed open released the lock.
    Files.delete(file());
    assertThat(open().loadedValues()).isZero();
  }

  @Test
  void aFileOfAnotherFormatVersionFailsToOpen() throws Exception {
    open().close();
    try (FileChannel c = FileChannel.open(file(), StandardOpenOption.WRITE)) {
      c.write(ByteBuffer.allocate(4).putInt(0, 99), 8);
    }
    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            RecordStoreFileException.class, refused(RecordStoreFileException.Reason.INCOMPATIBLE))
        .hasMessageContaining(file().toString())
        .hasMessageContaining("format version 99");
  }

  @Test
  void aFileOfAnotherIdWidthFailsToOpen() throws Exception {
    open().close();
    assertThatThrownBy(() -> open(CONFIG.toBuilder().idBits(256).build()))
        .isInstanceOfSatisfying(
            RecordStoreFileException.class, refused(RecordStoreFileException.Reason.INCOMPATIBLE))
        .hasMessageContaining(file().toString())
        .hasMessageContaining("ids of 160 bits but the node's idBits is 256");
  }

  @Test
  void aFileTooShortForAHeaderFailsToOpen() throws Exception {
    Files.write(file(), new byte[] {1, 2, 3});
    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            RecordStoreFileException.class, refused(RecordStoreFileException.Reason.NOT_A_STORE))
        .hasMessageContaining(file().toString())
        .hasMessageContaining("shorter than the header");
  }

  @Test
  void aSymbolicLinkToAnOpenStoreFileIsTheSameFileInUse() throws Exception {
    FileRecordStore first = open();
    Path link = Files.createSymbolicLink(dir.resolve("link.kadstore"), file());
    Path linkedDir = Files.createSymbolicLink(dir.resolve("linked-dir"), dir);

    for (Path other : List.of(link, linkedDir.resolve(file().getFileName()))) {
      assertThatThrownBy(() -> FileRecordStore.open(other, CONFIG))
          .isInstanceOfSatisfying(
              RecordStoreFileException.class,
              e -> assertThat(e.reason()).isEqualTo(RecordStoreFileException.Reason.IN_USE));
    }
    put(first, key, value(1, alice, 1, 1, day), now);
    first.close();

    // Opened through the link, the store writes the file the link names, and a rewrite (every
    // batch is one when no record fits the queue) replaces that file, not the link.
    try (FileRecordStore viaLink =
        FileRecordStore.open(link, CONFIG, log, FileRecordStore.COMPACT_AT_BYTES, 1)) {
      assertThat(viaLink.file()).isEqualTo(file().toRealPath());
      assertThat(viaLink.loadedValues()).isEqualTo(1);
      put(viaLink, key, value(2, alice, 2, 1, day), now);
    }
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(open().loadedValues()).isEqualTo(2);
  }

  @Test
  void aSecondOpenOfTheSameFileFailsWhileTheFirstIsOpen() throws Exception {
    FileRecordStore first = open();
    assertThatThrownBy(this::open)
        .isInstanceOfSatisfying(
            RecordStoreFileException.class, refused(RecordStoreFileException.Reason.IN_USE))
        .hasMessageContaining(file().toString())
        .hasMessageContaining("in use");
    put(first, key, value(1, alice, 1, 1, day), now);
    first.close();
    assertThat(open().loadedValues()).isEqualTo(1);
  }

  @Test
  void closeIsIdempotentAndTheStoreRefusesUseAfterIt() throws Exception {
    FileRecordStore s = open();
    s.close();
    s.close();
    s.flush();
    assertThatThrownBy(() -> put(s, key, value(1, alice, 1, 1, day), now))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(file().toString());
    assertThatThrownBy(() -> s.get(key, now))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(file().toString())
        .hasMessageContaining("closed");
  }

  @Test
  void manyReplacementsAreCompactedAwayAndTheStateSurvives() throws Exception {
    long compactAt = 64 * 1024;
    FileRecordStore s = open(CONFIG, compactAt, FileRecordStore.MAX_QUEUED_BYTES);
    Instant at = now;
    for (int seq = 1; seq <= 2000; seq++) {
      at = at.plusMillis(10);
      for (int id = 0; id < 5; id++) {
        Value v = Value.of(new byte[200], alice, id, seq, day);
        assertThat(put(s, key, v, at).changed()).isTrue();
      }
      if (seq % 500 == 0) {
        s.flush();
      }
    }
    s.flush();
    // 10,000 records of over 300 bytes were written; the log holds about the 5 live ones.
    assertThat(Files.size(file())).isLessThan(2 * compactAt);
    List<StoredValue> before = s.entries(at);
    s.close();
    assertThat(Files.size(file())).isLessThan(2 * compactAt);
    assertThat(dir.resolve("node.kadstore.compact")).doesNotExist();

    FileRecordStore reopened = open(CONFIG, compactAt, FileRecordStore.MAX_QUEUED_BYTES);
    assertThat(reopened.entries(at)).containsExactlyInAnyOrderElementsOf(before);
    assertThat(reopened.get(key, at)).allSatisfy(v -> assertThat(v.seq()).isEqualTo(2000));
    assertThat(log.at("WARN")).isEmpty();
  }

  @Test
  void aWriterFarBehindRewritesTheLogFromTheStoreInsteadOfQueueing() throws Exception {
    // No record fits the queue: every batch is a rewrite of the whole store.
    FileRecordStore s = open(CONFIG, FileRecordStore.COMPACT_AT_BYTES, 1);
    for (int i = 0; i < 50; i++) {
      put(s, i % 2 == 0 ? key : other, value(i, alice, i % 7, i, day), now.plusSeconds(i));
    }
    List<StoredValue> before = s.entries(now.plusSeconds(50));
    s.close();

    FileRecordStore reopened = open();
    assertThat(reopened.entries(now.plusSeconds(50))).containsExactlyInAnyOrderElementsOf(before);
    assertThat(log.at("WARN")).isEmpty();
  }

  @Test
  void aWriteErrorIsLoggedOnceTheStoreKeepsServingAndTheWriterRetries() throws Exception {
    // Every batch is a rewrite (no record fits the queue), and a directory where the rewrite's
    // temporary file goes makes each one fail, as a full disk would.
    FileRecordStore s = open(CONFIG, FileRecordStore.COMPACT_AT_BYTES, 1);
    Path obstacle = dir.resolve("node.kadstore.compact");
    Files.createDirectories(obstacle.resolve("inside"));
    for (int i = 0; i < 3; i++) {
      assertThat(put(s, key, value(i, alice, i, 1, day), now).accepted()).isTrue();
      assertThatThrownBy(s::flush)
          .isInstanceOf(java.io.UncheckedIOException.class)
          .hasMessageContaining(file().toString());
    }
    assertThat(s.get(key, now)).hasSize(3);
    assertThat(log.at("ERROR"))
        .singleElement()
        .asString()
        .contains(file().toString())
        .contains("cannot write");
    assertThat(s.writeFailure()).hasValueSatisfying(f -> assertThat(f).contains("compact"));

    Files.delete(obstacle.resolve("inside"));
    // A retry may beat us to it: a failed rewrite deletes its temporary file.
    Files.deleteIfExists(obstacle);
    put(s, key, value(3, alice, 3, 1, day), now);
    s.flush();
    assertThat(log.at("INFO")).singleElement().asString().contains("writing again");
    assertThat(s.writeFailure()).isEmpty();
    s.close();

    FileRecordStore reopened = open();
    assertThat(reopened.get(key, now)).hasSize(4);
  }

  @Test
  void closeDoesNotHangWhileWritesFail() throws Exception {
    FileRecordStore s = open(CONFIG, FileRecordStore.COMPACT_AT_BYTES, 1);
    Files.createDirectories(dir.resolve("node.kadstore.compact").resolve("inside"));
    put(s, key, value(1, alice, 1, 1, day), now);
    s.close();
    assertThat(log.at("ERROR"))
        .last()
        .asString()
        .contains("closed without writing the stores accepted since its last successful write");
    // The lock is released: the file opens again, without what could not be written.
    assertThat(open().loadedValues()).isZero();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS) // a dead writer made flush() wait forever
  void anErrorInTheMiddleOfAWriteIsAFailedWriteTheWriterOutlives() throws Exception {
    // The rewrite's DEBUG line runs out of memory once: an Error on the writer thread.
    AtomicBoolean thrown = new AtomicBoolean();
    RecordingLogger failingOnce =
        new RecordingLogger() {
          private static final long serialVersionUID = 1L;

          @Override
          protected void handleNormalizedLoggingCall(
              Level level, Marker marker, String pattern, Object[] args, Throwable t) {
            if (level == Level.DEBUG && thrown.compareAndSet(false, true)) {
              throw new OutOfMemoryError("injected");
            }
            super.handleNormalizedLoggingCall(level, marker, pattern, args, t);
          }
        };
    // No record fits the queue: every batch is a rewrite, which logs at DEBUG.
    FileRecordStore s = FileRecordStore.open(file(), CONFIG, failingOnce, 1 << 20, 1);
    opened.add(s);
    put(s, key, value(1, alice, 1, 1, day), now);
    assertThatThrownBy(s::flush).isInstanceOf(java.io.UncheckedIOException.class);
    assertThat(s.writeFailure()).hasValueSatisfying(f -> assertThat(f).contains("injected"));

    put(s, key, value(2, alice, 2, 1, day), now);
    s.flush(); // the writer is alive: this write succeeds
    assertThat(s.writeFailure()).isEmpty();
    s.close();
    assertThat(open().get(key, now))
        .containsExactlyInAnyOrder(value(1, alice, 1, 1, day), value(2, alice, 2, 1, day));
  }

  @Test
  void aLogThatOutgrewItsValuesIsRewrittenWhenOpened() throws Exception {
    // Rewritten only past 1 MiB: 300 replacements of one value leave a log of 300 records.
    FileRecordStore s = open(CONFIG, 1 << 20, FileRecordStore.MAX_QUEUED_BYTES);
    for (int i = 1; i <= 300; i++) {
      put(s, key, value(i, alice, 1, i, day), now);
    }
    s.close();
    long grown = Files.size(file());

    // Reopened with a bound below that: its live value is one record, so the log is rewritten.
    FileRecordStore reopened = open(CONFIG, 1024, FileRecordStore.MAX_QUEUED_BYTES);
    put(reopened, other, value(1, alice, 2, 1, day), now);
    reopened.flush(); // waits for that store, which the rewrite holds

    assertThat(Files.size(file())).isLessThan(grown / 50);
    assertThat(reopened.get(key, now)).containsExactly(value(300, alice, 1, 300, day));
  }

  @Test
  void aDirectoryWhereTheFileShouldBeFailsToOpenLeavingNoLockFile() throws Exception {
    Files.createDirectories(file());

    assertThatThrownBy(() -> FileRecordStore.open(file(), CONFIG))
        .isInstanceOfSatisfying(
            RecordStoreFileException.class, refused(RecordStoreFileException.Reason.DIRECTORY))
        .hasMessage("record store file " + file() + " is a directory");
    assertThat(file().resolveSibling(file().getFileName() + ".lock")).doesNotExist();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aCloseFromAnInterruptedThreadLeavesTheFileFreeOnceTheWriterEnds() throws Exception {
    List<Thread> before = writers();
    FileRecordStore s = open();
    put(s, key, value(1, alice, 1, 1, day), now);
    List<Thread> ours = new ArrayList<>(writers());
    ours.removeAll(before);

    Thread.currentThread().interrupt(); // close() cannot wait for its writer
    try {
      s.close();
    } finally {
      Thread.interrupted();
    }
    for (Thread writer : ours) {
      writer.join(TimeUnit.SECONDS.toMillis(20));
    }

    assertThat(open().loadedValues()).isLessThanOrEqualTo(1); // the file opens: not locked
  }

  private static List<Thread> writers() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("kad-store-writer") && t.isAlive())
        .toList();
  }

  @Test
  void aMissingDirectoryIsCreated() throws Exception {
    Path nested = dir.resolve("a/b/node.kadstore");
    try (FileRecordStore s = FileRecordStore.open(nested, CONFIG)) {
      put(s, key, value(1, alice, 1, 1, day), now);
    }
    try (FileRecordStore s = FileRecordStore.open(nested, CONFIG)) {
      assertThat(s.loadedValues()).isEqualTo(1);
    }
  }
}
