package dev.kad.reactor.store;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Why {@link FileRecordStore#open} refused a file that exists and could be read: another open store
 * holds it, it is not a kad record store, or it is one this node cannot use. The message names the
 * file and what to do; {@link #reason()} lets a caller choose its own report without reading the
 * message. Other failures to open (no permission, no space, an unreadable disk) stay plain {@link
 * IOException}s from the JDK.
 */
public final class RecordStoreFileException extends IOException {

  private static final long serialVersionUID = 1L;

  /** What is wrong with the file. */
  public enum Reason {
    /** Another open store, of this process or another, holds the file's lock. */
    IN_USE,
    /** The path names a directory. */
    DIRECTORY,
    /** The file does not start with a kad record store's header. */
    NOT_A_STORE,
    /** A kad record store of another format version or id width. */
    INCOMPATIBLE
  }

  private final transient Path file;
  private final Reason reason;

  RecordStoreFileException(Path file, Reason reason, String message) {
    super(message);
    this.file = Objects.requireNonNull(file, "file");
    this.reason = Objects.requireNonNull(reason, "reason");
  }

  /** The store file that was refused, absolute. */
  public Path file() {
    return file;
  }

  /** What is wrong with it. */
  public Reason reason() {
    return reason;
  }
}
