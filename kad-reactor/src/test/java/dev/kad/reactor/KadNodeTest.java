package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.Value;
import dev.kad.api.ValueTooLargeException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.reactor.store.StoreOutcome;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.InMemoryTransport;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;

class KadNodeTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(8)
          .alpha(3)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .maintenance(false)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  @Test
  void findNodeReturnsTheTrueKClosestOfTheNetwork() {
    Cluster c = clusters.grow(1, 120);
    for (int i = 0; i < 20; i++) {
      NodeId target = NodeId.random(c.random);
      KadNode from = c.node(c.random.nextInt(c.nodes.size()));
      List<Contact> found = c.await(from.findNode(target));
      List<NodeId> expected =
          c.trueClosest(target, CONFIG.k() + 1).stream()
              .filter(id -> !id.equals(from.id()))
              .limit(CONFIG.k())
              .toList();
      assertThat(Cluster.ids(found))
          .as("lookup %d for %s", i, target)
          .containsExactlyElementsOf(expected);
    }
  }

  @Test
  void lookupsStillFindTheClosestLiveNodesWhenAFifthAreDead() {
    Cluster c = clusters.grow(2, 120);
    for (int i = 0; i < 24; i++) {
      c.network.kill(c.node(5 * i + 1).contact().address());
    }
    double hits = 0;
    int lookups = 10;
    for (int i = 0; i < lookups; i++) {
      NodeId target = NodeId.random(c.random);
      List<Contact> found = c.await(c.node(0).findNode(target));
      List<NodeId> expected =
          c.trueClosest(target, CONFIG.k() + 1).stream()
              .filter(id -> !id.equals(c.node(0).id()))
              .limit(CONFIG.k())
              .toList();
      hits += Cluster.ids(found).stream().filter(expected::contains).count() / (double) CONFIG.k();
      assertThat(found).allMatch(x -> c.network.isAlive(x.address()));
    }
    assertThat(hits / lookups).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void aValuePutFromOneNodeIsFoundFromAnother() {
    Cluster c = clusters.grow(3, 60);
    Key key = Key.of("greeting");
    PutResult put = c.await(c.node(5).put(key, "hello".getBytes(StandardCharsets.UTF_8)));
    assertThat(put.acceptedCount()).isEqualTo(CONFIG.k());
    assertThat(put.rejected()).isEmpty();
    List<Value> got = c.await(c.node(40).get(key));
    assertThat(got)
        .singleElement()
        .satisfies(
            v -> {
              assertThat(new String(v.data(), StandardCharsets.UTF_8)).isEqualTo("hello");
              assertThat(v.publisher()).isEqualTo(c.node(5).id());
            });
  }

  @Test
  void aSecondPutReplacesTheFirstEverywhere() {
    Cluster c = clusters.grow(4, 40);
    Key key = Key.of("counter");
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    c.await(c.node(1).put(key, new byte[] {2}));
    assertThat(c.await(c.node(30).get(key)))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(2));
  }

  @Test
  void getEmitsEachDistinctValueOnceAndCompletesEmptyForAnUnknownKey() {
    Cluster c = clusters.grow(5, 40);
    Key key = Key.of("many");
    c.await(c.node(1).put(key, new byte[] {1}));
    c.await(c.node(2).put(key, new byte[] {2}));
    List<Value> got = c.await(c.node(30).get(key));
    assertThat(got).extracting(v -> v.data()[0]).containsExactlyInAnyOrder((byte) 1, (byte) 2);
    assertThat(c.await(c.node(30).get(Key.of("nobody")))).isEmpty();
  }

  @Test
  void aGetNeverEmitsAnOlderValueAfterItsNewerOneAndBringsStaleHoldersUpToDate() {
    Cluster c = clusters.grow(15, 40);
    Key key = Key.of("stale");
    KadNode publisher = c.node(1);
    c.await(publisher.put(key, new byte[] {1}));
    // Three holders miss the second put (hung, then back), keeping the first value.
    List<KadNode> holders =
        c.holders(key).stream()
            .filter(n -> n != publisher)
            .sorted(Cluster.byDistanceTo(key))
            .toList();
    List<KadNode> missed = holders.subList(0, 3);
    missed.forEach(n -> c.network.kill(n.contact().address()));
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    c.await(publisher.put(key, new byte[] {2}));
    missed.forEach(n -> c.network.revive(n.contact().address()));
    // A holder of the newer value reads it from its own store first, then meets the older.
    KadNode reader = holders.get(3);

    java.time.Instant repairedAfter = c.now();
    List<Value> got = c.await(reader.get(key));

    // Once the newer value was emitted the older is not: the last one is the newest found.
    assertThat(got).isNotEmpty().last().satisfies(v -> assertThat(v.data()).containsExactly(2));
    assertThat(got).extracting(Value::seq).isSorted().doesNotHaveDuplicates();
    c.await(Mono.delay(Duration.ofSeconds(5), c.vts));
    for (KadNode n : missed) {
      assertThat(((DefaultKadNode) n).store().entries(c.now()))
          .as("the copy at a holder that missed the second put")
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.value().data()).containsExactly(2);
                // Still an original whose replication clock the repair did not restart: it was
                // stored at this node alone, not at the other k - 1.
                assertThat(s.cached()).isFalse();
                assertThat(s.storedAt()).isBefore(repairedAfter);
              });
    }
  }

  @Test
  void aGetFromANodeHoldingAnOlderValueBringsItsOwnCopyUpToDate() {
    Cluster c = clusters.grow(16, 40);
    Key key = Key.of("stale here");
    KadNode publisher = c.node(1);
    c.await(publisher.put(key, new byte[] {1}));
    KadNode missed =
        c.holders(key).stream()
            .filter(n -> n != publisher)
            .min(Cluster.byDistanceTo(key))
            .orElseThrow();
    c.network.kill(missed.contact().address());
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    c.await(publisher.put(key, new byte[] {2}));
    c.network.revive(missed.contact().address());

    // Its own copy first, then the newer one from the others.
    assertThat(c.await(missed.get(key)))
        .extracting(v -> v.data()[0])
        .containsExactly((byte) 1, (byte) 2);

    assertThat(((DefaultKadNode) missed).store().get(key, c.now()))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(2));
  }

  @Test
  void aQuorumOfOneStopsTheLookupEarly() {
    Cluster c = clusters.grow(6, 80);
    Key key = Key.of("quorum");
    c.await(c.node(1).put(key, new byte[] {1}));
    long before = c.network.traffic().requests();
    assertThat(c.await(c.node(50).get(key, 1))).hasSize(1);
    long quorumRpcs = c.network.traffic().requests() - before;
    before = c.network.traffic().requests();
    assertThat(c.await(c.node(50).get(key))).hasSize(1);
    long fullRpcs = c.network.traffic().requests() - before;
    assertThat(quorumRpcs).isLessThan(fullRpcs);
  }

  @Test
  void afterAGetTheValueIsCachedAtTheClosestNodeThatLackedIt() {
    Cluster c = clusters.grow(7, 60);
    Key key = Key.of("cache me");
    c.await(c.node(1).put(key, new byte[] {7}));
    // Kill the closest holder, so the get meets nodes that lack the value.
    KadNode closest =
        c.nodes.stream().filter(n -> n != c.node(45)).min(Cluster.byDistanceTo(key)).orElseThrow();
    c.network.kill(closest.contact().address());
    int holdersBefore = c.holders(key).size();
    assertThat(c.await(c.node(45).get(key))).hasSize(1);
    c.await(Mono.delay(Duration.ofSeconds(5), c.vts));
    assertThat(c.holders(key)).hasSize(holdersBefore + 1);
  }

  @Test
  void putReportsWhyNodesRefused() {
    Cluster c = clusters.grow(8, 30);
    Key key = Key.of("refused");
    KadNode publisher = c.node(3);
    java.time.Instant expiry = java.time.Instant.ofEpochSecond(86_400);
    c.await(publisher.put(key, Value.of(new byte[] {1}, publisher.id(), 9, 5, expiry)));
    Value older = Value.of(new byte[] {2}, publisher.id(), 9, 4, expiry);
    assertThatThrownBy(() -> c.await(publisher.put(key, older)))
        .isInstanceOf(StoreRejectedException.class)
        .hasMessageContaining("seq 4 is older than the stored seq 5");
  }

  @Test
  void aPreparedValueEveryNodeWouldRefuseFailsAtCallTimeSendingNothing() throws Exception {
    Cluster c = clusters.grow(8, 5);
    KadNode publisher = c.node(1);
    Instant now = c.now();
    c.network.resetTraffic();
    Value expired = Value.of(new byte[] {1}, publisher.id(), 1, 1, now.minusSeconds(1));
    assertThatThrownBy(() -> publisher.put(Key.of("late"), expired))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("value expired at " + now.minusSeconds(1));
    java.security.KeyPair keys =
        java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Value signed =
        Value.of(new byte[] {2}, publisher.id(), 2, 1, now.plusSeconds(60))
            .signedWith(Key.of("prepared"), keys);
    assertThatThrownBy(() -> publisher.put(Key.of("another key"), signed))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("under key " + Key.of("another key").toShortHex())
        .hasMessageContaining("signature does not verify");
    assertThat(c.network.traffic().sent()).isZero();
    // Under the key it was signed for it is stored.
    assertThat(c.await(publisher.put(Key.of("prepared"), signed)).acceptedCount()).isEqualTo(5);
  }

  @Test
  void aValueReachesANewNodeThatJoinsCloserToTheKey() {
    Cluster c = clusters.grow(9, 40);
    Key key = Key.of("hand over");
    c.await(c.node(1).put(key, new byte[] {3}));
    // A new node right next to the key: same id but the last bit.
    byte[] bytes = key.toBytes();
    bytes[bytes.length - 1] ^= 1;
    KadNode newcomer = c.startWithId(NodeId.of(bytes));
    c.await(newcomer.bootstrap(List.of(c.node(0).contact().address())));
    c.nodes.add(newcomer);
    c.await(Mono.delay(Duration.ofSeconds(10), c.vts));
    assertThat(((DefaultKadNode) newcomer).store().get(key, c.now())).hasSize(1);
  }

  @Test
  void bootstrapWithoutAReachableSeedFailsClearly() {
    Cluster c = clusters.grow(10, 2);
    Address dead = c.node(1).contact().address();
    c.network.kill(dead);
    KadNode lonely = c.start(CONFIG);
    c.nodes.add(lonely);
    assertThatThrownBy(() -> c.await(lonely.bootstrap(List.of(dead))))
        .isInstanceOf(UnreachableContactException.class)
        .hasMessageContaining("no seed answered")
        .hasMessageContaining(dead.toString());
  }

  @Test
  void aNodeThatNeverBootstrappedStoresPutsOnlyAtItselfAndSaysSoOnce() {
    Cluster c = clusters.grow(23, 0);
    KadNode alone = c.start(CONFIG);
    c.nodes.add(alone);
    // slf4j-simple writes to the System.err of the moment; the puts run on this thread.
    PrintStream err = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
    PutResult first;
    PutResult second;
    try {
      first = c.await(alone.put(Key.of("one"), new byte[] {1}));
      second = c.await(alone.put(Key.of("two"), new byte[] {2}));
    } finally {
      System.setErr(err);
    }

    assertThat(first.accepted()).extracting(Contact::id).containsExactly(alone.id());
    assertThat(second.accepted()).extracting(Contact::id).containsExactly(alone.id());
    assertThat(logged.toString(StandardCharsets.UTF_8).lines())
        .filteredOn(l -> l.contains("stored a put only at itself"))
        .singleElement()
        .satisfies(
            l ->
                assertThat(l)
                    .contains("WARN")
                    .contains(alone.id().toShortHex())
                    .contains("bootstrap was never subscribed"));
  }

  @Test
  void aNodeWhoseEverySeedIsItselfIsTheFirstNodeOfItsNetwork() {
    // Every node of a cluster is given the first one's address, the first one included.
    Cluster c = clusters.grow(19, 0);
    KadNode first = c.start(CONFIG);
    c.nodes.add(first);
    Address own = first.contact().address();
    // slf4j-simple writes to the System.err of the moment; the bootstrap runs on this thread.
    PrintStream err = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
    try {
      c.await(first.bootstrap(List.of(own, own)));
    } finally {
      System.setErr(err);
    }
    assertThat(logged.toString(StandardCharsets.UTF_8).lines())
        .filteredOn(l -> l.contains("first node of its network"))
        .singleElement()
        .satisfies(l -> assertThat(l).contains("INFO").contains(first.id().toShortHex()));
    assertThat(first.routingTable().size()).isZero();
    assertThat(first.stats().lastHeard()).isEmpty();

    // The others join through it with the same list.
    KadNode second = c.start(CONFIG);
    c.nodes.add(second);
    c.await(second.bootstrap(List.of(own)));
    assertThat(Cluster.ids(second.routingTable().closest(first.id(), 8))).contains(first.id());
    assertThat(Cluster.ids(first.routingTable().closest(second.id(), 8))).contains(second.id());
  }

  @Test
  void aSeedThatIsTheNodesOwnAddressIsItselfWithoutDialingIt() {
    // Behind a NAT without hairpinning a node cannot reach its own public address; it must still
    // see that the seed list's only address is itself. Here nothing reaches it at all.
    Cluster c = clusters.grow(21, 0);
    KadNode first = c.start(CONFIG);
    c.nodes.add(first);
    Address own = first.contact().address();
    c.network.kill(own);
    c.await(first.bootstrap(List.of(own)));
    assertThat(first.routingTable().size()).isZero();

    // Reachable again, it is what the others join through.
    c.network.revive(own);
    KadNode second = c.start(CONFIG);
    c.nodes.add(second);
    c.await(second.bootstrap(List.of(own)));
    assertThat(Cluster.ids(first.routingTable().closest(second.id(), 8))).contains(second.id());
  }

  @Test
  void aSeedAnsweringWithThisNodesIdFromAnotherAddressIsAnotherNodeNotItself() {
    // An operator copied a node's data directory (its id file) to start a second node, and gave
    // it the first node as its seed: the seed answers with the same id from its own address. The
    // copy took that for itself and ran alone as "the first node of its network", silently.
    Cluster c = clusters.grow(26, 0);
    NodeId shared = NodeId.random(c.random);
    KadNode original = c.addWithId(shared);
    KadNode copy = c.addWithId(shared);
    Address seed = original.contact().address();

    assertThatThrownBy(() -> c.await(copy.bootstrap(List.of(seed))))
        .isInstanceOfSatisfying(
            NoSeedAnsweredException.class,
            e -> {
              assertThat(e.selfSeeds()).isEmpty();
              assertThat(e.isTransient()).isFalse();
              assertThat(e.seedFailures().get(seed))
                  .isInstanceOf(IncompatiblePeerException.class)
                  .hasMessageContaining("this node's own id " + shared.toShortHex());
            })
        .hasMessageStartingWith("each seed failed in a way no retry changes: [" + seed + " (");
  }

  @Test
  void aNodeRunningWithThisNodesIdIsFoundThroughOtherNodesAndAStaleOwnAddressIsNot() {
    // Copies of one data directory (a disk or container image) joining through a third node: the
    // seed check cannot see it, but the join's lookup of its own id meets the other copy first.
    Cluster c = clusters.grow(27, 20);
    NodeId shared = NodeId.random(c.random);
    KadNode original = c.addWithId(shared);
    c.await(original.bootstrap(List.of(c.node(0).contact().address())));
    // This node's own address from before a restart on another port, still in others' tables.
    NodeId restartedId = NodeId.random(c.random);
    KadNode before = c.addWithId(restartedId);
    c.await(before.bootstrap(List.of(c.node(2).contact().address())));
    c.network.kill(before.contact().address());

    KadNode copy = c.addWithId(shared);
    c.await(copy.bootstrap(List.of(c.node(1).contact().address())));
    KadNode restarted = c.addWithId(restartedId);
    c.await(restarted.bootstrap(List.of(c.node(3).contact().address())));
    c.vts.advanceTimeBy(CONFIG.hardTimeout().multipliedBy(2));

    assertThat(((DefaultKadNode) copy).sameIdElsewhere())
        .containsExactly(original.contact().address());
    assertThat(((DefaultKadNode) restarted).sameIdElsewhere()).isEmpty();
    // A client publishing for the original shares its id by design (kad put --id): no warning.
    KadNode client =
        c.await(c.builder().config(CONFIG.toBuilder().clientMode(true).build()).id(shared).start());
    c.nodes.add(client);
    c.await(client.bootstrap(List.of(c.node(5).contact().address())));
    c.vts.advanceTimeBy(CONFIG.hardTimeout().multipliedBy(2));
    assertThat(((DefaultKadNode) client).sameIdElsewhere()).isEmpty();
    for (int i = 0; i < 20; i++) {
      assertThat(((DefaultKadNode) c.node(i)).sameIdElsewhere()).isEmpty();
    }
  }

  @Test
  void aSelfSeedIsSkippedButOtherSeedsThatAllFailStillFailTheBootstrap() {
    Cluster c = clusters.grow(20, 2);
    Address dead = c.node(1).contact().address();
    c.network.kill(dead);
    KadNode restarted = c.start(CONFIG);
    c.nodes.add(restarted);
    Address own = restarted.contact().address();
    // The others name a network this node has not reached: a retry must still look for it.
    assertThatThrownBy(() -> c.await(restarted.bootstrap(List.of(own, dead))))
        .isInstanceOfSatisfying(
            NoSeedAnsweredException.class, e -> assertThat(e.selfSeeds()).containsExactly(own))
        .hasMessageStartingWith("no seed answered: [" + dead + " (")
        // The timeout names what went unanswered and the setting that bounds it.
        .hasMessageContaining("no answer from " + dead + " to Ping within 2000 ms (hardTimeout)")
        .hasMessageEndingWith("; skipped [" + own + "]: this node itself")
        .matches(e -> ((NoSeedAnsweredException) e).isTransient());

    // With another seed answering, the self seed is just skipped.
    c.await(restarted.bootstrap(List.of(own, c.node(0).contact().address())));
    assertThat(Cluster.ids(restarted.routingTable().closest(restarted.id(), 8)))
        .contains(c.node(0).id())
        .doesNotContain(restarted.id());
  }

  @Test
  void seedsWhoseSettingsAllDoNotFitFailTheBootstrapForGoodListingEachFailure() {
    Cluster c = clusters.grow(24, 3);
    Address a = c.node(0).contact().address();
    Address b = c.node(1).contact().address();
    KadNode joiner = c.await(c.builder().transport(incompatible(c, Set.of(a, b))).start());
    c.nodes.add(joiner);

    // A retry only repeats it: no retry filtered on isTransient() goes on.
    assertThatThrownBy(() -> c.await(joiner.bootstrap(List.of(b, a))))
        .isInstanceOfSatisfying(
            NoSeedAnsweredException.class,
            e -> {
              assertThat(e.isTransient()).isFalse();
              assertThat(e.seedFailures().keySet()).containsExactly(b, a);
              assertThat(e.seedFailures().values())
                  .allSatisfy(
                      f ->
                          assertThat(f)
                              .isInstanceOf(IncompatiblePeerException.class)
                              .hasMessageContaining("does not fit"));
              assertThat(e.seedFailures().get(a)).hasMessageContaining(a.toString());
            })
        .hasMessageStartingWith("each seed failed in a way no retry changes: [" + b + " (");
  }

  @Test
  void aSeedThatDoesNotFitBesideADeadOneLeavesTheBootstrapTransient() {
    Cluster c = clusters.grow(25, 3);
    Address misfit = c.node(0).contact().address();
    Address dead = c.node(1).contact().address();
    c.network.kill(dead);
    KadNode joiner = c.await(c.builder().transport(incompatible(c, Set.of(misfit))).start());
    c.nodes.add(joiner);
    Address own = joiner.contact().address();

    // The dead seed may come up: a retry may join through it.
    assertThatThrownBy(() -> c.await(joiner.bootstrap(List.of(misfit, own, dead))))
        .isInstanceOfSatisfying(
            NoSeedAnsweredException.class,
            e -> {
              assertThat(e.isTransient()).isTrue();
              assertThat(e.selfSeeds()).containsExactly(own);
              assertThat(e.seedFailures().keySet()).containsExactly(misfit, dead);
              assertThat(e.seedFailures().get(misfit))
                  .isInstanceOf(IncompatiblePeerException.class);
              assertThat(e.seedFailures().get(dead))
                  .isInstanceOf(KadException.class)
                  .isNotInstanceOf(IncompatiblePeerException.class)
                  .matches(f -> ((KadException) f).isTransient());
            });
  }

  @Test
  void aSeedsRefusalOrOddAnswerIsListedByWhetherARetryMayHelp() {
    Cluster c = clusters.grow(26, 3);
    Address invalid = c.node(0).contact().address();
    Address limited = c.node(1).contact().address();
    Address odd = c.node(2).contact().address();
    Transport answering =
        new ForwardingTransport(c.network.newTransport()) {
          @Override
          public Mono<Response> send(Address to, Request request) {
            return super.send(to, request)
                .map(
                    r ->
                        to.equals(invalid)
                            ? new Response.Failure(r.sender(), Response.Code.INVALID, "not for me")
                            : to.equals(limited)
                                ? new Response.Failure(
                                    r.sender(), Response.Code.RATE_LIMITED, "slow down")
                                : to.equals(odd)
                                    ? new Response.NodesFound(r.sender(), List.of())
                                    : r);
          }
        };
    KadNode joiner = c.await(c.builder().transport(answering).start());
    c.nodes.add(joiner);

    assertThatThrownBy(() -> c.await(joiner.bootstrap(List.of(invalid, limited, odd))))
        .isInstanceOfSatisfying(
            NoSeedAnsweredException.class,
            e -> {
              // A rate-limited seed may take this node later.
              assertThat(e.isTransient()).isTrue();
              // A node of this width refusing as invalid (a client that took a seed's port) may
              // not be there for good.
              assertThat(e.seedFailures().get(invalid))
                  .isInstanceOf(UnreachableContactException.class)
                  .isNotInstanceOf(IncompatiblePeerException.class)
                  .hasMessage("seed at " + invalid + " refused the ping: INVALID: not for me");
              assertThat(e.seedFailures().get(limited))
                  .isInstanceOf(UnreachableContactException.class)
                  .isNotInstanceOf(IncompatiblePeerException.class)
                  .hasMessageContaining("RATE_LIMITED");
              assertThat(e.seedFailures().get(odd))
                  .isInstanceOf(InvalidMessageException.class)
                  .hasMessage("seed at " + odd + " answered the ping with NodesFound");
            });
    // With only the seed that answers no pong, no retry helps.
    assertThatThrownBy(() -> c.await(joiner.bootstrap(List.of(odd))))
        .isInstanceOfSatisfying(
            NoSeedAnsweredException.class, e -> assertThat(e.isTransient()).isFalse());
  }

  /** A transport whose requests to {@code misfits} fail as to peers whose settings do not fit. */
  private static Transport incompatible(Cluster c, Set<Address> misfits) {
    return new ForwardingTransport(c.network.newTransport()) {
      @Override
      public Mono<Response> send(Address to, Request request) {
        return misfits.contains(to)
            ? Mono.error(new IncompatiblePeerException("peer at " + to + " does not fit this node"))
            : super.send(to, request);
      }
    };
  }

  @Test
  void aBootstrapWhoseOwnIdLookupNobodyAnsweredFailsAndARetryJoins() {
    Cluster c = clusters.grow(23, 12);
    // The seed answers the ping, then the lookup's FindNode is lost (found by
    // KadScenarioProperties: the joiner reported itself joined knowing only the seed, and no
    // node but the seed knew it; for hours its neighbours stayed unknown).
    AtomicBoolean lose = new AtomicBoolean(true);
    KadNode joiner =
        c.await(
            c.builder()
                .transport(
                    new ForwardingTransport(c.network.newTransport()) {
                      @Override
                      public Mono<Response> send(Address to, Request request) {
                        return lose.get() && request instanceof Request.FindNode
                            ? Mono.never()
                            : super.send(to, request);
                      }
                    })
                .start());
    c.nodes.add(joiner);
    Address seed = c.node(0).contact().address();

    assertThatThrownBy(() -> c.await(joiner.bootstrap(List.of(seed))))
        .isInstanceOf(NoSeedAnsweredException.class)
        .hasMessageContaining("no node answered the lookup of this node's own id")
        .hasMessageContaining(seed.toString())
        .matches(e -> ((NoSeedAnsweredException) e).isTransient());

    lose.set(false);
    c.await(joiner.bootstrap(List.of(seed)));
    assertThat(Cluster.ids(joiner.routingTable().closest(joiner.id(), CONFIG.k())))
        .containsExactlyElementsOf(
            c.trueClosest(joiner.id(), CONFIG.k() + 1).stream()
                .filter(id -> !id.equals(joiner.id()))
                .toList());
  }

  @Test
  void aNodeGivenAnotherSpellingOfAnAddressKnowsOneContactThere() {
    Cluster c = clusters.grow(23, 6);
    KadNode peer =
        c.join(c.builder().transport(c.network.newTransport(new Address("fd00::5", 4000))));
    KadNode joiner = c.start(CONFIG);
    c.nodes.add(joiner);
    // The operator wrote the seed as the full, upper-case literal; the peer advertises fd00::5.
    Address spelled = Address.parse("[FD00:0:0:0:0:0:0:5]:4000");
    KadNodes.learn(joiner, List.of(new Contact(peer.id(), new Address("FD00:0::5", 4000))));

    c.await(joiner.bootstrap(List.of(spelled)));

    // One contact for the peer, at the one address (the bootstrap and the lookups heard it at
    // fd00::5): the id learnt at one spelling is the contact at every other.
    assertThat(joiner.routingTable().contacts())
        .filteredOn(known -> known.id().equals(peer.id()))
        .containsExactly(new Contact(peer.id(), spelled));
    assertThat(joiner.routingTable().contacts())
        .filteredOn(known -> known.address().equals(peer.contact().address()))
        .hasSize(1);
    assertThat(c.await(joiner.findNode(peer.id())))
        .first()
        .isEqualTo(new Contact(peer.id(), new Address("fd00::5", 4000)))
        .extracting(known -> known.address().toString())
        .isEqualTo("[fd00::5]:4000");
  }

  @Test
  void aSeedWhoseAdvertisedAddressDoesNotAnswerEntersTheTableAtTheAddressDialed() {
    Cluster c = clusters.grow(22, 12);
    // A seed behind a NAT (or a port mapping) advertises an address nobody else can reach; the
    // address the joiner was given is the one proven to reach it.
    InMemoryTransport inside = c.network.newTransport();
    Address dialed = inside.address();
    Address advertised = new Address("192.0.2.1", 4000);
    KadNode seed =
        c.join(
            c.builder()
                .transport(
                    new ForwardingTransport(inside) {
                      @Override
                      public Address localAddress() {
                        return advertised;
                      }
                    }));
    KadNode joiner = c.start(CONFIG);
    c.nodes.add(joiner);

    c.await(joiner.bootstrap(List.of(dialed)));

    assertThat(joiner.routingTable().contacts())
        .contains(new Contact(seed.id(), dialed))
        .noneMatch(known -> known.address().equals(advertised));
    // The own-id lookup went through the seed and found the network behind it.
    assertThat(joiner.routingTable().size()).isGreaterThan(1);
  }

  @Test
  void aSeedDialedUnderAnotherNameEntersTheTableAtTheAddressItAdvertisesWhenThatAnswers() {
    Cluster c = clusters.grow(24, 6);
    KadNode seed = c.node(2);
    // Another way to the seed that only this joiner uses (localhost, a load balancer's name):
    // a proxy at its own address passing every request on to the seed.
    InMemoryTransport alias = c.network.newTransport();
    c.await(alias.start(request -> alias.send(seed.contact().address(), request)));
    try {
      KadNode joiner = c.start(CONFIG);
      c.nodes.add(joiner);

      c.await(joiner.bootstrap(List.of(alias.address())));

      // The advertised address answered as the seed: it is the one others can use too.
      assertThat(joiner.routingTable().contacts())
          .contains(seed.contact())
          .noneMatch(known -> known.address().equals(alias.address()));
    } finally {
      c.await(alias.close());
    }
  }

  @Test
  void aSlowNodeStallsWithoutHoldingUpTheLookup() {
    Cluster c = clusters.grow(11, 60);
    KadNode from = c.node(0);
    NodeId target = NodeId.random(c.random);
    // Kill the first contact the lookup asks: it stalls at the soft timeout and fails later.
    Contact first = from.routingTable().closest(target, 1).get(0);
    c.network.kill(first.address());
    List<LookupEvent> events = c.await(from.trace(target));
    assertThat(events)
        .filteredOn(e -> e instanceof LookupEvent.Stalled s && s.contact().equals(first))
        .hasSize(1);
    // Other requests were sent before the dead one's hard timeout.
    int stalledAt = indexOf(events, LookupEvent.Stalled.class);
    assertThat(events.subList(0, stalledAt))
        .filteredOn(LookupEvent.Queried.class::isInstance)
        .hasSizeGreaterThanOrEqualTo(CONFIG.alpha());
    assertThat(events.subList(stalledAt, events.size()))
        .filteredOn(LookupEvent.Queried.class::isInstance)
        .isNotEmpty();
    LookupEvent.Finished finished = (LookupEvent.Finished) events.get(events.size() - 1);
    assertThat(finished.closest()).doesNotContain(first);
  }

  @Test
  void deadContactsNeverFillTheLookupsPipeline() {
    Cluster c = clusters.grow(18, 120);
    KadNode from = c.node(0);
    NodeId target = NodeId.random(c.random);
    // The 3k nodes closest to the target die: each request to one stalls and holds its place
    // in the pipeline until the hard timeout.
    for (NodeId dead : c.trueClosest(target, 3 * CONFIG.k() + 1)) {
      if (!dead.equals(from.id())) {
        c.network.kill(
            c.nodes.stream()
                .filter(n -> n.id().equals(dead))
                .findFirst()
                .orElseThrow()
                .contact()
                .address());
      }
    }
    List<LookupEvent> events = c.await(from.trace(target));
    // The lookup went on past more dead contacts than k + alpha, the most it could have in
    // flight if stalled requests kept it from asking others, and found k live nodes before the
    // first hard timeout freed anything.
    assertThat(events)
        .filteredOn(LookupEvent.Stalled.class::isInstance)
        .hasSizeGreaterThan(CONFIG.k() + CONFIG.alpha());
    LookupEvent.Finished finished = (LookupEvent.Finished) events.get(events.size() - 1);
    assertThat(finished.elapsed()).isLessThan(CONFIG.hardTimeout());
    assertThat(finished.closest()).hasSize(CONFIG.k());
    assertThat(finished.closest()).allMatch(x -> c.network.isAlive(x.address()));
  }

  private static int indexOf(List<LookupEvent> events, Class<?> type) {
    for (int i = 0; i < events.size(); i++) {
      if (type.isInstance(events.get(i))) {
        return i;
      }
    }
    return -1;
  }

  @Test
  void cancellingALookupCancelsItsRequestsInFlight() {
    Cluster c = clusters.grow(12, 40);
    KadNode from = c.node(0);
    NodeId target = NodeId.random(c.random);
    // next() cancels the trace at its first event. (This test used StepVerifier.withVirtualTime,
    // which disposed the cluster's clock when verify ended: nothing was sent afterwards whatever
    // the lookup did, and the assertions below could not fail.)
    assertThat(c.await(from.trace(target).next())).isInstanceOf(LookupEvent.Queried.class);
    long sent = c.network.traffic().requests();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    // The requests already sent are answered into the void, nothing more is asked.
    assertThat(c.network.traffic().requests()).isEqualTo(sent);
    assertThat(((dev.kad.testkit.InMemoryTransport) transportOf(c, from)).pendingRequests())
        .isZero();
  }

  private Object transportOf(Cluster c, KadNode node) {
    return ((DefaultKadNode) node).transport();
  }

  @Test
  void theSameSeedGivesTheSameLookup() {
    List<LookupEvent> first;
    try (Cluster a = new Cluster(13, CONFIG).grow(50)) {
      first = a.await(a.node(3).trace(NodeId.random(a.random)));
    }
    try (Cluster b = new Cluster(13, CONFIG).grow(50)) {
      assertThat(b.await(b.node(3).trace(NodeId.random(b.random)))).isEqualTo(first);
    }
  }

  @Test
  void operationsAfterCloseFailWithNodeClosed() {
    Cluster c = clusters.grow(14, 3);
    KadNode node = c.node(2);
    c.await(node.close());
    assertThatThrownBy(() -> c.await(node.findNode(NodeId.random(c.random))))
        .isInstanceOf(NodeClosedException.class);
    assertThatThrownBy(() -> c.await(node.get(Key.of("x")).collectList()))
        .isInstanceOf(NodeClosedException.class);
    c.await(node.close());
  }

  @Test
  void onCloseWaitsForWhoeverClosesTheNodeAndClosesNothingItself() {
    Cluster c = clusters.grow(23, 3);
    KadNode node = c.node(1);
    AtomicBoolean closed = new AtomicBoolean();
    node.onClose().subscribe(null, null, () -> closed.set(true));
    c.vts.advanceTimeBy(Duration.ofHours(1));
    assertThat(closed).as("closed before anyone called close()").isFalse();
    assertThat(c.await(node.findNode(NodeId.random(c.random)))).isNotEmpty();

    c.await(node.close());
    assertThat(closed).isTrue();
    // A late subscriber learns at once.
    c.await(node.onClose());
  }

  @Test
  void closingEndsOperationsInFlightWithNodeClosed() {
    Cluster c = clusters.grow(19, 40);
    KadNode node = c.node(7);
    List<Throwable> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    node.findNode(NodeId.random(c.random)).subscribe(r -> {}, errors::add);
    node.get(Key.of("in flight")).subscribe(v -> {}, errors::add);
    // One hop of 10 to 50 ms in: both lookups are waiting for answers.
    c.vts.advanceTimeBy(Duration.ofMillis(15));
    assertThat(errors).isEmpty();
    c.await(node.close());
    assertThat(errors).hasSize(2).allMatch(NodeClosedException.class::isInstance);
  }

  @Test
  void badArgumentsFailAtCallTime() {
    Cluster c = clusters.grow(15, 1);
    KadNode node = c.node(0);
    assertThatThrownBy(() -> node.findNode(NodeId.random(256, c.random)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("target must have 160 bits but had 256");
    int tooLarge = CONFIG.maxValueBytes() + 1;
    // Its own type, with the figures, for a caller that answers it differently (an HTTP 413).
    assertThatThrownBy(() -> node.put(Key.of("k"), new byte[tooLarge]))
        .isInstanceOfSatisfying(
            ValueTooLargeException.class,
            e -> {
              assertThat(e.size()).isEqualTo(tooLarge);
              assertThat(e.limit()).isEqualTo(CONFIG.maxValueBytes());
            })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "value of " + tooLarge + " bytes exceeds maxValueBytes " + CONFIG.maxValueBytes());
    Value large = Value.of(new byte[tooLarge], node.id(), 1, 1, c.now().plus(CONFIG.expireAfter()));
    assertThatThrownBy(() -> node.put(Key.of("k"), large))
        .isInstanceOf(ValueTooLargeException.class);
    Value forever =
        Value.of(
            new byte[] {1}, node.id(), 1, 1, c.now().plus(CONFIG.expireAfter()).plusSeconds(3600));
    assertThatThrownBy(() -> node.put(Key.of("k"), forever))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("later than expireAfter PT24H from now: nodes refuse it");
    assertThatThrownBy(() -> node.get(Key.of("k"), 0))
        .hasMessage("quorum must be in [1, 8] but was 0");
    assertThatThrownBy(() -> node.bootstrap(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
    for (Address seed :
        List.of(new Address("127.0.0.1", 0), new Address("0.0.0.0", 7000), new Address("::", 1))) {
      assertThatThrownBy(() -> node.bootstrap(List.of(c.node(0).contact().address(), seed)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageEndingWith("but had " + seed.host() + ":" + seed.port());
    }
  }

  @Test
  void lastHeardMovesOnWithAnswersAndRequestsOfOtherNodesOnly() {
    Cluster c = clusters.grow(17, 4);
    KadNode node = c.start(CONFIG);
    c.nodes.add(node);
    assertThat(node.stats().lastHeard()).isEmpty();
    // Its own answer, to a ping of its own address, is not the network's.
    c.await(node.bootstrap(List.of(node.contact().address())));
    assertThat(node.stats().lastHeard()).isEmpty();

    c.await(node.bootstrap(List.of(c.node(0).contact().address())));
    Instant joined = node.stats().lastHeard().orElseThrow();
    assertThat(joined).isBetween(c.now().minusSeconds(2), c.now());

    // No traffic (maintenance is off), then requests nobody answers: its own link is down.
    c.await(Mono.delay(Duration.ofHours(1), c.vts));
    c.network.isolate(List.of(node.contact().address()));
    c.await(node.findNode(NodeId.random(c.random)).onErrorResume(e -> Mono.empty()));
    assertThat(node.routingTable().size()).isPositive();
    assertThat(node.stats().lastHeard()).hasValue(joined);

    // Back on the network, the requests of a newcomer joining through it, which ask nothing back.
    c.network.heal();
    KadNode newcomer = c.start(CONFIG);
    c.nodes.add(newcomer);
    c.await(newcomer.bootstrap(List.of(node.contact().address())));
    assertThat(node.stats().lastHeard())
        .hasValueSatisfying(
            at -> assertThat(at).isAfter(joined).isBetween(c.now().minusSeconds(2), c.now()));
  }

  @Test
  void aLoneNodeStoresItsOwnValue() {
    Cluster c = clusters.grow(16, 1);
    KadNode node = c.node(0);
    PutResult put = c.await(node.put(Key.of("solo"), new byte[] {1}));
    assertThat(put.accepted()).containsExactly(node.contact());
    assertThat(c.await(node.get(Key.of("solo")))).hasSize(1);
    assertThat(c.await(node.findNode(NodeId.random(c.random)))).isEmpty();
  }

  @Test
  void aFailureWhileAnsweringIsAnsweredWithAnInternalFailureAndTheNodeKeepsServing() {
    Cluster c = clusters.grow(17, 1);
    RecordStore broken =
        new ForwardingRecordStore(new InMemoryRecordStore(CONFIG)) {
          @Override
          public StoreOutcome store(
              Key key, Value value, Instant keepUntil, boolean cached, Instant now) {
            throw new IllegalStateException("disk on fire");
          }
        };
    KadNode client = c.node(0);
    KadNode faulty = c.join(c.builder().store(broken));
    var response =
        c.await(
            ((DefaultKadNode) client)
                .call(
                    faulty.contact(),
                    new dev.kad.api.message.Request.Store(
                        client.contact(),
                        Key.of("k"),
                        List.of(
                            Value.of(new byte[] {1}, client.id(), 1, 1, c.now().plusSeconds(60))),
                        false)));
    assertThat(response)
        .isEqualTo(
            new dev.kad.api.message.Response.Failure(
                faulty.contact(), dev.kad.api.message.Response.Code.INTERNAL, "internal error"));
    assertThat(
            c.await(
                ((DefaultKadNode) client)
                    .call(
                        faulty.contact(), new dev.kad.api.message.Request.Ping(client.contact()))))
        .isInstanceOf(dev.kad.api.message.Response.Pong.class);
  }

  @Test
  void closingWhileAPutsStoresAreInFlightEndsItWithNodeClosed() {
    Cluster c = clusters.grow(22, 30);
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode node = c.startRecorded(recorder);
    List<Object> signals = new java.util.concurrent.CopyOnWriteArrayList<>();
    node.put(Key.of("closing"), new byte[] {1}).subscribe(signals::add, signals::add);
    // Past the lookup: the first Stores are out, their answers 10 to 50 ms away.
    for (int ms = 0;
        ms < 10_000 && recorder[0].sent().stream().noneMatch(Request.Store.class::isInstance);
        ms++) {
      c.vts.advanceTimeBy(Duration.ofMillis(1));
    }
    assertThat(recorder[0].sent()).anyMatch(Request.Store.class::isInstance);
    assertThat(signals).isEmpty();
    c.await(node.close());
    assertThat(signals).singleElement().isInstanceOf(NodeClosedException.class);
  }

  @Test
  void closingWhileABootstrapPingsItsSeedsEndsItWithNodeClosed() {
    Cluster c = clusters.grow(23, 5);
    KadNode node = c.start(CONFIG);
    c.nodes.add(node);
    List<Object> signals = new java.util.concurrent.CopyOnWriteArrayList<>();
    node.bootstrap(List.of(c.node(0).contact().address()))
        .subscribe(v -> {}, signals::add, () -> signals.add("completed"));
    c.vts.advanceTimeBy(Duration.ofMillis(5));
    assertThat(signals).isEmpty();
    c.await(node.close());
    assertThat(signals).singleElement().isInstanceOf(NodeClosedException.class);
  }

  @Test
  void aBootstrapSubscribedAsTheNodeClosesEndsWithNodeClosedNotNoSeedAnswered() {
    Cluster c = clusters.grow(26, 3);
    KadNode[] holder = new KadNode[1];
    AtomicBoolean closeCalled = new AtomicBoolean();
    // close() running on another thread between the bootstrap's closed check and its first ping:
    // the ping goes to a closed transport and fails at once.
    Transport closingMidway =
        new ForwardingTransport(c.network.newTransport()) {
          @Override
          public Mono<Response> send(Address to, Request request) {
            if (request instanceof Request.Ping && closeCalled.compareAndSet(false, true)) {
              holder[0].close().subscribe();
            }
            return super.send(to, request);
          }
        };
    holder[0] = c.await(c.builder().transport(closingMidway).start());
    c.nodes.add(holder[0]);
    List<Object> signals = new java.util.concurrent.CopyOnWriteArrayList<>();
    holder[0]
        .bootstrap(List.of(c.node(0).contact().address()))
        .subscribe(v -> {}, signals::add, () -> signals.add("completed"));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    // A NoSeedAnsweredException invites a retry (KadNode#bootstrap), here of a closed node.
    assertThat(signals).singleElement().isInstanceOf(NodeClosedException.class);
  }

  @Test
  void aCloseWhoseSubscriberGivesUpStillClosesTheTransport() {
    Cluster c = clusters.grow(25, 3);
    InMemoryTransport inner = c.network.newTransport();
    // A transport whose close takes a second, as a TCP transport's does while its loops stop.
    Transport slowToClose =
        new ForwardingTransport(inner) {
          @Override
          public Mono<Void> close() {
            return Mono.delay(Duration.ofSeconds(1), c.vts).then(super.close());
          }
        };
    KadNode node = c.await(c.builder().transport(slowToClose).start());
    c.nodes.add(node);

    // Whoever closes waits half a second, then gives up (close().timeout(...), block(d)).
    List<Object> signals = new java.util.concurrent.CopyOnWriteArrayList<>();
    reactor.core.Disposable waiting =
        node.close().subscribe(signals::add, signals::add, () -> signals.add("closed"));
    c.vts.advanceTimeBy(Duration.ofMillis(500));
    assertThat(signals).isEmpty();
    waiting.dispose();
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    // The shutdown went on without its subscriber, and closing again waits for it.
    assertThat(inner.isClosed()).isTrue();
    c.await(node.close());
    assertThat(inner.isClosed()).isTrue();
  }

  @Test
  void aTransportThatCompletesWithoutAResponseFailsTheRequestRatherThanHangingTheLookup() {
    Cluster c = clusters.grow(24, 3);
    Transport network = c.network.newTransport();
    Transport silent =
        new Transport() {
          @Override
          public Mono<Void> start(RequestHandler handler) {
            return network.start(handler);
          }

          @Override
          public Address localAddress() {
            return network.localAddress();
          }

          @Override
          public Mono<Response> send(Address to, Request request) {
            // Against the SPI's contract: neither a response nor an error.
            return request instanceof Request.FindNode ? Mono.empty() : network.send(to, request);
          }

          @Override
          public Mono<Void> close() {
            return network.close();
          }
        };
    KadNode node = c.await(c.builder().transport(silent).start());
    c.nodes.add(node);
    KadNodes.learn(node, List.of(c.node(0).contact()));
    List<List<LookupEvent>> traces = new java.util.concurrent.CopyOnWriteArrayList<>();
    node.trace(NodeId.random(c.random)).collectList().subscribe(traces::add);
    c.vts.advanceTimeBy(CONFIG.hardTimeout().multipliedBy(2));
    assertThat(traces)
        .singleElement()
        .satisfies(
            events -> {
              assertThat(events).anyMatch(LookupEvent.Failed.class::isInstance);
              assertThat(events.get(events.size() - 1)).isInstanceOf(LookupEvent.Finished.class);
            });
  }

  @Test
  void aNodeBackFromAnOutageLooksItselfUpSoThatNodesNearItLearnIt() {
    Cluster c = clusters.grow(12, 30);
    KadNode node = c.node(5);
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    c.network.isolate(List.of(node.contact().address()));
    // Its requests time out while nothing arrives: it is cut off.
    c.await(node.findNode(NodeId.random(c.random)));
    // Meanwhile a node joins right next to it, and cannot learn it.
    KadNode near = c.startWithId(node.id().randomInBucket(2, c.random));
    c.nodes.add(near);
    c.await(near.bootstrap(List.of(c.node(0).contact().address())));
    assertThat(Cluster.ids(near.routingTable().contacts())).doesNotContain(node.id());

    c.network.heal();
    // Back: a lookup far from both gets answers, which show the network back.
    c.await(node.findNode(near.id().randomInBucket(near.id().bits() - 1, c.random)));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));

    assertThat(Cluster.ids(near.routingTable().contacts())).contains(node.id());
  }
}
