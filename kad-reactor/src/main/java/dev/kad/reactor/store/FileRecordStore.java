package dev.kad.reactor.store;

import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link RecordStore} that survives restarts: an {@link InMemoryRecordStore} keeps every rule
 * (limits, seq replacement, renewals, expiry) and answers every read, and each store it accepts is
 * appended to a log file by a writer thread of its own, so that the caller never waits for the
 * disk. Opening the file replays the log through a fresh in-memory store.
 *
 * <pre>{@code
 * FileRecordStore store = FileRecordStore.open(Path.of("data/node-1.kadstore"), config);
 * Mono<KadNode> started = KadNodes.builder().config(config).store(store).transport(transport).start();
 * // ... and when the application stops, the store closes after the node that started emitted,
 * // so that it writes what the node stored last:
 * Mono<Void> stopped = node.close().doFinally(signal -> store.close());
 * }</pre>
 *
 * <p>The writer forces the file to disk at most about once a second: a crash loses about the last
 * second of accepted stores (more while the writer is behind: what came since the last finished
 * rewrite, past 8 MiB of queued records or while a rewrite runs), a {@link #close()} nothing. A
 * crash in the middle of a record leaves a torn tail, which the next open cuts off at the last
 * whole record (one WARN line). When the log grows past twice what it holds live (and a few MiB)
 * the writer rewrites it from the store's values into a temporary file and renames that over the
 * log. A write error (a full disk) is logged once at ERROR; the store keeps serving from memory and
 * the writer retries, rewriting the whole log, about once a second. A sibling {@code .lock} file,
 * locked while the store is open, keeps a second store (of this or another process) off the same
 * file.
 *
 * <p>File layout: a header of magic, format version and id width, then records of {@code int}
 * length, {@code int} CRC32 of the payload, and the payload: the arguments of one accepted {@link
 * #store} call, {@code now} included.
 */
public final class FileRecordStore implements RecordStore, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(FileRecordStore.class);

  /** "KADSTORE". */
  private static final long MAGIC = 0x4B414453544F5245L;

  private static final int VERSION = 1;
  private static final int HEADER_BYTES = 8 + 4 + 4;
  private static final int RECORD_HEADER_BYTES = 4 + 4;

  /** The smallest payload: every field present, ids of 160 bits, no signature, no data. */
  private static final int MIN_PAYLOAD = 1 + 12 + 12 + 1 + 20 + 1 + 20 + 8 + 8 + 12 + 1 + 1 + 4;

  /** The largest payload: the largest frame's data with every other field at its widest. */
  private static final int MAX_PAYLOAD =
      MIN_PAYLOAD + 12 + 12 + Value.PUBLIC_KEY_BYTES + Value.SIGNATURE_BYTES + 64 * 1024 * 1024;

  private static final int CACHED = 1;

  /** The log is never rewritten while smaller than this, whatever it holds. */
  static final long COMPACT_AT_BYTES = 4L * 1024 * 1024;

  /** Records queued beyond this are not kept: the writer rewrites the log from the store. */
  static final long MAX_QUEUED_BYTES = 8L * 1024 * 1024;

  /** The most bytes {@link #wholeRecordAfter} checksums before it calls the tail damaged. */
  private static final long MAX_SCAN_BYTES = 64L * 1024 * 1024;

  private static final long FORCE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long MAX_RETRY_NANOS = TimeUnit.SECONDS.toNanos(30);
  private static final long CLOSE_WAIT_MILLIS = 10_000;

  /**
   * The longest {@link #close()} takes: it waits for its writer twice {@code CLOSE_WAIT_MILLIS}
   * (finishing, then after an interrupt) before it gives up on it.
   */
  public static final Duration CLOSE_TIMEOUT = Duration.ofMillis(2 * CLOSE_WAIT_MILLIS);

  private final Path file;
  private final Path lockFile;
  private final KadConfig config;
  private final Logger log;
  private final long compactAtBytes;
  private final long maxQueuedBytes;
  private final InMemoryRecordStore delegate;
  private final int loadedValues;
  private final FileChannel lockChannel;
  private final FileLock fileLock;
  private final Thread writer;

  /**
   * Guards the queue and the counters below; a store holds it across the delegate's call and the
   * enqueueing, so that the log's order is the order in which the delegate accepted the stores.
   */
  private final Object lock = new Object();

  private final ArrayDeque<byte[]> queue = new ArrayDeque<>();
  private long queuedBytes;

  /** Whether the log must be rewritten from the store: records were not queued, or not written. */
  private boolean rewriteNeeded;

  /** Stores accepted since open; every one is queued, written, or awaits a rewrite. */
  private long accepted;

  /** How many of the accepted stores are forced to disk. */
  private long durable;

  /** Up to which accepted store a flush waits. */
  private long flushTarget;

  /** Failed write attempts, for a flush to tell that the attempt it asked for failed. */
  private long failures;

  private Throwable lastFailure;

  /** Set when the writer thread ended: at close, or (a bug, an Error) before it. */
  private boolean writerStopped;

  /** Set once the file's lock is released. */
  private boolean lockReleased;

  /** The failure of the last write attempt while writes fail; null once one succeeds. */
  private volatile String writeFailure;

  /**
   * The latest instant a store or an expiry run was called with since open (or open itself, given
   * one): no store goes back before it (see {@link #store}), and a rewrite keeps the values not
   * expired at it. Not the latest instant in the log: after a clock set back across a restart, that
   * one dropped from a rewrite values that had not expired yet.
   */
  private Instant floor = Instant.MIN;

  private volatile boolean closed;

  /** The log, open for appending; the writer's alone once it runs. */
  private FileChannel out;

  private long fileBytes;
  private long compactedBytes;

  private FileRecordStore(
      Path file,
      KadConfig config,
      Logger log,
      long compactAtBytes,
      long maxQueuedBytes,
      FileChannel lockChannel,
      FileLock fileLock,
      Instant now)
      throws IOException {
    this.file = file;
    this.lockFile = lockFileOf(file);
    this.config = config;
    this.log = log;
    this.compactAtBytes = compactAtBytes;
    this.maxQueuedBytes = maxQueuedBytes;
    this.lockChannel = lockChannel;
    this.fileLock = fileLock;
    this.delegate = new InMemoryRecordStore(config);
    this.loadedValues = load(now);
    // What the log would be rewritten to, not what it is: a log restarted before it doubled must
    // not double its bound at each open.
    this.compactedBytes = Math.min(fileBytes, delegate.storedBytes());
    this.rewriteNeeded = fileBytes > compactThreshold();
    try {
      this.writer = new Thread(this::writeLoop, "kad-store-writer");
    } catch (Throwable e) {
      out.close(); // opened by load(); open() closes the lock
      throw e;
    }
    this.writer.setDaemon(true);
  }

  /**
   * Opens (creating if missing, with its directories) the store at {@code file}, locks it, and
   * loads what it holds.
   *
   * @param file the log file; a sibling {@code <file>.lock} is created and locked beside it
   * @param config the node's configuration: its limits, and its id width, which must be the file's
   * @return the open store, holding every value the file held, expired or not: the node's expiry
   *     job drops the expired ones, and until then reads leave them out; {@link #open(Path,
   *     KadConfig, Instant)} drops them at once
   * @throws RecordStoreFileException when the file is in use by another open store, is a directory,
   *     or is not a store of this format and id width
   * @throws IOException when the file cannot be read or created
   * @throws NullPointerException when an argument is null
   */
  public static FileRecordStore open(Path file, KadConfig config) throws IOException {
    try {
      return open(file, config, LOG, COMPACT_AT_BYTES, MAX_QUEUED_BYTES, null);
    } catch (IOException e) {
      throw named(e, file.toAbsolutePath());
    }
  }

  /**
   * {@link #open(Path, KadConfig)}, without the values that expired by {@code now} (while no node
   * ran on the file, say): they are not counted by {@link #loadedValues()}, {@link #size()} or
   * {@link #storedBytes()}, nor against the store's limits. A node on real time opens its store
   * with {@code Instant.now()}.
   *
   * @param file the log file; a sibling {@code <file>.lock} is created and locked beside it
   * @param config the node's configuration: its limits, and its id width, which must be the file's
   * @param now the time of the node that will use the store
   * @return the open store, holding the values the file held that have not expired by {@code now}
   * @throws RecordStoreFileException when the file is in use by another open store, is a directory,
   *     or is not a store of this format and id width
   * @throws IOException when the file cannot be read or created
   * @throws NullPointerException when an argument is null
   */
  public static FileRecordStore open(Path file, KadConfig config, Instant now) throws IOException {
    Objects.requireNonNull(now, "now");
    try {
      return open(file, config, LOG, COMPACT_AT_BYTES, MAX_QUEUED_BYTES, now);
    } catch (IOException e) {
      throw named(e, file.toAbsolutePath());
    }
  }

  /**
   * {@code e}, or when its message does not name the file (the JDK's "Is a directory") an exception
   * whose message does, so that whoever reports it says which file failed.
   */
  private static IOException named(IOException e, Path file) {
    String message = e.getMessage();
    if (e instanceof RecordStoreFileException
        || message != null && message.contains(file.toString())) {
      return e;
    }
    String what = message == null ? e.getClass().getSimpleName() : message;
    return new IOException("cannot open record store file " + file + ": " + what, e);
  }

  /** {@link #open(Path, KadConfig)} with its logger and thresholds chosen, for the tests. */
  static FileRecordStore open(
      Path file, KadConfig config, Logger log, long compactAtBytes, long maxQueuedBytes)
      throws IOException {
    return open(file, config, log, compactAtBytes, maxQueuedBytes, null);
  }

  /**
   * The store at {@code file}, with the values expired by {@code now} dropped unless it is null.
   */
  private static FileRecordStore open(
      Path file,
      KadConfig config,
      Logger log,
      long compactAtBytes,
      long maxQueuedBytes,
      Instant now)
      throws IOException {
    Objects.requireNonNull(file, "file");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(log, "log");
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    // The file by its real name: reached through a symbolic link (to it, or to a directory above
    // it), a second store took a lock file of another name and wrote the same log, and a rewrite
    // renamed over the link replaced the link instead of the file.
    Path absolute =
        Files.exists(file)
            ? file.toRealPath()
            : dir == null ? file.toAbsolutePath() : dir.toRealPath().resolve(file.getFileName());
    if (Files.isDirectory(absolute)) {
      // Said before the lock file is made beside it, which would be left behind.
      throw new RecordStoreFileException(
          absolute,
          RecordStoreFileException.Reason.DIRECTORY,
          "record store file " + absolute + " is a directory");
    }
    Path lockFile = lockFileOf(absolute);
    FileChannel lockChannel =
        FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock fileLock;
    try {
      fileLock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      fileLock = null;
    } catch (IOException | RuntimeException e) {
      lockChannel.close();
      throw e;
    }
    if (fileLock == null) {
      lockChannel.close();
      throw new RecordStoreFileException(
          absolute,
          RecordStoreFileException.Reason.IN_USE,
          "record store file " + absolute + " is in use by another open store (" + lockFile + ")");
    }
    FileRecordStore store = null;
    boolean started = false;
    try {
      store =
          new FileRecordStore(
              absolute, config, log, compactAtBytes, maxQueuedBytes, lockChannel, fileLock, now);
      store.writer.start();
      started = true;
      return store;
    } finally {
      if (!started) {
        // An Error too (out of memory replaying a large log): a retry must find the file free.
        if (store != null) {
          store.out.close();
        }
        lockChannel.close();
      }
    }
  }

  private static Path lockFileOf(Path file) {
    return file.resolveSibling(file.getFileName() + ".lock");
  }

  /**
   * The number of values held after loading the file, before any new store.
   *
   * @return the count
   */
  public int loadedValues() {
    return loadedValues;
  }

  /**
   * Why the store cannot write its file, while it cannot: the last write attempt's failure (a full
   * disk, say), until an attempt succeeds. Meanwhile the store serves from memory and what it
   * accepts would be lost by a crash or a restart; a health check reports it.
   *
   * @return the failure, or empty while writes succeed
   */
  public Optional<String> writeFailure() {
    return Optional.ofNullable(writeFailure);
  }

  /**
   * The file the store keeps its log in.
   *
   * @return its real path: absolute, with symbolic links to it or above it resolved
   */
  public Path file() {
    return file;
  }

  /**
   * Writes every store accepted so far and forces it to disk. It blocks until then: not for an
   * event loop or the node's scheduler; for tests and shutdown. Does nothing once closed.
   *
   * @throws UncheckedIOException when the write it waited for failed
   * @throws IllegalStateException when interrupted while waiting
   */
  public void flush() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      long target = accepted;
      long failuresBefore = failures;
      flushTarget = Math.max(flushTarget, target);
      lock.notifyAll();
      while (durable < target) {
        if (failures != failuresBefore || writerStopped) {
          throw new UncheckedIOException(
              "could not write record store file " + file,
              lastFailure instanceof IOException io ? io : new IOException(lastFailure));
        }
        try {
          lock.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("interrupted flushing record store file " + file, e);
        }
      }
    }
  }

  /**
   * Writes and forces every store accepted so far, stops the writer and releases the file. A write
   * that fails here is logged, not thrown; a writer stuck on the disk is given up within {@link
   * #CLOSE_TIMEOUT}. Calling it again does nothing; a store or read afterwards throws {@link
   * IllegalStateException}.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      lock.notifyAll();
    }
    boolean interrupted = false;
    try {
      writer.join(CLOSE_WAIT_MILLIS);
      if (writer.isAlive()) {
        log.error(
            "record store file {}: the writer did not finish within {} ms; stores not yet"
                + " written are lost",
            file,
            CLOSE_WAIT_MILLIS);
        writer.interrupt();
        writer.join(CLOSE_WAIT_MILLIS);
      }
    } catch (InterruptedException e) {
      interrupted = true;
      writer.interrupt();
    }
    if (writer.isAlive()) {
      // Still in a write or a rename: a new owner of the file could have it replaced under it. The
      // writer releases the lock when it ends.
      log.error(
          "record store file {}: the writer is still running; {} stays locked until it ends",
          file,
          lockFile);
    } else {
      releaseLock();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Releases the file's lock once: by close(), or by the writer ending after close() gave up. */
  private void releaseLock() {
    synchronized (lock) {
      if (lockReleased) {
        return;
      }
      lockReleased = true;
    }
    try {
      fileLock.release();
      lockChannel.close();
    } catch (IOException e) {
      log.warn("record store file {}: could not release {}: {}", file, lockFile, e.toString());
    }
  }

  @Override
  public StoreOutcome store(Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
    // Verified before the lock: a signature takes about a millisecond, and every caller waits on
    // the lock.
    Optional<StoreOutcome> bad = InMemoryRecordStore.signatureRejection(key, value);
    if (bad.isPresent()) {
      checkOpen();
      return bad.get();
    }
    // Encoded before the lock too (a copy of the value and its checksum); wasted only on a refusal.
    byte[] record = encode(key, value, keepUntil, cached, now);
    synchronized (lock) {
      checkOpen();
      // Callers on several threads each read the clock, so a call can come with an instant before
      // one already seen. The in-memory store drops what expired at each call's instant, and an
      // expiry run or a refused store leaves no record of that: a store accepted in the room it
      // made, replayed at its earlier instant, would find the room taken and be refused. So no
      // store goes back before the latest instant seen since open; it is logged at that instant.
      Instant at = now;
      if (now.isBefore(floor)) {
        at = floor;
        record = encode(key, value, keepUntil, cached, at);
      } else {
        floor = now;
      }
      StoreOutcome outcome = delegate.storeVerified(key, value, keepUntil, cached, at);
      if (!outcome.accepted()) {
        return outcome;
      }
      accepted++;
      if (!rewriteNeeded) {
        if (queuedBytes + record.length > maxQueuedBytes) {
          // The writer is far behind: rather than hold every record, it rewrites the log from
          // the store, which holds them all.
          queue.clear();
          queuedBytes = 0;
          rewriteNeeded = true;
        } else {
          queue.add(record);
          queuedBytes += record.length;
        }
      }
      lock.notifyAll();
      return outcome;
    }
  }

  @Override
  public List<Value> get(Key key, Instant now) {
    checkOpen();
    return delegate.get(key, now);
  }

  @Override
  public List<StoredValue> entries(Instant now) {
    checkOpen();
    return delegate.entries(now);
  }

  @Override
  public List<StoredValue> entries(Instant now, Predicate<Key> wanted) {
    checkOpen();
    return delegate.entries(now, wanted);
  }

  @Override
  public int expire(Instant now) {
    synchronized (lock) {
      checkOpen();
      if (now.isAfter(floor)) {
        floor = now;
      }
      return delegate.expire(now);
    }
  }

  @Override
  public int size() {
    return delegate.size();
  }

  @Override
  public long storedBytes() {
    return delegate.storedBytes();
  }

  @Override
  public String toString() {
    return "FileRecordStore[" + file + "]";
  }

  private void checkOpen() {
    if (closed) {
      // Seen in a node's maintenance log when the store was closed before its node.
      throw new IllegalStateException(
          "record store file " + file + " is closed: close the node that uses it first");
    }
  }

  private long compactThreshold() {
    return Math.max(compactAtBytes, 2 * Math.max(delegate.storedBytes(), compactedBytes));
  }

  // ---------------------------------------------------------------------------------------------
  // Loading

  /** Reads the header (writing it to a new file), replays the records, cuts a torn tail. */
  private int load(Instant now) throws IOException {
    if (!Files.exists(file)) {
      createEmpty();
    }
    long size = Files.size(file);
    if (size < HEADER_BYTES) {
      throw new RecordStoreFileException(
          file,
          RecordStoreFileException.Reason.NOT_A_STORE,
          "record store file "
              + file
              + " is not a kad record store: "
              + size
              + " bytes, shorter than the header; move it aside to start with an empty store");
    }
    long good = HEADER_BYTES;
    int records = 0;
    int refused = 0;
    String firstReason = null;
    try (InputStream in = Files.newInputStream(file);
        DataInputStream data = new DataInputStream(new BufferedInputStream(in, 1 << 16))) {
      checkHeader(data);
      while (true) {
        Replay r = readRecord(data, size - good);
        if (r == null) {
          break;
        }
        good += RECORD_HEADER_BYTES + r.payloadBytes;
        records++;
        // Verified when first stored, and the checksum holds: not verified again, which would
        // take a millisecond a signed value.
        StoreOutcome outcome = delegate.storeVerified(r.key, r.value, r.keepUntil, r.cached, r.now);
        if (!outcome.accepted()) {
          refused++;
          if (firstReason == null) {
            firstReason = outcome.reason();
          }
        }
      }
    }
    Path copy = null;
    if (good < size && (size - good > longestRecord() || wholeRecordAfter(good, size))) {
      // More than a crash leaves (part of one record), or whole records after the bad one: the
      // file was damaged before its end. Keep it as it was for whoever can mend it.
      copy = file.resolveSibling(file.getFileName() + ".damaged-" + System.currentTimeMillis());
      Files.copy(file, copy);
    }
    out = FileChannel.open(file, StandardOpenOption.WRITE);
    try {
      if (good < size) {
        out.truncate(good);
        out.force(true);
        if (copy == null) {
          log.warn(
              "record store file {}: dropped {} bytes of a torn tail after the last whole record"
                  + " at offset {} ({} records kept)",
              file,
              size - good,
              good,
              records);
        } else {
          log.warn(
              "record store file {}: damaged at offset {}: kept the {} records before it and"
                  + " dropped the {} bytes from there on; the file as it was is copied to {}",
              file,
              good,
              records,
              size - good,
              copy);
        }
      }
      out.position(good);
    } catch (IOException e) {
      out.close();
      throw e;
    }
    fileBytes = good;
    if (refused > 0) {
      log.warn(
          "record store file {}: {} of {} records were refused on loading (limits lowered"
              + " since?), the first because {}",
          file,
          refused,
          records,
          firstReason);
    }
    if (now != null) {
      // An instant seen since open: the room this run makes leaves no record, as an expiry run's.
      floor = now;
      int expired = delegate.expire(now);
      if (expired > 0) {
        log.info(
            "record store file {}: dropped {} values that had expired by {}", file, expired, now);
      }
    }
    return delegate.size();
  }

  /**
   * Whether an intact record starts somewhere after the first bytes of {@code [from, size)}, a
   * region no longer than {@link #longestRecord()}: then the record at {@code from} was damaged,
   * not torn by a crash, which leaves nothing after the torn record.
   */
  private boolean wholeRecordAfter(long from, long size) throws IOException {
    byte[] region = new byte[(int) (size - from)];
    try (FileChannel c = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer b = ByteBuffer.wrap(region);
      while (b.hasRemaining()) {
        if (c.read(b, from + b.position()) < 0) {
          break; // shorter than it was a moment ago: what was read is what there is
        }
      }
    }
    ByteBuffer all = ByteBuffer.wrap(region);
    int idBytes = config.idBits() / 8;
    // Offsets of a payload's fields: flags, then two instants, then the key's length byte.
    int keyLength = 1 + 12 + 12;
    int publisherLength = keyLength + 1 + idBytes;
    long checksummed = 0;
    for (int at = 1; at + RECORD_HEADER_BYTES + MIN_PAYLOAD <= region.length; at++) {
      int length = all.getInt(at);
      int payload = at + RECORD_HEADER_BYTES;
      if (length < MIN_PAYLOAD
          || length > region.length - payload
          || (region[payload] & ~CACHED) != 0
          || region[payload + keyLength] != idBytes
          || payload + publisherLength >= region.length
          || region[payload + publisherLength] != idBytes) {
        continue; // not a record's shape: no checksum to compute
      }
      checksummed += length;
      if (checksummed > MAX_SCAN_BYTES) {
        return true; // data shaped like records over and over: call it damage, keep a copy
      }
      CRC32 crc = new CRC32();
      crc.update(region, at + RECORD_HEADER_BYTES, length);
      if ((int) crc.getValue() != all.getInt(at + 4)) {
        continue;
      }
      try {
        decode(ByteBuffer.wrap(region, at + RECORD_HEADER_BYTES, length).slice());
        return true;
      } catch (RuntimeException notARecord) {
        // a checksum that matched by chance
      }
    }
    return false;
  }

  /** The most bytes one record of this configuration takes: a crash tears at most one. */
  private long longestRecord() {
    int idBytes = config.idBits() / 8;
    return RECORD_HEADER_BYTES
        + MIN_PAYLOAD
        - 40
        + 2L * idBytes
        + Value.PUBLIC_KEY_BYTES
        + Value.SIGNATURE_BYTES
        + config.maxValueBytes();
  }

  /**
   * Writes a new file's header beside it and renames it in place: a crash leaves no half header.
   */
  private void createEmpty() throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".new");
    writeSnapshot(tmp, List.of());
    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    forceDirectory();
  }

  private ByteBuffer header() {
    return ByteBuffer.allocate(HEADER_BYTES)
        .putLong(MAGIC)
        .putInt(VERSION)
        .putInt(config.idBits())
        .flip();
  }

  private void checkHeader(DataInputStream in) throws IOException {
    long magic = in.readLong();
    if (magic != MAGIC) {
      throw new RecordStoreFileException(
          file,
          RecordStoreFileException.Reason.NOT_A_STORE,
          "record store file "
              + file
              + " is not a kad record store: it starts with 0x"
              + Long.toHexString(magic)
              + ", not the magic 0x"
              + Long.toHexString(MAGIC)
              + "; move it aside to start with an empty store");
    }
    int version = in.readInt();
    if (version != VERSION) {
      throw new RecordStoreFileException(
          file,
          RecordStoreFileException.Reason.INCOMPATIBLE,
          "record store file "
              + file
              + " has format version "
              + version
              + " but this kad reads version "
              + VERSION);
    }
    int idBits = in.readInt();
    if (idBits != config.idBits()) {
      throw new RecordStoreFileException(
          file,
          RecordStoreFileException.Reason.INCOMPATIBLE,
          "record store file "
              + file
              + " holds ids of "
              + idBits
              + " bits but the node's idBits is "
              + config.idBits());
    }
  }

  /** One logged store call. */
  private record Replay(
      Key key, Value value, Instant keepUntil, boolean cached, Instant now, int payloadBytes) {}

  /** The next whole, intact record, or null at the end of the file or of what is intact. */
  private static Replay readRecord(DataInputStream in, long remaining) throws IOException {
    if (remaining < RECORD_HEADER_BYTES) {
      return null;
    }
    int length = in.readInt();
    int crc = in.readInt();
    if (length < MIN_PAYLOAD || length > MAX_PAYLOAD || length > remaining - RECORD_HEADER_BYTES) {
      return null;
    }
    byte[] payload = new byte[length];
    try {
      in.readFully(payload);
    } catch (EOFException e) {
      return null;
    }
    if (crc(payload) != crc) {
      return null;
    }
    try {
      return decode(ByteBuffer.wrap(payload));
    } catch (RuntimeException e) {
      // The CRC holds but the fields do not: not a record this version wrote.
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Records

  static byte[] encode(Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
    byte[] k = key.toBytes();
    byte[] publisher = value.publisher().toBytes();
    byte[] publicKey = value.publicKey();
    byte[] signature = value.signature();
    byte[] data = value.data();
    int length =
        MIN_PAYLOAD
            - 40
            + k.length
            + publisher.length
            + publicKey.length
            + signature.length
            + data.length;
    ByteBuffer b = ByteBuffer.allocate(RECORD_HEADER_BYTES + length);
    b.putInt(length).putInt(0);
    b.put((byte) (cached ? CACHED : 0));
    putInstant(b, now);
    putInstant(b, keepUntil);
    b.put((byte) k.length).put(k);
    b.put((byte) publisher.length).put(publisher);
    b.putLong(value.valueId()).putLong(value.seq());
    putInstant(b, value.expiresAt());
    b.put((byte) publicKey.length).put(publicKey);
    b.put((byte) signature.length).put(signature);
    b.putInt(data.length).put(data);
    CRC32 crc = new CRC32();
    crc.update(b.array(), RECORD_HEADER_BYTES, length);
    b.putInt(4, (int) crc.getValue());
    return b.array();
  }

  private static Replay decode(ByteBuffer b) {
    int payloadBytes = b.remaining();
    byte flags = b.get();
    Instant now = getInstant(b);
    Instant keepUntil = getInstant(b);
    Key key = Key.ofRaw(bytes(b, b.get()));
    NodeId publisher = NodeId.of(bytes(b, b.get()));
    long valueId = b.getLong();
    long seq = b.getLong();
    Instant expiresAt = getInstant(b);
    byte[] publicKey = bytes(b, b.get());
    byte[] signature = bytes(b, b.get());
    byte[] data = bytes(b, b.getInt());
    if (b.hasRemaining() || (flags & ~CACHED) != 0) {
      throw new IllegalArgumentException("not a record of version " + VERSION);
    }
    Value value = new Value(data, publisher, valueId, seq, expiresAt, publicKey, signature);
    return new Replay(key, value, keepUntil, (flags & CACHED) != 0, now, payloadBytes);
  }

  private static byte[] bytes(ByteBuffer b, int length) {
    byte[] out = new byte[length];
    b.get(out);
    return out;
  }

  private static void putInstant(ByteBuffer b, Instant t) {
    b.putLong(t.getEpochSecond()).putInt(t.getNano());
  }

  private static Instant getInstant(ByteBuffer b) {
    return Instant.ofEpochSecond(b.getLong(), b.getInt());
  }

  private static int crc(byte[] payload) {
    CRC32 crc = new CRC32();
    crc.update(payload);
    return (int) crc.getValue();
  }

  // ---------------------------------------------------------------------------------------------
  // The writer thread

  /** What the writer took from the queue in one go. */
  private record Batch(List<byte[]> records, List<StoredValue> snapshot, long upTo, boolean stop) {}

  private void writeLoop() {
    long written = 0;
    long lastForce = System.nanoTime();
    long retryAt = 0;
    long retryDelay = RETRY_NANOS;
    boolean failing = false;
    try {
      while (true) {
        Batch batch = null;
        boolean failedAtClose = false;
        try {
          // Inside the try: a rewrite's snapshot copies the whole store, which may run out of
          // memory as a write may.
          batch = nextBatch(written, lastForce, failing, retryAt);
          boolean forced = false;
          if (batch.snapshot != null) {
            compact(batch.snapshot);
            forced = true;
          } else {
            append(batch.records);
          }
          long upTo = batch.upTo;
          if (batch.snapshot == null && fileBytes > compactThreshold()) {
            Batch all = snapshotNow(false);
            compact(all.snapshot);
            upTo = all.upTo;
            forced = true;
          }
          written = upTo;
          boolean forceNow;
          synchronized (lock) {
            forceNow =
                !forced
                    && written > durable
                    && (batch.stop
                        || flushTarget > durable
                        || System.nanoTime() - lastForce >= FORCE_INTERVAL_NANOS);
          }
          if (forceNow) {
            out.force(true);
            forced = true;
          }
          if (forced) {
            lastForce = System.nanoTime();
          }
          if (failing) {
            failing = false;
            writeFailure = null;
            log.info("record store file {}: writing again", file);
          }
          synchronized (lock) {
            if (forced) {
              durable = written;
            }
            lock.notifyAll();
          }
        } catch (InterruptedException e) {
          throw e;
        } catch (Exception | Error e) {
          // An Error too (out of memory for a large batch): the writer must outlive it, or stores
          // would go on being accepted and never written.
          synchronized (lock) {
            failures++;
            lastFailure = e;
            writeFailure = e.toString();
            // What was not written is in the store: the retry rewrites the log from it.
            rewriteNeeded = true;
            queue.clear();
            queuedBytes = 0;
            // The flushes waiting are answered with this failure; retrying for them at once
            // would spin.
            flushTarget = durable;
            lock.notifyAll();
          }
          failedAtClose = batch != null ? batch.stop : closed;
          if (failedAtClose) {
            log.error(
                "record store file {}: closed without writing the stores accepted since its last"
                    + " successful write, which are lost: {}",
                file,
                e.toString());
          } else if (!failing) {
            log.error(
                "record store file {}: cannot write, serving from memory and retrying: {}",
                file,
                e.toString());
          }
          // Each retry rewrites the whole store: back off, from a second up to half a minute.
          retryDelay = failing ? Math.min(2 * retryDelay, MAX_RETRY_NANOS) : RETRY_NANOS;
          failing = true;
          retryAt = System.nanoTime() + retryDelay;
        }
        if ((batch != null && batch.stop) || failedAtClose) {
          return;
        }
      }
    } catch (InterruptedException e) {
      // close() gave up on this thread.
    } catch (Throwable e) {
      // Not from a write (those are retried above): the writer cannot go on. Say so wherever
      // someone looks, since every store from now on is kept in memory only.
      synchronized (lock) {
        failures++;
        lastFailure = e;
        writeFailure = "the writer stopped: " + e;
      }
      log.error("record store file {}: the writer stopped, nothing more is written", file, e);
    } finally {
      boolean closing;
      synchronized (lock) {
        writerStopped = true;
        closing = closed;
        lock.notifyAll();
      }
      try {
        out.close();
      } catch (IOException e) {
        log.warn("record store file {}: could not close it: {}", file, e.toString());
      }
      if (closing) {
        releaseLock(); // close() may have given up waiting for this thread
      }
    }
  }

  /**
   * Waits until there is something to do: records to append, a rewrite, a force due or asked for, a
   * retry due, or close; then takes it.
   */
  private Batch nextBatch(long written, long lastForce, boolean failing, long retryAt)
      throws InterruptedException {
    synchronized (lock) {
      while (true) {
        boolean stop = closed;
        boolean flushWanted = flushTarget > durable;
        long now = System.nanoTime();
        if (failing) {
          if (stop || flushWanted || now - retryAt >= 0) {
            break;
          }
          lock.wait(millisUntil(retryAt - now));
          continue;
        }
        if (stop || flushWanted || rewriteNeeded || !queue.isEmpty()) {
          break;
        }
        if (written > durable) {
          long left = lastForce + FORCE_INTERVAL_NANOS - now;
          if (left <= 0) {
            break;
          }
          lock.wait(millisUntil(left));
        } else {
          lock.wait();
        }
      }
      if (rewriteNeeded) {
        return snapshotNow(closed);
      }
      List<byte[]> records = new ArrayList<>(queue);
      queue.clear();
      queuedBytes = 0;
      return new Batch(records, null, accepted, closed);
    }
  }

  private static long millisUntil(long nanos) {
    return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos) + 1);
  }

  /**
   * The store's values and the queue's end, taken together under the lock: the snapshot reflects
   * exactly the stores accepted so far, and the queue, emptied, holds only later ones. No record is
   * both in the rewritten log and appended after it.
   */
  private Batch snapshotNow(boolean stop) {
    synchronized (lock) {
      List<StoredValue> values = new ArrayList<>(delegate.entries(floor));
      queue.clear();
      queuedBytes = 0;
      rewriteNeeded = false;
      return new Batch(List.of(), values, accepted, stop);
    }
  }

  private void append(List<byte[]> records) throws IOException {
    if (records.isEmpty()) {
      return;
    }
    int total = 0;
    for (byte[] r : records) {
      total += r.length;
    }
    ByteBuffer buffer = ByteBuffer.allocate(total);
    for (byte[] r : records) {
      buffer.put(r);
    }
    writeFully(out, buffer.flip());
    fileBytes += total;
  }

  /**
   * Rewrites the log from {@code values}: each as one store at its {@code storedAt}, newest first,
   * which a replay turns back into the same value with the same bookkeeping.
   */
  private void compact(List<StoredValue> values) throws IOException {
    // Newest first: a replayed store drops what expired at its instant, and each value here is
    // kept past its own storedAt, so no later record's earlier instant drops one. Oldest first, a
    // value stored after the clock was set back (across a restart) was dropped by a value stored
    // before, at a later instant, and the rewrite lost it.
    values.sort(Comparator.comparing(StoredValue::storedAt).reversed());
    Path tmp = file.resolveSibling(file.getFileName() + ".compact");
    long bytes;
    try {
      bytes = writeSnapshot(tmp, values);
    } catch (IOException | RuntimeException e) {
      // A full disk, most likely: give the space back for the retry.
      try {
        Files.deleteIfExists(tmp);
      } catch (IOException d) {
        e.addSuppressed(d);
      }
      throw e;
    }
    out.close();
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      forceDirectory();
    } finally {
      out = FileChannel.open(file, StandardOpenOption.WRITE);
      out.position(out.size());
    }
    fileBytes = out.size();
    compactedBytes = bytes;
    log.debug(
        "record store file {}: rewritten with {} values in {} bytes", file, values.size(), bytes);
  }

  /** Writes a header and {@code values} to {@code tmp} and forces it; returns its length. */
  private long writeSnapshot(Path tmp, List<StoredValue> values) throws IOException {
    long bytes = HEADER_BYTES;
    try (FileChannel c =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      writeFully(c, header());
      ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
      for (StoredValue v : values) {
        byte[] r = encode(v.key(), v.value(), v.keepUntil(), v.cached(), v.storedAt());
        bytes += r.length;
        if (r.length > buffer.remaining()) {
          writeFully(c, buffer.flip());
          buffer.clear();
        }
        if (r.length > buffer.capacity()) {
          writeFully(c, ByteBuffer.wrap(r));
        } else {
          buffer.put(r);
        }
      }
      writeFully(c, buffer.flip());
      c.force(true);
    }
    return bytes;
  }

  private static void writeFully(FileChannel c, ByteBuffer b) throws IOException {
    while (b.hasRemaining()) {
      c.write(b);
    }
  }

  /** Makes a rename durable where the platform allows forcing a directory (not on Windows). */
  private void forceDirectory() {
    try (FileChannel dir = FileChannel.open(file.getParent(), StandardOpenOption.READ)) {
      dir.force(true);
    } catch (IOException e) {
      // Not supported here; the rename is still atomic.
    }
  }
}
