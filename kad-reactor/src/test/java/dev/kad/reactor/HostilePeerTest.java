package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NoStoreAnsweredException;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.testkit.InMemoryTransport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;

/** Peers that answer lookups with junk never reach the routing table or the results. */
class HostilePeerTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(8).maintenance(false).build();

  /** The ttl raw subscribers ask for. */
  private static final Duration TTL = Duration.ofMinutes(5);

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  /** The lookup's answer from {@code from}. */
  private static LookupEvent.Answered answerFrom(List<LookupEvent> events, Contact from) {
    return events.stream()
        .filter(e -> e instanceof LookupEvent.Answered a && a.contact().equals(from))
        .map(LookupEvent.Answered.class::cast)
        .findFirst()
        .orElseThrow();
  }

  /** A peer on the cluster's network, its id drawn from {@code rng}, answering as it is told. */
  private static Contact peer(
      Cluster c, SplittableRandom rng, BiFunction<Contact, Request, Response> answer) {
    return peer(c, NodeId.random(rng), answer).contact();
  }

  /** A peer on the cluster's network with the given id, answering as it is told. */
  private static RawPeer peer(Cluster c, NodeId id, BiFunction<Contact, Request, Response> answer) {
    InMemoryTransport transport = c.network.newTransport();
    Contact me = new Contact(id, transport.address());
    c.await(transport.start(request -> Mono.just(answer.apply(me, request))));
    return new RawPeer(me, transport);
  }

  /** A peer that is no node: it answers pings and sends what the test tells it to. */
  private record RawPeer(Contact contact, InMemoryTransport transport) {
    static RawPeer pinging(Cluster c, NodeId id) {
      return peer(c, id, (self, request) -> new Response.Pong(self));
    }

    void send(Cluster c, KadNode to, Request request) {
      c.await(transport.send(to.contact().address(), request));
    }
  }

  /** A peer that answers every find with many junk contacts and expired or foreign values. */
  private Contact hostile(Cluster c, Contact victim, SplittableRandom rng) {
    List<Contact> junk = new ArrayList<>(); // filled below, before anyone asks
    Contact me =
        peer(
            c,
            rng,
            (self, request) -> {
              if (request instanceof Request.FindNode) {
                return new Response.NodesFound(self, junk);
              }
              if (request instanceof Request.FindValue) {
                Value expired = Value.of(new byte[] {1}, self.id(), 1, 1, c.now().minusSeconds(1));
                return new Response.ValuesFound(self, List.of(expired), junk);
              }
              return new Response.Pong(self);
            });
    for (int i = 0; i < 300; i++) {
      junk.add(
          new Contact(NodeId.random(rng), new Address("10.66." + (i >> 8) + "." + (i & 0xff), 1)));
    }
    junk.add(victim);
    junk.add(junk.get(0));
    junk.add(new Contact(NodeId.random(256, rng), new Address("10.67.0.1", 1)));
    return me;
  }

  @Test
  void aPeerWatchingMoreKeysThanMaxSubscriptionsPerPeerIsRefusedAndOthersAreNot() {
    Cluster c = clusters.grow(53, CONFIG.toBuilder().maxSubscriptionsPerPeer(2).build(), 1);
    Address node = c.node(0).contact().address();
    SplittableRandom rng = new SplittableRandom(53);
    InMemoryTransport greedy = c.network.newTransport();
    InMemoryTransport modest = c.network.newTransport();
    Contact greedyContact = new Contact(NodeId.random(rng), greedy.address());
    Contact modestContact = new Contact(NodeId.random(rng), modest.address());
    Duration ttl = Duration.ofMinutes(5);
    c.await(greedy.start(request -> Mono.just(new Response.Pong(greedyContact))));
    c.await(modest.start(request -> Mono.just(new Response.Pong(modestContact))));

    List<Response> answers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      answers.add(
          c.await(greedy.send(node, new Request.Subscribe(greedyContact, Key.of("k" + i), ttl))));
    }
    Response other =
        c.await(modest.send(node, new Request.Subscribe(modestContact, Key.of("k2"), ttl)));

    assertThat(answers.subList(0, 2)).allMatch(Response.Subscribed.class::isInstance);
    assertThat(answers.get(2))
        .isInstanceOfSatisfying(
            Response.Failure.class,
            f -> assertThat(f.message()).contains("maxSubscriptionsPerPeer"));
    assertThat(other).isInstanceOf(Response.Subscribed.class);
  }

  @Test
  void junkContactsAndValuesFromAPeerTouchNeitherTheTableNorTheResults() {
    Cluster c = clusters.grow(51, 20);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(51);
    Contact bad = hostile(c, victim.contact(), rng);
    KadNodes.learn(victim, List.of(bad));
    int tableBefore = victim.routingTable().size();

    NodeId target = NodeId.random(rng);
    List<LookupEvent> events = c.await(victim.trace(target));
    LookupEvent.Answered answer = answerFrom(events, bad);
    // Bounded by k, without the asker, duplicates or ids of another width.
    assertThat(answer.returned()).isEqualTo(CONFIG.k());
    LookupEvent.Finished finished = (LookupEvent.Finished) events.get(events.size() - 1);
    // Junk contacts never answer, so none is a result; the real closest still are.
    assertThat(finished.closest()).noneMatch(x -> x.address().host().startsWith("10.66."));
    List<NodeId> expected =
        c.trueClosest(target, CONFIG.k() + 1).stream()
            .filter(id -> !id.equals(victim.id()))
            .limit(CONFIG.k())
            .toList();
    assertThat(Cluster.ids(finished.closest())).containsAll(expected.subList(0, CONFIG.k() - 1));
    // Returned contacts are never added to the table: only nodes heard from are.
    assertThat(victim.routingTable().contacts())
        .noneMatch(x -> x.address().host().startsWith("10.66."));
    assertThat(victim.routingTable().size()).isLessThanOrEqualTo(tableBefore + c.nodes.size());

    // An expired value from the peer is never emitted by get.
    assertThat(c.await(victim.get(Key.of("anything")))).isEmpty();
  }

  @Test
  void getTakesASignedValueOnlyUnderTheKeyItWasSignedFor() throws Exception {
    Cluster c = clusters.grow(57, 6);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(57);
    var owner = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Key key = Key.of("profile");
    NodeId publisher = NodeId.random(rng);
    java.time.Instant expiry = c.now().plus(Duration.ofHours(1));
    Value genuine = Value.of(new byte[] {1}, publisher, 1, 1, expiry).signedWith(key, owner);
    // the owner's value for another key, replayed here with a higher seq
    Value replayed =
        Value.of(new byte[] {2}, publisher, 1, 9, expiry).signedWith(Key.of("other"), owner);
    Contact peer =
        peer(
            c,
            rng,
            (self, request) ->
                request instanceof Request.FindValue
                    ? new Response.ValuesFound(self, List.of(replayed, genuine), List.of())
                    : new Response.Pong(self));
    KadNodes.learn(victim, List.of(peer));

    assertThat(c.await(victim.get(key))).containsExactly(genuine);
  }

  @Test
  void aValueSignedWithAnotherKeyUnderAPublishersIdHidesNoneOfThatPublishersValues()
      throws Exception {
    Cluster c = clusters.grow(61, 6);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(61);
    var owner = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    var forger = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Key key = Key.of("profile");
    NodeId publisher = NodeId.random(rng);
    java.time.Instant expiry = c.now().plus(Duration.ofHours(1));
    Value genuine = Value.of(new byte[] {1}, publisher, 1, 5, expiry).signedWith(key, owner);
    // It verifies, under the forger's key: the same identity and seq, other data.
    Value forged = Value.of(new byte[] {2}, publisher, 1, 5, expiry).signedWith(key, forger);
    Contact peer =
        peer(
            c,
            rng,
            (self, request) ->
                request instanceof Request.FindValue
                    ? new Response.ValuesFound(self, List.of(forged, genuine), List.of())
                    : new Response.Pong(self));
    KadNodes.learn(victim, List.of(peer));

    assertThat(c.await(victim.get(key))).containsExactlyInAnyOrder(forged, genuine);
    // Nor is the forgery cached: a store keeps the first of the two it is sent, so the get's
    // cached copy leaves out a publisher's value id found under two keys.
    c.vts.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(c.holders(key)).isEmpty();
  }

  @Test
  void aValueAnsweredWithAnExpiryNoNodeWouldStoreIsDroppedAndSpoilsNoCachedCopy() {
    Cluster c = clusters.grow(59, 6);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(59);
    Key key = Key.of("parked");
    Value genuine =
        Value.of(new byte[] {1}, NodeId.random(rng), 1, 1, c.now().plus(Duration.ofHours(1)));
    // Later than expireAfter (24 h) from now: every node refuses to store it.
    Value parked =
        Value.of(new byte[] {2}, NodeId.random(rng), 1, 1, c.now().plus(Duration.ofDays(365)));
    Contact peer =
        peer(
            c,
            rng,
            (self, request) ->
                request instanceof Request.FindValue
                    ? new Response.ValuesFound(self, List.of(parked, genuine), List.of())
                    : new Response.Pong(self));
    KadNodes.learn(victim, List.of(peer));
    assertThat(c.holders(key)).isEmpty();

    assertThat(c.await(victim.get(key))).containsExactly(genuine);
    // The get caches what it found at the closest node that lacked it: the genuine value, which
    // a Store carrying the parked one too would have lost with it (refused as a whole).
    c.vts.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(c.holders(key)).hasSize(1);
  }

  @Test
  void contactsAtAddressesNoRequestCouldReachAreNeitherAskedNorKept() {
    Cluster c = clusters.grow(59, 10);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(59);
    List<Contact> bogons = new ArrayList<>();
    for (String host : List.of("0.0.0.0", "224.0.0.1", "255.255.255.255", "::", "ff02::1")) {
      bogons.add(new Contact(NodeId.random(rng), new Address(host, 4000)));
    }
    bogons.add(new Contact(NodeId.random(rng), new Address("10.1.2.3", 0)));
    Contact steering =
        peer(
            c,
            rng,
            (self, request) ->
                request instanceof Request.FindNode
                    ? new Response.NodesFound(self, bogons)
                    : new Response.Pong(self));
    KadNodes.learn(victim, List.of(steering));

    List<LookupEvent> events = c.await(victim.trace(NodeId.random(rng)));

    assertThat(answerFrom(events, steering).returned()).isEqualTo(bogons.size());
    assertThat(events)
        .noneMatch(e -> e instanceof LookupEvent.Queried q && bogons.contains(q.contact()))
        .noneMatch(e -> e instanceof LookupEvent.CloserFound f && bogons.contains(f.contact()));
    assertThat(events)
        .last()
        .isInstanceOfSatisfying(
            LookupEvent.Finished.class,
            f -> assertThat(f.closest()).doesNotContainAnyElementsOf(bogons));
    // nor does a sender advertising one get into the table
    RawPeer portZero = peer(c, NodeId.random(rng), (self, request) -> new Response.Pong(self));
    Contact claimed = new Contact(portZero.contact().id(), new Address("10.1.2.3", 0));
    portZero.send(c, victim, new Request.Ping(claimed));
    assertThat(victim.routingTable().contacts()).doesNotContain(claimed);
  }

  @Test
  void aPutThatNoNodeAnswersFailsAsTransientNotAsRejected() {
    KadConfig config = CONFIG.toBuilder().hardTimeout(Duration.ofSeconds(2)).build();
    Cluster c = clusters.grow(60, config, 1);
    KadNode publisher = c.node(0);
    Key key = Key.of("unanswered");
    SplittableRandom rng = new SplittableRandom(60);
    List<Contact> silent = new ArrayList<>();
    for (int i = 0; i < config.k(); i++) {
      // closer to the key than the publisher, so it keeps no copy itself
      NodeId id = key.asNodeId().randomInBucket(100, rng);
      InMemoryTransport transport = c.network.newTransport();
      Contact me = new Contact(id, transport.address());
      c.await(
          transport.start(
              request ->
                  request instanceof Request.Store
                      ? Mono.never()
                      : request instanceof Request.FindNode
                          ? Mono.just(new Response.NodesFound(me, List.of()))
                          : Mono.just(new Response.Pong(me))));
      silent.add(me);
    }
    KadNodes.learn(publisher, silent);

    assertThatThrownBy(() -> c.await(publisher.put(key, new byte[] {1})))
        .isInstanceOf(UnreachableContactException.class)
        .hasMessageContaining("no node answered")
        .satisfies(e -> assertThat(((KadException) e).isTransient()).isTrue());
  }

  @Test
  void aStoreAcceptedByAnotherIdThanTheNodeAskedIsNoCopyOfThePut() {
    Cluster c = clusters.grow(61, 1);
    KadNode publisher = c.node(0);
    Key key = Key.of("someone else");
    SplittableRandom rng = new SplittableRandom(61);
    InMemoryTransport transport = c.network.newTransport();
    // Closer to the key than the publisher: the put's only copy elsewhere would be here.
    Contact asked = new Contact(key.asNodeId().randomInBucket(100, rng), transport.address());
    Contact other = new Contact(NodeId.random(rng), transport.address());
    c.await(
        transport.start(
            request ->
                Mono.just(
                    request instanceof Request.Store
                        ? new Response.Stored(other, 1, List.of())
                        : request instanceof Request.FindNode
                            ? new Response.NodesFound(asked, List.of())
                            : new Response.Pong(asked))));
    KadNodes.learn(publisher, List.of(asked));

    // Its own copy aside, the publisher stored nowhere: the put errors, carrying its outcome.
    NoStoreAnsweredException error =
        catchThrowableOfType(
            NoStoreAnsweredException.class, () -> c.await(publisher.put(key, new byte[] {1})));
    PutResult result = error.putResult().orElseThrow();

    assertThat(result.accepted()).doesNotContain(asked, other);
    assertThat(result.failed()).containsExactly(asked);
  }

  @Test
  void anAnswerForAFullKeyListsOnlyTheContactsThatFitBesideItsValues() {
    KadConfig config =
        CONFIG.toBuilder().maxFrameBytes(16 * 1024).maxValueBytes(4096).maxValuesPerKey(64).build();
    Cluster c = clusters.grow(62, config, 1);
    KadNode node = c.node(0);
    SplittableRandom rng = new SplittableRandom(62);
    // Peers advertising the longest hosts an address may have: each enters the table.
    for (int i = 0; i < config.k(); i++) {
      Contact claimed =
          new Contact(
              NodeId.random(rng), new Address(("p" + i + "-").repeat(100).substring(0, 253), 1));
      RawPeer.pinging(c, NodeId.random(rng)).send(c, node, new Request.Ping(claimed));
    }
    assertThat(node.routingTable().size()).isEqualTo(config.k());
    RawPeer reader = RawPeer.pinging(c, NodeId.random(rng));
    Key key = Key.of("full");
    long held = 0;
    for (int size = config.maxValueBytes(); size > 0; size /= 2) {
      for (int tries = 0; tries < config.maxValuesPerKey(); tries++) {
        Value v = Value.of(new byte[size], NodeId.random(rng), 0, 1, c.now().plusSeconds(600));
        if (held + config.valueWireBytes(v) > config.keyWireBudget()) {
          break;
        }
        held += config.valueWireBytes(v);
        Response stored =
            c.await(
                reader
                    .transport()
                    .send(
                        node.contact().address(),
                        new Request.Store(reader.contact(), key, List.of(v), false)));
        assertThat(stored).isInstanceOf(Response.Stored.class);
      }
    }

    Response answer =
        c.await(
            reader
                .transport()
                .send(node.contact().address(), new Request.FindValue(reader.contact(), key)));

    Response.ValuesFound found = (Response.ValuesFound) answer;
    long wire =
        found.values().stream().mapToLong(config::valueWireBytes).sum()
            + found.contacts().stream().mapToLong(config::contactWireBytes).sum();
    assertThat(found.values()).hasSizeGreaterThan(1);
    assertThat(found.contacts()).isNotEmpty();
    assertThat(wire).isLessThanOrEqualTo(config.maxFrameBytes() - 512L);
  }

  @Test
  void contactsRepeatedInOneAnswerCountOnce() {
    Cluster c = clusters.grow(53, 5);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(53);
    Contact x = new Contact(NodeId.random(rng), new Address("10.68.0.1", 1));
    Contact y = new Contact(NodeId.random(rng), new Address("10.68.0.2", 1));
    // The same id under another address is the same contact too.
    Contact xElsewhere = new Contact(x.id(), new Address("10.68.0.3", 1));
    Contact me =
        peer(
            c,
            rng,
            (self, request) ->
                new Response.NodesFound(self, List.of(x, x, y, xElsewhere, y, x, self, y)));
    KadNodes.learn(victim, List.of(me));

    List<LookupEvent> events = c.await(victim.trace(NodeId.random(rng)));

    assertThat(answerFrom(events, me).returned()).isEqualTo(2);
    assertThat(events)
        .filteredOn(e -> e instanceof LookupEvent.Queried q && q.contact().id().equals(x.id()))
        .hasSize(1);
  }

  @Test
  void anAnswerFromAnotherIdThanTheOneAskedIsAFailure() {
    Cluster c = clusters.grow(52, 5);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(52);
    InMemoryTransport transport = c.network.newTransport();
    Contact claimed = new Contact(NodeId.random(rng), transport.address());
    Contact actual = new Contact(NodeId.random(rng), transport.address());
    c.await(transport.start(request -> Mono.just(new Response.NodesFound(actual, List.of()))));
    KadNodes.learn(victim, List.of(claimed));
    List<LookupEvent> events = c.await(victim.trace(claimed.id()));
    assertThat(events)
        .anySatisfy(
            e ->
                assertThat(e)
                    .isInstanceOfSatisfying(
                        LookupEvent.Failed.class,
                        f -> {
                          assertThat(f.contact()).isEqualTo(claimed);
                          assertThat(f.reason()).contains("answered as");
                        }));
    // The id that answered is learnt at the address that answered, the only one proven; never
    // the lookup's answer for the id asked.
    assertThat(victim.routingTable().contacts()).contains(actual);
  }

  @Test
  void aContactWhoseAddressAnswersWithAnotherIdIsEvictedAfterMaxFailures() {
    // What a node restarted at the same address with a new id looks like to those that knew it.
    Cluster c =
        clusters.grow(56, KadConfig.builder().k(8).maxFailures(2).maintenance(false).build(), 5);
    KadNode node = c.node(0);
    SplittableRandom rng = new SplittableRandom(56);
    InMemoryTransport transport = c.network.newTransport();
    Contact old = new Contact(NodeId.random(rng), transport.address());
    Contact restarted = new Contact(NodeId.random(rng), transport.address());
    c.await(transport.start(request -> Mono.just(new Response.NodesFound(restarted, List.of()))));
    KadNodes.learn(node, List.of(old));
    for (int i = 0; i < 3; i++) {
      c.await(node.findNode(old.id()));
      c.vts.advanceTimeBy(Duration.ofSeconds(1));
    }
    assertThat(node.routingTable().contacts()).doesNotContain(old);
    // The node serving the address now is live and was reached there: it takes the old one's
    // place, so a node whose contacts all restarted still knows someone after a rejoin.
    assertThat(node.routingTable().contacts()).contains(restarted);
  }

  @Test
  void madeUpIdsPingingFromOneSilentAddressTakeOnePlacePerBucket() {
    // An attacker trial: pings from made-up ids, all claiming one address that accepts
    // connections and never answers. Each took a free place or a replacement's, answers handed
    // them out, and every lookup that met one waited out its timeout.
    Cluster c = clusters.grow(59, 12);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(59);
    InMemoryTransport silent = c.network.newTransport();
    c.await(silent.start(request -> Mono.never()));
    List<Contact> known = victim.routingTable().contacts();
    for (int i = 0; i < 500; i++) {
      Contact madeUp = new Contact(NodeId.random(rng), silent.address());
      assertThat(c.await(silent.send(victim.contact().address(), new Request.Ping(madeUp))))
          .isInstanceOf(Response.Pong.class);
    }
    int held = 0;
    for (RoutingTableSnapshot.Bucket b : victim.routingTable().buckets()) {
      long here =
          Stream.concat(b.contacts().stream(), b.replacements().stream())
              .filter(contact -> contact.address().equals(silent.address()))
              .count();
      assertThat(here).as("ids at the silent address in %s", b).isLessThanOrEqualTo(1);
      held += (int) here;
    }
    assertThat(held).isBetween(1, victim.routingTable().buckets().size());
    // The nodes it knew are all still there.
    assertThat(victim.routingTable().contacts()).containsAll(known);
  }

  @Test
  void madeUpIdsAtManyPortsOfOnePublicIpTakeAtMostMaxPerIpPlacesPerBucket() {
    // The attacker trial of 2026-11-27: pings from made-up ids at ports 20,000 to 50,000 of one
    // host, each port a distinct address, took most places of the victims' buckets.
    Cluster c = clusters.grow(61, 12);
    KadNode victim = c.node(0);
    SplittableRandom rng = new SplittableRandom(61);
    RawPeer attacker = RawPeer.pinging(c, NodeId.random(rng));
    List<Contact> known = victim.routingTable().contacts();
    for (int port = 20_000; port < 20_500; port++) {
      Contact madeUp = new Contact(NodeId.random(rng), new Address("203.0.113.7", port));
      attacker.send(c, victim, new Request.Ping(madeUp));
    }
    int held = 0;
    for (RoutingTableSnapshot.Bucket b : victim.routingTable().buckets()) {
      long here =
          b.contacts().stream().filter(x -> x.address().host().equals("203.0.113.7")).count();
      assertThat(here)
          .as("contacts at the one IP in %s", b)
          .isLessThanOrEqualTo(victim.config().maxPerIp());
      held += (int) here;
    }
    assertThat(held).isPositive();
    assertThat(victim.routingTable().contacts()).containsAll(known);
  }

  @Test
  void aNodeRestartedWithANewIdAtItsAddressTakesItsPlaceOnceAskedThere() {
    // A node restarts at its address with a new id (the Spring starter's default), in the same
    // bucket of the tables that held it. Its requests claim the address the old id holds there,
    // which proves nothing; the address answering as the new id when asked for the old one does.
    Cluster c = clusters.grow(60, CONFIG.toBuilder().maxFailures(3).build(), 8);
    KadNode node = c.node(0);
    KadNode old = c.node(5);
    Contact before = old.contact();
    KadNodes.learn(node, List.of(before));
    assertThat(node.routingTable().contacts()).contains(before);
    c.network.kill(before.address());
    c.await(old.close());
    c.nodes.remove(old);
    c.network.revive(before.address());
    // The old id with its last bit flipped: the same bucket in every table.
    byte[] bytes = before.id().toBytes();
    bytes[bytes.length - 1] ^= 1;
    KadNode restarted =
        c.await(
            c.builder()
                .id(NodeId.of(bytes))
                .transport(c.network.newTransport(before.address()))
                .start());
    c.nodes.add(restarted);
    c.await(restarted.bootstrap(List.of(c.node(1).contact().address())));
    assertThat(node.routingTable().contacts()).contains(before).doesNotContain(restarted.contact());

    c.await(node.findNode(before.id()));
    assertThat(node.routingTable().contacts()).contains(restarted.contact()).doesNotContain(before);
  }

  @Test
  void failuresOfAKnownIdAtAnAddressAnAnswerMadeUpDoNotEvictItsTableContact() {
    // A hostile peer answers with the id of a good contact at a dead address. The lookup does not
    // know the good contact (it is not among the 2k closest that seed it: dead contacts closer to
    // the target are), so it asks the made-up address, and that failure must not count against
    // the contact the table holds at its own address.
    KadConfig config = KadConfig.builder().k(2).maxFailures(3).maintenance(false).build();
    Cluster c = clusters.grow(58, config, 0);
    KadNode node = c.start(config);
    c.nodes.add(node);
    SplittableRandom rng = new SplittableRandom(58);
    RawPeer good = RawPeer.pinging(c, node.id().randomInBucket(100, rng));
    Contact madeUp = new Contact(good.contact().id(), new Address("10.66.1.1", 4000));
    RawPeer hostile =
        peer(
            c,
            node.id().randomInBucket(13, rng),
            (self, request) -> new Response.NodesFound(self, List.of(madeUp)));
    List<Contact> known = new ArrayList<>();
    for (int i = 10; i < 13; i++) {
      // Nothing was ever handed this address: requests to it are refused at once.
      known.add(new Contact(node.id().randomInBucket(i, rng), new Address("10.66.0." + i, 4000)));
    }
    known.add(hostile.contact());
    known.add(good.contact());
    KadNodes.learn(node, known);
    NodeId target = node.id().randomInBucket(2, rng);

    for (int round = 0; round < config.maxFailures(); round++) {
      List<LookupEvent> events = c.await(node.trace(target));
      assertThat(events)
          .as("round %d asks the made-up address", round)
          .anySatisfy(
              e ->
                  assertThat(e)
                      .isInstanceOfSatisfying(
                          LookupEvent.Failed.class,
                          f -> assertThat(f.contact()).isEqualTo(madeUp)));
      c.vts.advanceTimeBy(Duration.ofSeconds(1));
    }
    assertThat(node.routingTable().contacts()).contains(good.contact());
  }

  @Test
  void aContactEntersTheTableAtTheAddressThatAnsweredNotTheOneItsAnswerClaims() {
    Cluster c = clusters.grow(57, 3);
    KadNode node = c.node(0);
    SplittableRandom rng = new SplittableRandom(57);
    Address claimed = new Address("10.77.0.1", 4000);
    RawPeer misleading =
        peer(
            c,
            NodeId.random(rng),
            (self, request) -> new Response.NodesFound(new Contact(self.id(), claimed), List.of()));
    RawPeer referrer =
        peer(
            c,
            NodeId.random(rng),
            (self, request) -> new Response.NodesFound(self, List.of(misleading.contact())));
    KadNodes.learn(node, List.of(referrer.contact()));

    c.await(node.findNode(misleading.contact().id()));

    // The address dialed is proven to reach the id; the one claimed is only said.
    assertThat(node.routingTable().contacts())
        .contains(misleading.contact())
        .noneMatch(known -> known.address().equals(claimed));
  }

  /** A k = 2 node whose far bucket is full: {@code oldest}, then {@code second}. */
  private record FullBucket(
      Cluster c, KadNode node, SplittableRandom rng, RawPeer oldest, RawPeer second) {

    static final KadConfig CONFIG =
        KadConfig.builder()
            .k(2)
            .pingGrace(Duration.ofMinutes(1))
            .hardTimeout(Duration.ofSeconds(2))
            .maintenance(false)
            .build();

    /**
     * Fills the bucket by a request from each of {@code oldest} (answering as told), a second
     * contact and one on the own-id side (so the far bucket may not split), then lets two minutes
     * pass: the oldest is past the ping grace.
     */
    static FullBucket of(
        Cluster.PerTest clusters,
        long seed,
        BiFunction<Contact, Request, Response> oldestAnswers,
        boolean oldestDies) {
      Cluster c = clusters.grow(seed, CONFIG, 1);
      KadNode node = c.node(0);
      SplittableRandom rng = new SplittableRandom(seed);
      RawPeer oldest = peer(c, node.id().randomInBucket(159, rng), oldestAnswers);
      RawPeer second = RawPeer.pinging(c, node.id().randomInBucket(159, rng));
      RawPeer near = RawPeer.pinging(c, node.id().randomInBucket(10, rng));
      for (RawPeer p : List.of(oldest, second, near)) {
        p.send(c, node, new Request.Ping(p.contact()));
      }
      if (oldestDies) {
        c.network.kill(oldest.contact().address());
      }
      c.vts.advanceTimeBy(Duration.ofMinutes(2));
      return new FullBucket(c, node, rng, oldest, second);
    }

    /** A newcomer to the full bucket whose FindNode has the oldest probed; waits for the probe. */
    RawPeer newcomerAsks() {
      RawPeer asker = RawPeer.pinging(c, node.id().randomInBucket(159, rng));
      asker.send(c, node, new Request.FindNode(asker.contact(), NodeId.random(rng)));
      c.vts.advanceTimeBy(CONFIG.hardTimeout().multipliedBy(2));
      return asker;
    }
  }

  private static Response pong(Contact self, Request request) {
    return new Response.Pong(self);
  }

  @Test
  void aNewcomersPingNeverVouchesForTheQuietOldestContactOfAFullBucket() {
    FullBucket b = FullBucket.of(clusters, 54, HostilePeerTest::pong, true);
    // A newcomer's ping finds the bucket full; it must not make the dead oldest look alive.
    RawPeer pinger = RawPeer.pinging(b.c(), b.node().id().randomInBucket(159, b.rng()));
    pinger.send(b.c(), b.node(), new Request.Ping(pinger.contact()));
    // The next newcomer's request has the oldest probed: silent, it makes room.
    RawPeer asker = b.newcomerAsks();

    assertThat(b.node().routingTable().contacts())
        .doesNotContain(b.oldest().contact())
        .contains(b.second().contact(), asker.contact());
  }

  @Test
  void aContactLearntWithoutAMessageLeavesTheFullBucketFreeToProbeItsOldest() {
    FullBucket b = FullBucket.of(clusters, 57, HostilePeerTest::pong, true);
    // Learnt while the oldest is quiet: the table asks for a ping that learn() never sends.
    KadNodes.learn(
        b.node(),
        List.of(
            new Contact(
                b.node().id().randomInBucket(159, b.rng()), new Address("10.99.0.1", 4000))));
    RawPeer asker = b.newcomerAsks();

    assertThat(b.node().routingTable().contacts())
        .doesNotContain(b.oldest().contact())
        .contains(b.second().contact(), asker.contact());
  }

  @Test
  void aProbedOldestThatRefusesThePingHasAnsweredAndStays() {
    // Alive, but it refuses pings (rate-limited, say): a refusal is an answer.
    FullBucket b =
        FullBucket.of(
            clusters,
            58,
            (self, request) ->
                request instanceof Request.Ping
                    ? new Response.Failure(self, Response.Code.LIMIT, "busy")
                    : new Response.Pong(self),
            false);
    RawPeer asker = b.newcomerAsks();

    assertThat(b.node().routingTable().contacts())
        .contains(b.oldest().contact(), b.second().contact())
        .doesNotContain(asker.contact());
  }

  @Test
  void aSubscriberThatDoesNotTakeItsPushLosesTheSubscription() {
    Cluster c = clusters.grow(55, 1);
    DefaultKadNode node = (DefaultKadNode) c.node(0);
    Key key = Key.of("pushed");
    RawPeer watcher = RawPeer.pinging(c, NodeId.random(new SplittableRandom(55)));
    watcher.send(c, node, new Request.Subscribe(watcher.contact(), key, Duration.ofMinutes(5)));
    assertThat(node.subscribers().subscribers(key, c.now())).containsExactly(watcher.contact());
    c.network.kill(watcher.contact().address());
    putOnlyHere(c, node, key);
    c.vts.advanceTimeBy(CONFIG.hardTimeout().multipliedBy(2));
    assertThat(node.subscribers().subscribers(key, c.now())).isEmpty();
  }

  @Test
  void subscribersThatNeverAnswerPushesDoNotDelayALiveWatchersPush() {
    Cluster c = clusters.grow(63, 1);
    DefaultKadNode node = (DefaultKadNode) c.node(0);
    Key key = Key.of("crowded");
    SplittableRandom rng = new SplittableRandom(63);
    // Subscribed first (60 of the 64 a key takes), each holds its push for the hard timeout: it
    // never answers.
    for (int i = 0; i < 60; i++) {
      InMemoryTransport silent = c.network.newTransport();
      Contact me = new Contact(NodeId.random(rng), silent.address());
      c.await(
          silent.start(
              request ->
                  request instanceof Request.Notify
                      ? Mono.never()
                      : Mono.just(new Response.Pong(me))));
      c.await(silent.send(node.contact().address(), new Request.Subscribe(me, key, TTL)));
    }
    List<Request.Notify> pushed = new java.util.concurrent.CopyOnWriteArrayList<>();
    InMemoryTransport live = c.network.newTransport();
    Contact watcher = new Contact(NodeId.random(rng), live.address());
    c.await(
        live.start(
            request -> {
              if (request instanceof Request.Notify n) {
                pushed.add(n);
              }
              return Mono.just(new Response.Pong(watcher));
            }));
    assertThat(
            c.await(live.send(node.contact().address(), new Request.Subscribe(watcher, key, TTL))))
        .isInstanceOf(Response.Subscribed.class);

    putOnlyHere(c, node, key);
    c.vts.advanceTimeBy(CONFIG.softTimeout());

    assertThat(pushed).hasSize(1);
  }

  @Test
  void aPushAnsweredFromAnotherIdEndsTheSubscription() {
    Cluster c = clusters.grow(59, 1);
    DefaultKadNode node = (DefaultKadNode) c.node(0);
    Key key = Key.of("moved");
    SplittableRandom rng = new SplittableRandom(59);
    NodeId stranger = NodeId.random(rng);
    // The watcher's address now serves another node, one that takes any push.
    RawPeer watcher =
        peer(
            c,
            NodeId.random(rng),
            (self, request) -> new Response.Pong(new Contact(stranger, self.address())));
    watcher.send(c, node, new Request.Subscribe(watcher.contact(), key, Duration.ofMinutes(5)));
    putOnlyHere(c, node, key);
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(node.subscribers().subscribers(key, c.now())).isEmpty();
  }

  @Test
  void aRefusedPushDoesNotEndASubscriptionRenewedWhileTheRefusalTravelled() {
    Cluster c = clusters.grow(60, 1);
    DefaultKadNode node = (DefaultKadNode) c.node(0);
    Key key = Key.of("renewed");
    InMemoryTransport transport = c.network.newTransport();
    Contact watcher = new Contact(NodeId.random(new SplittableRandom(60)), transport.address());
    // It refuses the push (its old watch had ended), and the refusal takes a second to arrive.
    c.await(
        transport.start(
            request ->
                request instanceof Request.Notify
                    ? Mono.<Response>just(
                            new Response.Failure(watcher, Response.Code.INVALID, "no"))
                        .delayElement(Duration.ofSeconds(1), c.vts)
                    : Mono.just(new Response.Pong(watcher))));
    Request.Subscribe subscribe = new Request.Subscribe(watcher, key, Duration.ofMinutes(5));
    c.await(transport.send(node.contact().address(), subscribe));
    putOnlyHere(c, node, key);
    // A new watch subscribes again while the refusal of the old one's push travels.
    c.await(transport.send(node.contact().address(), subscribe));
    c.vts.advanceTimeBy(Duration.ofSeconds(2));
    assertThat(node.subscribers().subscribers(key, c.now())).containsExactly(watcher);
  }

  /**
   * Stores a value at {@code node} by a put, which pushes it to the key's watchers: the node's only
   * contacts are raw peers that answer no lookup or store, so the put errors, keeping its own copy.
   */
  private static void putOnlyHere(Cluster c, KadNode node, Key key) {
    assertThatThrownBy(() -> c.await(node.put(key, new byte[] {1})))
        .isInstanceOf(NoStoreAnsweredException.class)
        .hasMessageContaining("stored only at this node");
  }

  @Test
  void aFlappingPeerIsEvictedAfterMaxFailures() {
    Cluster c =
        clusters.grow(53, KadConfig.builder().k(8).maxFailures(2).maintenance(false).build(), 6);
    KadNode node = c.node(0);
    Contact gone = c.node(3).contact();
    c.network.kill(gone.address());
    for (int i = 0; i < 3; i++) {
      c.await(node.findNode(gone.id()));
      c.vts.advanceTimeBy(Duration.ofSeconds(1));
    }
    assertThat(node.routingTable().contacts()).doesNotContain(gone);
  }
}
