package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

/**
 * Client mode: a client's requests are answered but never put it in a routing table, yet it finds
 * nodes, gets, puts and watches.
 */
class ClientModeTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(6)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .subscriptionTtl(Duration.ofMinutes(2))
          .maintenance(false)
          .build();

  private static final KadConfig CLIENT = CONFIG.toBuilder().clientMode(true).build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private final List<Disposable> watches = new ArrayList<>();

  /** Runs before the extension closes the cluster, so watches end on a live network. */
  @AfterEach
  void disposeWatches() {
    watches.forEach(Disposable::dispose);
  }

  /** A client joined through node 0, recording what it sends; closed with the cluster. */
  private static KadNode client(Cluster c, RecordingTransport[] recorded) {
    recorded[0] = new RecordingTransport(c.network.newTransport());
    KadNode client = c.await(c.builder().config(CLIENT).transport(recorded[0]).start());
    c.await(client.bootstrap(List.of(c.node(0).contact().address())));
    c.nodes.add(client);
    return client;
  }

  /** A client publishing under {@code owner}'s id, joined through {@code seed}. */
  private static KadNode clientWithIdOf(Cluster c, KadNode owner, KadNode seed) {
    KadNode client = c.await(c.builder().config(CLIENT).id(owner.id()).start());
    c.nodes.add(client);
    c.await(client.bootstrap(List.of(seed.contact().address())));
    return client;
  }

  /** Every contact and replacement of every node but {@code except}. */
  private static List<NodeId> knownToOthers(Cluster c, KadNode except) {
    return c.nodes.stream()
        .filter(n -> n != except)
        .flatMap(n -> n.routingTable().buckets().stream())
        .flatMap(b -> Stream.concat(b.contacts().stream(), b.replacements().stream()))
        .map(Contact::id)
        .toList();
  }

  @Test
  void aClientAtAnAddressAKnownNodeLeftIsNotTakenForItsSuccessor() {
    // A port reused on one host: a node dials a departed contact's address and a client answers.
    // An answer from another id there is learnt as the node now serving the address; a client
    // refuses every request but a push, so it is never learnt.
    Cluster c = clusters.grow(75, 12);
    KadNode client = client(c, new RecordingTransport[1]);
    KadNode node = c.node(3);
    Contact departed = new Contact(NodeId.random(c.random), client.contact().address());
    KadNodes.learn(node, List.of(departed));

    c.await(node.findNode(departed.id()));

    assertThat(knownToOthers(c, client)).doesNotContain(client.id());
  }

  @Test
  void aClientPublishingUnderARunningNodesIdAsksAndStoresAtThatNodeToo() {
    // kad put --id HEX publishes as a node's id: for the client that node is one of the key's
    // closest like any other. Its lookups left it out as "itself", and the node refused it.
    Cluster c = clusters.grow(76, 20);
    KadNode owner = c.node(4);
    KadNode client = clientWithIdOf(c, owner, c.node(0));
    Key key = Key.ofRaw(owner.id().toBytes());

    assertThat(c.await(client.findNode(owner.id())).get(0)).isEqualTo(owner.contact());
    PutResult put = c.await(client.put(key, new byte[] {7}));
    assertThat(put.accepted()).contains(owner.contact()).hasSize(CONFIG.k());
    assertThat(((DefaultKadNode) owner).store().get(key, c.now())).hasSize(1);
  }

  @Test
  void aPutStoredOnlyAtTheNodeWhoseIdTheClientSharesSucceeds() {
    // That node's copy is another node's, not the client's own (which would leave with it).
    Cluster c = clusters.grow(77, 1);
    KadNode owner = c.node(0);
    KadNode client = clientWithIdOf(c, owner, owner);

    PutResult put = c.await(client.put(Key.of("alone"), new byte[] {7}));
    assertThat(put.accepted()).containsExactly(owner.contact());
  }

  @Test
  void aClientsBootstrapFillsItsTableAroundTheIdItCentersOn() {
    // The table centers on a random id, not the client's own: the join lookup must look that one
    // up, or every contact it learns lands in one far bucket and the refresh beyond the closest
    // neighbour adds nothing (a 6-contact, 2-bucket table against a full node's ~36 in 6 to 8).
    Cluster c = clusters.grow(81, 200);
    KadNode client = c.await(c.builder().config(CLIENT).start());
    c.nodes.add(client);
    c.await(client.bootstrap(List.of(c.node(0).contact().address())));

    RoutingTableSnapshot table = client.routingTable();
    assertThat(table.buckets().size()).as("%s", table).isGreaterThanOrEqualTo(4);
    assertThat(table.size()).isGreaterThanOrEqualTo(3 * CONFIG.k());
  }

  @Test
  void aClientFindsTheClosestNodesWithoutEnteringAnyTable() {
    Cluster c = clusters.grow(71, 30);
    RecordingTransport[] recorded = new RecordingTransport[1];
    KadNode client = client(c, recorded);
    NodeId target = NodeId.random(c.random);

    List<Contact> found = c.await(client.findNode(target));

    assertThat(Cluster.ids(found)).isEqualTo(c.trueClosest(target, CONFIG.k()));
    assertThat(recorded[0].sent()).isNotEmpty().allMatch(Request::fromClient);
    assertThat(client.routingTable().size()).isGreaterThanOrEqualTo(CONFIG.k());
    assertThat(knownToOthers(c, client)).doesNotContain(client.id());
  }

  @Test
  void aClientPutsAtOtherNodesOnlyAndGetsWhatOthersPut() {
    // Fewer nodes than k: a full node in the client's place would be one of the k copies.
    Cluster c = clusters.grow(72, 4);
    List<Contact> fullNodes = c.nodes.stream().map(KadNode::contact).toList();
    KadNode client = client(c, new RecordingTransport[1]);
    Key mine = Key.of("from-the-client");
    Key theirs = Key.of("from-a-node");

    PutResult put = c.await(client.put(mine, new byte[] {1}));
    c.await(c.node(3).put(theirs, new byte[] {2}));

    assertThat(put.accepted()).containsExactlyInAnyOrderElementsOf(fullNodes);
    assertThat(((DefaultKadNode) client).store().get(mine, c.now())).isEmpty();
    assertThat(c.await(c.node(2).get(mine))).extracting(v -> v.data()[0]).containsExactly((byte) 1);
    assertThat(c.await(client.get(theirs))).extracting(v -> v.data()[0]).containsExactly((byte) 2);
    assertThat(knownToOthers(c, client)).doesNotContain(client.id());
  }

  @Test
  void aClientsWatchReceivesAValuePutByAnotherNodeAndStaysUnknown() {
    Cluster c = clusters.grow(73, 30);
    KadNode client = client(c, new RecordingTransport[1]);
    Key key = Key.of("news");
    List<Value> seen = new CopyOnWriteArrayList<>();
    watches.add(client.watch(key).subscribe(seen::add));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    c.await(c.node(7).put(key, new byte[] {3}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(seen).extracting(v -> v.data()[0]).containsExactly((byte) 3);
    // The storage nodes pushed to the client and it answered: still nobody's contact.
    assertThat(knownToOthers(c, client)).doesNotContain(client.id());
  }

  @Test
  void aNodeHearingOnlyAClientHasNotHeardFromItsNetwork() {
    Cluster c = clusters.grow(74, 1);
    KadNode client = client(c, new RecordingTransport[1]);

    c.await(client.findNode(NodeId.random(c.random)));

    assertThat(c.node(0).stats().lastHeard()).isEmpty();
    assertThat(c.node(0).routingTable().size()).isZero();
    assertThat(client.stats().lastHeard()).isPresent();
    assertThat(client.routingTable().contacts()).containsExactly(c.node(0).contact());
  }

  @Test
  void aFullNodesRequestsAreNotMarked() {
    Cluster c = clusters.grow(75, 5);
    RecordingTransport[] recorded = new RecordingTransport[1];
    KadNode full = c.startRecorded(recorded);

    c.await(full.findNode(NodeId.random(c.random)));

    assertThat(recorded[0].sent()).isNotEmpty().noneMatch(Request::fromClient);
    RoutingTableSnapshot table = c.node(0).routingTable();
    assertThat(table.contacts()).contains(full.contact());
  }
}
