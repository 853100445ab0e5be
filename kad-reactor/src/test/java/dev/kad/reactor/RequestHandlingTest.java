package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.message.Response.Code;
import dev.kad.reactor.routing.RoutingTable;
import dev.kad.reactor.routing.TestClock;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.watch.SubscriberRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

class RequestHandlingTest {

  private final SplittableRandom rng = new SplittableRandom(11);
  private final KadConfig config =
      KadConfig.builder().k(4).maxValueBytes(8).maxValuesPerKey(3).build();
  private final TestClock clock = new TestClock();
  private final Contact me = new Contact(NodeId.random(rng), new Address("10.0.0.1", 4000));
  private final RoutingTable table = new RoutingTable(me.id(), config, clock);
  private final InMemoryRecordStore store = new InMemoryRecordStore(config);
  private final SubscriberRegistry subscribers =
      new SubscriberRegistry(2, 8, Duration.ofMinutes(10));
  private final List<Contact> heard = new ArrayList<>();
  private final List<Value> changed = new ArrayList<>();
  private final List<Request.Notify> notified = new ArrayList<>();
  private boolean watching = true;
  private final List<SubscriberRegistry.Subscription> probed = new ArrayList<>();
  private final RequestHandling handling =
      new RequestHandling(
          config,
          () -> me,
          table,
          store,
          subscribers,
          clock,
          new RequestHandling.Hooks() {
            @Override
            public void heardFrom(Contact sender, Request request) {
              heard.add(sender);
              table.seen(sender);
            }

            @Override
            public void stored(Key key, List<Value> values) {
              changed.addAll(values);
            }

            @Override
            public boolean notified(Request.Notify notify) {
              notified.add(notify);
              return watching;
            }

            @Override
            public void probe(Key key, List<SubscriberRegistry.Subscription> stale) {
              probed.addAll(stale);
            }
          });
  private final Contact peer = new Contact(NodeId.random(rng), new Address("10.0.1.1", 4000));
  private final Instant later = clock.instant().plus(Duration.ofHours(1));

  @Test
  void aFullStoreSaysSoOnceEachTimeItFills() {
    // Room for two values of 8 bytes (each counted with 128 bytes of overhead), not three.
    KadConfig small = config.toBuilder().maxStoredBytes(300).build();
    InMemoryRecordStore smallStore = new InMemoryRecordStore(small);
    RequestHandling filling =
        new RequestHandling(
            small,
            () -> me,
            table,
            smallStore,
            subscribers,
            clock,
            new RequestHandling.Hooks() {
              @Override
              public void heardFrom(Contact sender, Request request) {}

              @Override
              public void stored(Key key, List<Value> values) {}

              @Override
              public boolean notified(Request.Notify notify) {
                return true;
              }

              @Override
              public void probe(Key key, List<SubscriberRegistry.Subscription> stale) {}
            });
    // slf4j-simple writes to the System.err of the moment; the handler answers on this thread.
    PrintStream err = System.err;
    ByteArrayOutputStream logged = new ByteArrayOutputStream();
    System.setErr(new PrintStream(logged, true, StandardCharsets.UTF_8));
    int refused = 0;
    try {
      for (int round = 0; round < 2; round++) {
        Instant expiry = clock.instant().plus(Duration.ofMinutes(1));
        for (int i = 0; i < 5; i++) {
          Value v = Value.of(new byte[8], peer.id(), 10 * round + i, 1, expiry);
          Response r =
              filling.answer(
                  new Request.Store(peer, Key.of("full-" + round + i), List.of(v), false));
          refused += ((Response.Stored) r).rejected().size();
        }
        // Its values expire and a store finds room again: the next time it fills is news.
        clock.advance(Duration.ofMinutes(2));
        smallStore.expire(clock.instant());
        Value roomy =
            Value.of(new byte[1], peer.id(), 100 + round, 1, clock.instant().plusSeconds(1));
        filling.answer(new Request.Store(peer, Key.of("roomy" + round), List.of(roomy), false));
        clock.advance(Duration.ofSeconds(2));
        smallStore.expire(clock.instant());
      }
    } finally {
      System.setErr(err);
    }

    assertThat(refused).as("three of five refused in each round").isEqualTo(6);
    assertThat(logged.toString(StandardCharsets.UTF_8).lines())
        .filteredOn(l -> l.contains("store is full"))
        .hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("WARN").contains("maxStoredBytes 300"));
  }

  @Test
  void pingIsAnsweredWithPongAndTheSenderEntersTheTable() {
    StepVerifier.create(handling.handle(new Request.Ping(peer)))
        .expectNext(new Response.Pong(me))
        .verifyComplete();
    assertThat(table.contains(peer.id())).isTrue();
  }

  @Test
  void findNodeReturnsTheKClosestButNeverTheRequester() {
    List<Contact> known = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Contact c = new Contact(NodeId.random(rng), new Address("10.0.2." + i, 1));
      known.add(c);
      table.seen(c);
    }
    Contact requester = known.get(0);
    Response r = handling.answer(new Request.FindNode(requester, requester.id()));
    assertThat(r).isInstanceOf(Response.NodesFound.class);
    List<Contact> contacts = ((Response.NodesFound) r).contacts();
    assertThat(contacts).hasSize(4).doesNotContain(requester);
    assertThat(contacts)
        .containsExactlyElementsOf(
            table.closest(requester.id(), 5).stream().filter(c -> !c.equals(requester)).toList());
  }

  @Test
  void findValueReturnsTheValuesHeldAndTheClosestContacts() {
    Key key = Key.of("k");
    Value v = Value.of(new byte[] {1}, peer.id(), 1, 1, later);
    handling.answer(new Request.Store(peer, key, List.of(v), false));
    Response r = handling.answer(new Request.FindValue(peer, key));
    assertThat(r).isEqualTo(new Response.ValuesFound(me, List.of(v), List.of()));
  }

  @Test
  void storeStoresAndReportsWhatChanged() {
    Key key = Key.of("k");
    Value v = Value.of(new byte[] {1}, peer.id(), 1, 1, later);
    assertThat(handling.answer(new Request.Store(peer, key, List.of(v), false)))
        .isEqualTo(new Response.Stored(me, 1, List.of()));
    assertThat(changed).containsExactly(v);
    // The same value again is accepted but changes nothing.
    handling.answer(new Request.Store(peer, key, List.of(v), false));
    assertThat(changed).containsExactly(v);
  }

  @Test
  void badInputIsRefusedAndTouchesNoState() {
    Key key = Key.of("k");
    Contact wide = new Contact(NodeId.random(256, rng), new Address("10.0.3.1", 1));
    assertRefused(new Request.Ping(wide), Code.INVALID, "sender id must have 160 bits but had 256");
    assertRefused(
        new Request.FindNode(peer, NodeId.random(256, rng)),
        Code.INVALID,
        "target must have 160 bits but had 256");
    assertRefused(
        new Request.FindValue(peer, Key.of("k", 256)), Code.INVALID, "key must have 160 bits");
    assertRefused(
        new Request.Store(peer, key, List.of(Value.of(new byte[9], peer.id(), 1, 1, later)), false),
        Code.LIMIT,
        "value 0 of 9 bytes exceeds maxValueBytes 8");
    List<Value> four = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      four.add(Value.of(new byte[1], peer.id(), i, 1, later));
    }
    assertRefused(
        new Request.Store(peer, key, four, false), Code.LIMIT, "4 values exceed maxValuesPerKey 3");
    Instant tooLate =
        clock.instant().plus(config.expireAfter()).plus(KadConfig.MAX_CLOCK_SKEW).plusSeconds(1);
    assertRefused(
        new Request.Store(
            peer, key, List.of(Value.of(new byte[1], peer.id(), 1, 1, tooLate)), false),
        Code.INVALID,
        "value 0 expires at " + tooLate + ", later than expireAfter PT24H from now");
    assertRefused(
        new Request.Notify(peer, key, List.of(Value.of(new byte[1], peer.id(), 1, 1, tooLate))),
        Code.INVALID,
        "later than expireAfter");
    assertRefused(
        new Request.Store(peer, key, List.of(), false), Code.INVALID, "at least one value");
    assertRefused(
        new Request.Subscribe(peer, key, Duration.ZERO), Code.INVALID, "ttl must be positive");
    assertRefused(new Request.Ping(me), Code.INVALID, "own id");
    assertThat(store.size()).isZero();
    assertThat(table.size()).isZero();
    assertThat(heard).isEmpty();
    assertThat(subscribers.size()).isZero();
    assertThat(notified).isEmpty();
  }

  @Test
  void aClientPublishingUnderThisNodesIdIsServedAndANodeClaimingItIsNot() {
    // kad put --id HEX publishes as a node's id, and that node may be among the key's k closest.
    Contact client = new Contact(me.id(), new Address("10.0.2.1", 5000));
    Key key = Key.of("own");
    Value v = Value.of(new byte[] {1}, me.id(), 1, 1, later);
    Response r =
        handling.answer(new Request.Store(client, key, List.of(v), false).withFromClient(true));
    assertThat(r).isInstanceOf(Response.Stored.class);
    assertThat(store.size()).isEqualTo(1);
    // A full node claiming this node's id is another node with it, or someone claiming it.
    assertRefused(new Request.Ping(client), Code.INVALID, "own id");
  }

  @Test
  void aValueThatExpiredOnTheWayIsRefusedByIndexAndTheOthersAreStored() {
    // A replication, hand-over or cache Store carries all of a key's values: one that expired in
    // transit, or by a clock a little ahead of the sender's, must not cost the others their copy.
    Key key = Key.of("k");
    Value fresh = Value.of(new byte[] {1}, peer.id(), 1, 1, later);
    Value expired = Value.of(new byte[] {2}, peer.id(), 2, 1, clock.instant());
    Response r = handling.answer(new Request.Store(peer, key, List.of(fresh, expired), false));
    assertThat(r)
        .isInstanceOfSatisfying(
            Response.Stored.class,
            s -> {
              assertThat(s.accepted()).isEqualTo(1);
              assertThat(s.rejected())
                  .singleElement()
                  .satisfies(
                      rejected -> {
                        assertThat(rejected.index()).isEqualTo(1);
                        assertThat(rejected.reason()).contains("expired");
                      });
            });
    assertThat(store.get(key, clock.instant())).containsExactly(fresh);
    assertThat(changed).containsExactly(fresh);
  }

  @Test
  void aValueMayExpireUpToExpireAfterPlusClockSkewFromNow() {
    Instant latest = clock.instant().plus(config.expireAfter()).plus(KadConfig.MAX_CLOCK_SKEW);
    Value v = Value.of(new byte[] {1}, peer.id(), 1, 1, latest);
    assertThat(handling.answer(new Request.Store(peer, Key.of("k"), List.of(v), false)))
        .isEqualTo(new Response.Stored(me, 1, List.of()));
  }

  @Test
  void cachedCopiesFadeFasterTheMoreNodesAreCloserToTheKey() {
    Key key = Key.of("cached");
    Instant now = clock.instant();
    Instant alone = handling.cachedKeepUntil(key, now);
    assertThat(alone).isEqualTo(now.plus(config.expireAfter()));
    // Two nodes closer to the key than this one: a quarter of the time.
    int added = 0;
    while (added < 2) {
      NodeId id = NodeId.random(rng);
      if (key.compareDistance(id, me.id()) < 0) {
        table.seen(new Contact(id, new Address("10.0.4." + added, 1)));
        added++;
      }
    }
    assertThat(handling.cachedKeepUntil(key, now))
        .isEqualTo(now.plus(config.expireAfter().dividedBy(4)));
  }

  @Test
  void subscribeIsGrantedUntilTheLimitAndUnsubscribeEndsIt() {
    Key key = Key.of("w");
    Response granted = handling.answer(new Request.Subscribe(peer, key, Duration.ofMinutes(5)));
    assertThat(granted).isEqualTo(new Response.Subscribed(me, Duration.ofMinutes(5)));
    assertThat(handling.answer(new Request.Subscribe(peer, key, Duration.ofMinutes(5))))
        .as("a renewal says so")
        .isEqualTo(new Response.Subscribed(me, Duration.ofMinutes(5), true));
    handling.answer(
        new Request.Subscribe(
            new Contact(NodeId.random(rng), new Address("10.0.5.1", 1)),
            key,
            Duration.ofMinutes(5)));
    Response refused =
        handling.answer(
            new Request.Subscribe(
                new Contact(NodeId.random(rng), new Address("10.0.5.2", 1)),
                key,
                Duration.ofMinutes(5)));
    assertThat(refused)
        .isInstanceOfSatisfying(
            Response.Failure.class, f -> assertThat(f.code()).isEqualTo(Code.LIMIT));
    assertThat(handling.answer(new Request.Unsubscribe(peer, key)))
        .isEqualTo(new Response.Pong(me));
    assertThat(subscribers.subscribers(key, clock.instant())).hasSize(1);
  }

  @Test
  void aSubscriptionsTokenIsEchoedAndOnlyAnUnsubscribeWithItEndsIt() {
    Key key = Key.of("tokened");
    Duration ttl = Duration.ofMinutes(5);
    assertThat(handling.answer(new Request.Subscribe(peer, key, ttl, false, 42)))
        .isEqualTo(new Response.Subscribed(me, ttl, false, 42));
    assertThat(handling.answer(new Request.Subscribe(peer, key, ttl, false, 42)))
        .isEqualTo(new Response.Subscribed(me, ttl, true, 42));
    for (long wrong : new long[] {0, 41}) {
      assertThat(handling.answer(new Request.Unsubscribe(peer, key, false, wrong)))
          .isEqualTo(new Response.Pong(me));
    }
    assertThat(subscribers.subscriptions(key, clock.instant()))
        .extracting(s -> s.token())
        .containsExactly(42L);
    handling.answer(new Request.Unsubscribe(peer, key, false, 42));
    assertThat(subscribers.subscriptions(key, clock.instant())).isEmpty();
  }

  /**
   * A Subscribe refused while its address holds subscriptions of the key with other tokens is
   * answered as before, and names them for a probe: each once a second at most, and not in its
   * first second. Another address's subscription, or the refused token's own, is never named.
   */
  @Test
  void aRefusedSubscribeProbesItsAddressesOtherSubscriptionsAtMostOnceASecond() {
    Key key = Key.of("probe");
    Duration ttl = Duration.ofMinutes(5);
    assertThat(handling.answer(new Request.Subscribe(peer, key, ttl, false, 1)))
        .isInstanceOf(Response.Subscribed.class);
    assertThat(handling.answer(new Request.Subscribe(peer, key, ttl, false, 2)))
        .isInstanceOf(Response.Subscribed.class);
    Response refused = handling.answer(new Request.Subscribe(peer, key, ttl, false, 3));
    assertThat(refused)
        .isInstanceOfSatisfying(
            Response.Failure.class, f -> assertThat(f.code()).isEqualTo(Code.LIMIT));
    assertThat(probed).as("made this second").isEmpty();

    clock.advance(Duration.ofSeconds(1));
    assertThat(handling.answer(new Request.Subscribe(peer, key, ttl, false, 4))).isEqualTo(refused);
    assertThat(probed).extracting(s -> s.token()).containsExactly(1L, 2L);
    handling.answer(new Request.Subscribe(peer, key, ttl, false, 5));
    clock.advance(Duration.ofMillis(999));
    handling.answer(new Request.Subscribe(peer, key, ttl, false, 6));
    assertThat(probed).hasSize(2);
    clock.advance(Duration.ofMillis(1));
    handling.answer(new Request.Subscribe(peer, key, ttl, false, 7));
    assertThat(probed).extracting(s -> s.token()).containsExactly(1L, 2L, 1L, 2L);
  }

  @Test
  void aSubscribeRefusedAtTheShareOfOnePublicIpSaysSoAndItsRenewalsPass() {
    // The registry here keeps 2 subscribers per key, so one public IP holds 1 of them, and 8
    // subscriptions per subscriber.
    Key key = Key.of("w");
    Contact first = new Contact(NodeId.random(rng), new Address("203.0.113.7", 4000));
    Contact otherPort = new Contact(NodeId.random(rng), new Address("203.0.113.7", 4001));
    assertThat(handling.answer(new Request.Subscribe(first, key, Duration.ofMinutes(5))))
        .isInstanceOf(Response.Subscribed.class);
    assertRefused(
        new Request.Subscribe(otherPort, key, Duration.ofMinutes(5)),
        Code.LIMIT,
        "key "
            + key.toShortHex()
            + " has 1 subscribers at the IP of 203.0.113.7 (its IPv4 address or IPv6 /64,"
            + " whatever the port), the most one IP may hold of a key's places");
    assertThat(handling.answer(new Request.Subscribe(first, key, Duration.ofMinutes(5))))
        .isEqualTo(new Response.Subscribed(me, Duration.ofMinutes(5), true));

    for (int i = 1; i < 8; i++) {
      assertThat(
              handling.answer(
                  new Request.Subscribe(otherPort, Key.of("k" + i), Duration.ofMinutes(5))))
          .isInstanceOf(Response.Subscribed.class);
    }
    assertRefused(
        new Request.Subscribe(
            new Contact(NodeId.random(rng), new Address("203.0.113.7", 4002)),
            Key.of("k8"),
            Duration.ofMinutes(5)),
        Code.LIMIT,
        "the IP of 203.0.113.7 (every port of its IPv4 address or IPv6 /64) holds"
            + " maxSubscriptionsPerPeer (8) subscriptions here");
    assertThat(handling.answer(new Request.Subscribe(peer, key, Duration.ofMinutes(5))))
        .as("another host takes the key's other place")
        .isInstanceOf(Response.Subscribed.class);
    assertRefused(
        new Request.Subscribe(
            new Contact(NodeId.random(rng), new Address("198.51.100.9", 4000)),
            key,
            Duration.ofMinutes(5)),
        Code.LIMIT,
        "key " + key.toShortHex() + " has maxSubscribersPerKey (2) subscribers");
  }

  @Test
  void notifyIsAcknowledgedAndPassedOn() {
    Request.Notify notify =
        new Request.Notify(
            peer, Key.of("w"), List.of(Value.of(new byte[1], peer.id(), 1, 1, later)));
    assertThat(handling.answer(notify)).isEqualTo(new Response.Pong(me));
    assertThat(notified).containsExactly(notify);
  }

  @Test
  void aNotifyForAKeyNotWatchedThroughItsSenderIsRefused() {
    watching = false;
    Key key = Key.of("w");
    assertRefused(
        new Request.Notify(peer, key, List.of(Value.of(new byte[1], peer.id(), 1, 1, later))),
        Code.INVALID,
        "not watching key " + key.toShortHex());
  }

  private void assertRefused(Request request, Code code, String message) {
    assertThat(handling.answer(request))
        .isInstanceOfSatisfying(
            Response.Failure.class,
            f -> {
              assertThat(f.code()).isEqualTo(code);
              assertThat(f.message()).contains(message);
            });
  }

  @Test
  void aValueWithABadSignatureIsRefusedByIndexAndTheOthersAreStored() throws Exception {
    var keys = java.security.KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Value signed = Value.of(new byte[] {1}, peer.id(), 1, 1, later).signedWith(Key.of("k"), keys);
    Value forged =
        new Value(new byte[] {2}, peer.id(), 2, 1, later, signed.publicKey(), signed.signature());
    Value plain = Value.of(new byte[] {3}, peer.id(), 3, 1, later);
    Response r =
        handling.answer(
            new Request.Store(peer, Key.of("k"), List.of(signed, forged, plain), false));
    assertThat(r)
        .isInstanceOfSatisfying(
            Response.Stored.class,
            s -> {
              assertThat(s.accepted()).isEqualTo(2);
              assertThat(s.rejected())
                  .singleElement()
                  .satisfies(
                      x -> {
                        assertThat(x.index()).isEqualTo(1);
                        assertThat(x.reason()).contains("signature does not verify");
                      });
            });
    assertThat(store.get(Key.of("k"), clock.instant())).containsExactlyInAnyOrder(signed, plain);
  }
}
