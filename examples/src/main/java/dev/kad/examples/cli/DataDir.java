package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.reactor.routing.Subnets;
import dev.kad.reactor.store.FileRecordStore;
import dev.kad.reactor.store.RecordStoreFileException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code kad node --data-dir DIR} keeps across restarts: the node's id ({@code DIR/node-id}),
 * the values it stores for the network ({@code DIR/values}, a {@link FileRecordStore}) and the
 * addresses of contacts to rejoin through ({@code DIR/contacts}). Files are replaced whole, through
 * a temporary file moved over the old one, so a crash leaves either the old or the new file.
 */
final class DataDir {

  private static final Logger log = LoggerFactory.getLogger(DataDir.class);

  /** Contacts saved for the next start: enough that some answer after a long stop. */
  static final int SAVED_CONTACTS = 64;

  private final Path dir;
  private boolean warnedSave;

  /** What the last save wrote: a save of the same addresses is skipped. */
  private List<Address> lastSaved = List.of();

  private DataDir(Path dir) {
    this.dir = dir;
  }

  /**
   * Opens {@code dir}, creating it (and its parents) when missing.
   *
   * @throws CliException when it cannot be created or is not a directory
   */
  static DataDir open(Path dir) {
    if (Files.exists(dir) && !Files.isDirectory(dir)) {
      throw new CliException(
          "cannot use " + dir + " as the data directory: it is a file, not a directory");
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new CliException(
          "cannot use " + dir + " as the data directory: " + ErrorHandler.describe(e));
    }
    return new DataDir(dir);
  }

  Path idFile() {
    return dir.resolve("node-id");
  }

  Path contactsFile() {
    return dir.resolve("contacts");
  }

  Path valuesFile() {
    return dir.resolve("values");
  }

  /** Whether an earlier run left its id here: this start is a restart. */
  boolean hasId() {
    return Files.exists(idFile());
  }

  /**
   * The node's id: the one {@code DIR/node-id} holds, or on the first start {@code requested} (or a
   * random one), written there.
   *
   * @param requested the id {@code --id} gave, or null
   * @throws CliException when the file holds no id of this width, {@code requested} differs from
   *     the one it holds, or it cannot be written
   */
  NodeId id(NodeId requested, int idBits, Supplier<NodeId> random) {
    Path file = idFile();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (NoSuchFileException e) {
      NodeId id = requested != null ? requested : random.get();
      write(file, id.toHex() + "\n");
      return id;
    } catch (IOException e) {
      throw new CliException("cannot read " + file + ": " + ErrorHandler.describe(e));
    }
    NodeId kept;
    try {
      kept = NodeId.parse(text, idBits);
    } catch (IllegalArgumentException e) {
      throw new CliException(file + " does not hold a node id: " + e.getMessage());
    }
    if (requested != null && !requested.equals(kept)) {
      throw new CliException(
          "--id "
              + requested.toHex()
              + " is not the id "
              + file
              + " holds ("
              + kept.toHex()
              + "): leave --id out, or give another --data-dir");
    }
    return kept;
  }

  /**
   * The addresses saved by the last run, most useful first; none when there is no file. A line that
   * is not an address is skipped with one WARN line.
   */
  List<Address> contacts() {
    Path file = contactsFile();
    List<String> lines;
    try {
      // Decoded leniently: a damaged byte spoils its line, which is skipped, not the file.
      lines = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines().toList();
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      log.warn("cannot read the saved contacts in {}: {}", file, ErrorHandler.describe(e));
      return List.of();
    }
    Set<Address> addresses = new LinkedHashSet<>();
    int skipped = 0;
    for (String line : lines) {
      String text = line.strip();
      if (text.isEmpty() || text.startsWith("#")) {
        continue;
      }
      try {
        Address address = Address.parse(text);
        if (Subnets.dialable(address)) {
          addresses.add(address);
        } else {
          skipped++;
        }
      } catch (IllegalArgumentException e) {
        skipped++;
      }
    }
    if (skipped > 0) {
      log.warn(
          "skipped {} of {} that {} not an address a node can dial (HOST:PORT)",
          skipped == 1 ? "1 line" : skipped + " lines",
          file,
          skipped == 1 ? "is" : "are");
    }
    return List.copyOf(addresses);
  }

  /**
   * Saves up to {@link #SAVED_CONTACTS} of the table's addresses for the next start, taking the
   * most recently seen of each bucket in turn, so that the saved ones spread over the key space. A
   * table with no contact leaves the file as it is (a node that lost its peers keeps the old ones
   * to try). A failure is logged once at WARN and not thrown: the node keeps running.
   */
  synchronized void saveContacts(RoutingTableSnapshot table) {
    // Synchronized: the periodic save and a join's or the close's share the temporary file.
    List<Address> chosen = spread(table, SAVED_CONTACTS);
    if (chosen.isEmpty() || chosen.equals(lastSaved)) {
      return;
    }
    StringBuilder text =
        new StringBuilder("# contacts of kad node ")
            .append(table.self().toHex())
            .append(", saved ")
            .append(Instant.now())
            .append('\n');
    chosen.forEach(a -> text.append(a).append('\n'));
    try {
      write(contactsFile(), text.toString());
      lastSaved = chosen;
      warnedSave = false;
    } catch (RuntimeException e) {
      // Any failure: the periodic save goes on, and the close after it still closes the node.
      if (!warnedSave) {
        warnedSave = true;
        log.warn("{}; keeping the contacts saved before", ErrorHandler.describe(e));
      }
    }
  }

  /**
   * Up to {@code max} addresses, one bucket after another, each bucket's most recently seen first.
   */
  static List<Address> spread(RoutingTableSnapshot table, int max) {
    List<List<Contact>> buckets = new ArrayList<>();
    for (RoutingTableSnapshot.Bucket bucket : table.buckets()) {
      buckets.add(bucket.contacts());
    }
    Set<Address> chosen = new LinkedHashSet<>();
    for (int round = 0; chosen.size() < max; round++) {
      boolean any = false;
      for (List<Contact> contacts : buckets) {
        if (round < contacts.size() && chosen.size() < max) {
          chosen.add(contacts.get(contacts.size() - 1 - round).address());
          any = true;
        }
      }
      if (!any) {
        break;
      }
    }
    return List.copyOf(chosen);
  }

  /**
   * Opens the values file, without the values that expired while no node ran on it: they would
   * count as stored (in the log line and against the store's limits) until the node's first expiry
   * run.
   *
   * @param now the time of the node that will use the store
   * @throws CliException when it cannot be opened: another node uses it, it is not a store of this
   *     id width, or it cannot be read
   */
  FileRecordStore openStore(KadConfig config, Instant now) {
    try {
      return FileRecordStore.open(valuesFile(), config, now);
    } catch (IOException e) {
      // The store's own messages name the file and what is wrong; the JDK's name the file only.
      String why =
          e instanceof RecordStoreFileException || e.getClass() == IOException.class
              ? e.getMessage()
              : ErrorHandler.describe(e);
      throw new CliException("cannot open the stored values: " + why);
    }
  }

  private static void write(Path file, String text) {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    try {
      try (FileChannel channel =
          FileChannel.open(
              temp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
        channel.force(true); // on disk before the rename: a power cut leaves no empty file
      }
      try {
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new CliException("cannot write " + file + ": " + ErrorHandler.describe(e));
    }
  }
}
