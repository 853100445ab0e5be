package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.Value;
import dev.kad.reactor.store.FileRecordStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code kad node --data-dir} keeps of a node's id and contacts between runs. */
class DataDirTest {

  private static final NodeId SELF = NodeId.parse("00112233445566778899aabbccddeeff00112233");

  @TempDir Path temp;

  @Test
  void theFirstRunWritesItsIdAndLaterRunsReadItBack() {
    DataDir dir = DataDir.open(temp.resolve("a/b"));
    NodeId first = dir.id(null, 160, () -> NodeId.random(160, new SplittableRandom(1)));

    NodeId again =
        DataDir.open(temp.resolve("a/b"))
            .id(null, 160, () -> NodeId.random(160, new SplittableRandom(2)));

    assertThat(again).isEqualTo(first);
    assertThat(dir.id(first, 160, () -> SELF)).isEqualTo(first);
  }

  @Test
  void theIdGivenOnTheFirstRunIsTheOneKept() {
    DataDir dir = DataDir.open(temp);

    assertThat(dir.id(SELF, 160, () -> NodeId.random(160, new SplittableRandom(1))))
        .isEqualTo(SELF);
    assertThat(dir.id(null, 160, () -> NodeId.random(160, new SplittableRandom(1))))
        .isEqualTo(SELF);
  }

  @Test
  void anotherIdThanTheKeptOneIsRefusedNamingBoth() {
    DataDir dir = DataDir.open(temp);
    dir.id(SELF, 160, () -> SELF);
    NodeId other = NodeId.parse("ffffffffffffffffffffffffffffffffffffffff");

    assertThatThrownBy(() -> dir.id(other, 160, () -> SELF))
        .isInstanceOf(CliException.class)
        .hasMessage(
            "--id ffffffffffffffffffffffffffffffffffffffff is not the id "
                + temp.resolve("node-id")
                + " holds (00112233445566778899aabbccddeeff00112233): leave --id out, or give"
                + " another --data-dir");
  }

  @Test
  void anIdFileWithoutAnIdIsNamedInTheError() throws Exception {
    Files.writeString(temp.resolve("node-id"), "not an id\n");

    assertThatThrownBy(() -> DataDir.open(temp).id(null, 160, () -> SELF))
        .isInstanceOf(CliException.class)
        .hasMessageStartingWith(temp.resolve("node-id") + " does not hold a node id: ");
  }

  @Test
  void aDataDirThatIsAFileIsRefused() throws Exception {
    Path file = Files.writeString(temp.resolve("file"), "x");

    assertThatThrownBy(() -> DataDir.open(file))
        .isInstanceOf(CliException.class)
        .hasMessage("cannot use " + file + " as the data directory: it is a file, not a directory");
  }

  @Test
  void savedContactsComeBackSpreadOverTheBucketsMostRecentlySeenFirst() {
    DataDir dir = DataDir.open(temp);
    RoutingTableSnapshot table = table(List.of(7000, 7001, 7002), List.of(8000), List.of());

    dir.saveContacts(table);

    // each bucket lists its least recently seen first: 7002 and 8000 were seen last
    assertThat(dir.contacts())
        .containsExactly(
            Address.parse("127.0.0.1:7002"),
            Address.parse("127.0.0.1:8000"),
            Address.parse("127.0.0.1:7001"),
            Address.parse("127.0.0.1:7000"));
  }

  @Test
  void atMostSixtyFourContactsAreSaved() {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      ports.add(9000 + i);
    }

    assertThat(DataDir.spread(table(ports, List.of(7000)), DataDir.SAVED_CONTACTS))
        .hasSize(64)
        .contains(Address.parse("127.0.0.1:7000"), Address.parse("127.0.0.1:9099"))
        .doesNotContain(Address.parse("127.0.0.1:9000"));
  }

  @Test
  void theSameContactsAreNotWrittenAgain() throws Exception {
    DataDir dir = DataDir.open(temp);
    RoutingTableSnapshot table = table(List.of(7000));
    dir.saveContacts(table);
    Files.writeString(temp.resolve("contacts"), "127.0.0.1:7999\n"); // someone else's write

    dir.saveContacts(table); // the node looks again: nothing changed, nothing written

    assertThat(dir.contacts()).containsExactly(Address.parse("127.0.0.1:7999"));
    dir.saveContacts(table(List.of(7000, 7001)));
    assertThat(dir.contacts()).hasSize(2);
  }

  @Test
  void anEmptyTableKeepsTheContactsSavedBefore() {
    DataDir dir = DataDir.open(temp);
    dir.saveContacts(table(List.of(7000)));

    dir.saveContacts(table(List.of()));

    assertThat(dir.contacts()).containsExactly(Address.parse("127.0.0.1:7000"));
  }

  @Test
  void linesThatAreNotAddressesAreSkipped() throws Exception {
    Files.writeString(
        temp.resolve("contacts"),
        "# saved\n127.0.0.1:7000\nnonsense\n\n127.0.0.1:99999\n[::1]:7001\n");

    assertThat(DataDir.open(temp).contacts())
        .containsExactly(Address.parse("127.0.0.1:7000"), Address.parse("[::1]:7001"));
  }

  @Test
  void addressesNoNodeCanDialAreSkippedNotHandedToTheJoin() throws Exception {
    Files.writeString(
        temp.resolve("contacts"), "127.0.0.1:0\n0.0.0.0:7000\n224.0.0.1:7000\n127.0.0.1:7001\n");

    assertThat(DataDir.open(temp).contacts()).containsExactly(Address.parse("127.0.0.1:7001"));
  }

  @Test
  void aDamagedByteSpoilsItsLineOnly() throws Exception {
    String text = "127.0.0.1:7000\n127.0.0.1:7002\n127.0.0.1:7001\n";
    byte[] bad = text.getBytes(StandardCharsets.US_ASCII);
    // a lead byte with no continuation, in the second line: invalid UTF-8
    bad[text.indexOf("7002")] = (byte) 0xC3;
    Files.write(temp.resolve("contacts"), bad);

    assertThat(DataDir.open(temp).contacts())
        .containsExactly(Address.parse("127.0.0.1:7000"), Address.parse("127.0.0.1:7001"));
  }

  @Test
  void valuesThatExpiredWhileNoNodeRanAreNotLoaded() throws Exception {
    DataDir dir = DataDir.open(temp);
    KadConfig config = KadConfig.defaults();
    Instant stopped = Instant.parse("2026-01-01T00:00:00Z");
    Key key = Key.of("greeting");
    try (FileRecordStore store = dir.openStore(config, stopped)) {
      store.store(
          key,
          Value.of(new byte[] {1}, SELF, 1, 1, stopped.plusSeconds(60)),
          Instant.MAX,
          false,
          stopped);
      store.store(
          key,
          Value.of(new byte[] {2}, SELF, 2, 1, stopped.plusSeconds(3600)),
          Instant.MAX,
          false,
          stopped);
    }

    try (FileRecordStore store = dir.openStore(config, stopped.plusSeconds(120))) {
      assertThat(store.loadedValues()).isEqualTo(1);
      assertThat(store.size()).isEqualTo(1);
    }
  }

  @Test
  void noContactsFileMeansNoSavedContacts() {
    assertThat(DataDir.open(temp).contacts()).isEmpty();
  }

  /** A table of buckets, each of the given ports on loopback, least recently seen first. */
  @SafeVarargs
  private static RoutingTableSnapshot table(List<Integer>... buckets) {
    List<RoutingTableSnapshot.Bucket> list = new ArrayList<>();
    SplittableRandom random = new SplittableRandom(7);
    for (List<Integer> ports : buckets) {
      List<Contact> contacts = new ArrayList<>();
      for (int port : ports) {
        contacts.add(new Contact(NodeId.random(160, random), new Address("127.0.0.1", port)));
      }
      list.add(new RoutingTableSnapshot.Bucket(SELF, list.size(), contacts, List.of()));
    }
    return new RoutingTableSnapshot(SELF, list);
  }
}
