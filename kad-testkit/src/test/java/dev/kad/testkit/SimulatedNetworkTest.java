package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class SimulatedNetworkTest {

  private static final long SEED = 0x5eed;
  private static final Duration TIMEOUT = SimulatedNetwork.DEFAULT_REQUEST_TIMEOUT;
  private static final Duration REAL_TIME_GUARD = Duration.ofSeconds(10);

  private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(vts, SEED);
  private final RandomGenerator ids = network.newRandom();

  @AfterEach
  void closeNetwork() {
    network.close().block(REAL_TIME_GUARD);
    vts.dispose();
  }

  @Test
  void fixedLatencyDeliversTheResponseAfterExactlyTwiceTheLatency() {
    network.latency(Duration.ofMillis(50));
    InMemoryTransport client = pongServer(network);
    InMemoryTransport server = pongServer(network);

    StepVerifier.withVirtualTime(() -> client.send(server.address(), ping(client)), () -> vts, 1)
        .expectSubscription()
        .expectNoEvent(Duration.ofMillis(100).minusNanos(1))
        .thenAwait(Duration.ofNanos(1))
        .assertNext(response -> assertThat(response).isInstanceOf(Response.Pong.class))
        .expectComplete()
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void aRequestOnANetworkWhoseClockIsDisposedFailsSayingSo() {
    InMemoryTransport client = pongServer(network);
    InMemoryTransport server = pongServer(network);
    StepVerifier.withVirtualTime(() -> client.send(server.address(), ping(client)), () -> vts, 1)
        .thenAwait(Duration.ofSeconds(1))
        .expectNextCount(1)
        .verifyComplete();

    // StepVerifier disposed the clock: before, the request went nowhere and failed as
    // unreachable, so a lookup quietly found nothing.
    StepVerifier.create(client.send(server.address(), ping(client)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is disposed"))
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void uniformLatencyDeliversEachResponseWithinTwiceTheRange() {
    network.latency(Duration.ofMillis(10), Duration.ofMillis(50));
    InMemoryTransport client = pongServer(network);
    InMemoryTransport server = pongServer(network);

    List<Long> roundTrips = roundTripNanos(network, client, server, 200);

    assertThat(roundTrips)
        .hasSize(200)
        .allSatisfy(
            nanos ->
                assertThat(nanos)
                    .isBetween(Duration.ofMillis(20).toNanos(), Duration.ofMillis(100).toNanos()));
    assertThat(Set.copyOf(roundTrips)).as("distinct round trips").hasSizeGreaterThan(150);
  }

  @Test
  void sameSeedReproducesTheSameLatencies() {
    List<Long> first = latenciesOfNetworkWithSeed(7);
    List<Long> second = latenciesOfNetworkWithSeed(7);
    List<Long> otherSeed = latenciesOfNetworkWithSeed(8);

    assertThat(second).isEqualTo(first);
    assertThat(otherSeed).isNotEqualTo(first);
  }

  @Test
  void sameSeedReproducesTheSameRandomGenerators() {
    RandomGenerator a = new SimulatedNetwork(vts, 11).newRandom();
    RandomGenerator b = new SimulatedNetwork(vts, 11).newRandom();

    assertThat(b.nextLong()).isEqualTo(a.nextLong());
  }

  @Test
  void lossProbabilityDropsAboutThatFractionOfMessages() {
    double loss = 0.2;
    int requests = 1000;
    network.lossProbability(loss);
    InMemoryTransport client = pongServer(network);
    InMemoryTransport server = pongServer(network);
    AtomicInteger answered = new AtomicInteger();
    AtomicInteger timedOut = new AtomicInteger();

    for (int i = 0; i < requests; i++) {
      client
          .send(server.address(), ping(client))
          .subscribe(
              response -> answered.incrementAndGet(),
              error -> {
                if (error instanceof KadTimeoutException) {
                  timedOut.incrementAndGet();
                }
              });
    }
    vts.advanceTimeBy(TIMEOUT);

    Traffic traffic = network.traffic();
    assertThat(answered.get() + timedOut.get()).isEqualTo(requests);
    assertThat((double) traffic.dropped() / traffic.sent()).isCloseTo(loss, within(0.03));
    assertThat((double) answered.get() / requests)
        .as("both legs survive")
        .isCloseTo((1 - loss) * (1 - loss), within(0.05));
    assertThat(client.pendingRequests()).isZero();
  }

  @Test
  void lostRequestTimesOutAfterExactlyTheRequestTimeout() {
    network.lossProbability(1.0);
    InMemoryTransport client = pongServer(network);
    InMemoryTransport server = pongServer(network);

    StepVerifier.withVirtualTime(() -> client.send(server.address(), ping(client)), () -> vts, 1)
        .expectSubscription()
        .expectNoEvent(TIMEOUT.minusNanos(1))
        .thenAwait(Duration.ofNanos(1))
        .expectError(KadTimeoutException.class)
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void partitionDropsMessagesAcrossGroupsAndDeliversWithin() {
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    InMemoryTransport c = pongServer(network);
    network.isolate(List.of(a.address(), b.address()));

    assertThat(outcome(a, b)).isInstanceOf(Response.Pong.class);
    assertThat(outcome(a, c)).isInstanceOf(KadTimeoutException.class);
    assertThat(outcome(c, b)).isInstanceOf(KadTimeoutException.class);
  }

  @Test
  void partitionIntoSeveralGroupsLeavesUnnamedAddressesTogether() {
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    InMemoryTransport c = pongServer(network);
    InMemoryTransport d = pongServer(network);
    network.partition(List.of(List.of(a.address()), List.of(b.address())));

    assertThat(outcome(a, b)).isInstanceOf(KadTimeoutException.class);
    assertThat(outcome(b, c)).isInstanceOf(KadTimeoutException.class);
    assertThat(outcome(c, d)).isInstanceOf(Response.Pong.class);
  }

  @Test
  void healingAPartitionRestoresDelivery() {
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    network.isolate(List.of(a.address()));
    assertThat(outcome(a, b)).isInstanceOf(KadTimeoutException.class);

    network.heal();

    assertThat(outcome(a, b)).isInstanceOf(Response.Pong.class);
  }

  @Test
  void partitionRaisedWhileARequestIsInFlightDropsIt() {
    network.latency(Duration.ofMillis(100));
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    List<Object> outcomes = new ArrayList<>();
    a.send(b.address(), ping(a)).subscribe(outcomes::add, outcomes::add);

    vts.advanceTimeBy(Duration.ofMillis(50));
    network.isolate(List.of(b.address()));
    vts.advanceTimeBy(TIMEOUT);

    assertThat(outcomes).singleElement().isInstanceOf(KadTimeoutException.class);
  }

  @Test
  void partitionRejectsAnAddressInTwoGroups() {
    Address address = new Address("10.9.9.9", 4000);

    assertThatThrownBy(() -> network.partition(List.of(List.of(address), List.of(address))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("10.9.9.9:4000");
  }

  @Test
  void killedNodeStopsAnsweringUntilRevived() {
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);

    network.kill(b.address());
    assertThat(network.isAlive(b.address())).isFalse();
    assertThat(outcome(a, b)).isInstanceOf(KadTimeoutException.class);

    network.revive(b.address());
    assertThat(outcome(a, b)).isInstanceOf(Response.Pong.class);
  }

  @Test
  void killedNodesRequestsFailAtOnceWithUnreachable() {
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    network.kill(a.address());

    StepVerifier.create(a.send(b.address(), ping(a)))
        .expectError(UnreachableContactException.class)
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void responseOfANodeKilledWhileItsHandlerRunsIsDropped() {
    network.latency(Duration.ofMillis(10));
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = network.newTransport();
    Contact self = new Contact(NodeId.random(ids), b.address());
    b.start(request -> Mono.delay(Duration.ofMillis(10), vts).thenReturn(new Response.Pong(self)))
        .block(REAL_TIME_GUARD);
    List<Object> outcomes = new ArrayList<>();
    a.send(b.address(), ping(a)).subscribe(outcomes::add, outcomes::add);

    vts.advanceTimeBy(Duration.ofMillis(15));
    network.kill(b.address());
    vts.advanceTimeBy(TIMEOUT);

    assertThat(outcomes).singleElement().isInstanceOf(KadTimeoutException.class);
    assertThat(network.traffic(b.address()).dropped()).isOne();
  }

  @Test
  void messageAlreadyInFlightFromANodeKilledAfterSendingStillArrives() {
    network.latency(Duration.ofMillis(10));
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    List<Object> outcomes = new ArrayList<>();
    a.send(b.address(), ping(a)).subscribe(outcomes::add, outcomes::add);

    vts.advanceTimeBy(Duration.ofMillis(15));
    network.kill(b.address());
    vts.advanceTimeBy(TIMEOUT);

    assertThat(outcomes).singleElement().isInstanceOf(Response.Pong.class);
  }

  @Test
  void countersTrackSentDeliveredAndDroppedInTotalAndPerAddress() {
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    InMemoryTransport c = pongServer(network);
    network.kill(c.address());

    outcome(a, b);
    outcome(a, b);
    outcome(a, c);
    outcome(b, a);

    assertThat(network.traffic(a.address())).isEqualTo(new Traffic(4, 3, 3, 1, 3));
    assertThat(network.traffic(b.address())).isEqualTo(new Traffic(3, 1, 3, 0, 3));
    assertThat(network.traffic(c.address())).isEqualTo(Traffic.NONE);
    assertThat(network.traffic()).isEqualTo(new Traffic(7, 4, 6, 1, 6));
    assertThat(network.traffic().inFlight()).isZero();

    network.resetTraffic();

    assertThat(network.traffic()).isEqualTo(Traffic.NONE);
    assertThat(network.traffic(a.address())).isEqualTo(Traffic.NONE);
  }

  @Test
  void aResetWhileMessagesTravelCountsOnlyWhatIsSentAfterIt() {
    network.latency(Duration.ofMillis(50));
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = pongServer(network);
    a.send(b.address(), ping(a)).subscribe();
    a.send(b.address(), ping(a)).subscribe();
    vts.advanceTimeBy(Duration.ofMillis(10));
    assertThat(network.traffic().inFlight()).isEqualTo(2);

    network.resetTraffic();
    b.send(a.address(), ping(b)).subscribe();
    vts.advanceTimeBy(Duration.ofSeconds(1));

    // The two requests in flight at the reset are not counted when they arrive; their answers,
    // sent after it, are: the network's sums still add up.
    assertThat(network.traffic()).isEqualTo(new Traffic(4, 1, 4, 0, 4));
    assertThat(network.traffic().inFlight()).isZero();
    assertThat(network.traffic(a.address())).isEqualTo(new Traffic(1, 0, 1, 0, 3));
    assertThat(network.traffic(b.address())).isEqualTo(new Traffic(3, 1, 3, 0, 1));
  }

  @Test
  void killingAnAddressNoTransportWasEverAtIsRefused() {
    InMemoryTransport a = pongServer(network);
    Address next = new Address("10.0.0.2", a.address().port());

    assertThatThrownBy(() -> network.kill(next))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "cannot kill 10.0.0.2:"
                + a.address().port()
                + ": no transport of this network was"
                + " ever at that address");
    // Not handed out dead: the next transport there answers.
    InMemoryTransport b = pongServer(network);
    assertThat(b.address()).isEqualTo(next);
    assertThat(network.isAlive(next)).isTrue();
    StepVerifier.withVirtualTime(() -> a.send(next, ping(a)), () -> vts, 1)
        .thenAwait(Duration.ofSeconds(1))
        .expectNextCount(1)
        .verifyComplete();
  }

  @Test
  void newTransportsGetDistinctAddressesFillingOneSlash24AtATime() {
    List<Address> addresses = new ArrayList<>();
    for (int i = 0; i < 255; i++) {
      addresses.add(network.newTransport().address());
    }

    assertThat(Set.copyOf(addresses)).hasSize(255);
    assertThat(addresses.get(0)).isEqualTo(new Address("10.0.0.1", 4000));
    assertThat(addresses.get(253)).isEqualTo(new Address("10.0.0.254", 4000));
    assertThat(addresses.get(254)).isEqualTo(new Address("10.0.1.1", 4000));
  }

  @Test
  void newTransportAtARequestedAddressIsSkippedBySyntheticAddresses() {
    InMemoryTransport requested = network.newTransport(new Address("10.0.0.1", 4000));

    assertThat(requested.address()).isEqualTo(new Address("10.0.0.1", 4000));
    assertThat(network.newTransport().address()).isEqualTo(new Address("10.0.0.2", 4000));
  }

  @Test
  void addressInUseIsRejectedUntilItsTransportIsClosed() {
    Address address = new Address("192.168.1.7", 7000);
    InMemoryTransport first = network.newTransport(address);

    assertThatThrownBy(() -> network.newTransport(address))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("192.168.1.7:7000");

    first.close().block(REAL_TIME_GUARD);
    assertThat(network.newTransport(address).address()).isEqualTo(address);
  }

  @Test
  void settersRejectInvalidValuesNamingThem() {
    assertThatThrownBy(() -> network.latency(Duration.ofMillis(5), Duration.ofMillis(4)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0.004S");
    assertThatThrownBy(() -> network.latency(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-0.001S");
    assertThatThrownBy(() -> network.lossProbability(1.5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("1.5");
    assertThatThrownBy(() -> network.requestTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0S");
  }

  @Test
  void aRequestTimeoutTooLongForTheSchedulerIsRejectedNamingIt() {
    // Past what a scheduler's nanosecond clock holds: accepted, it failed every later send.
    Duration millennium = Duration.ofDays(365L * 1000);
    assertThatThrownBy(() -> network.requestTimeout(millennium))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(millennium.toString());
    assertThatThrownBy(() -> network.latency(Duration.ZERO, millennium))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(millennium.toString());
  }

  @Test
  void theLongestRequestTimeoutAcceptedDoesNotFireEarly() {
    InMemoryTransport client = pongServer(network);
    InMemoryTransport server = pongServer(network);
    vts.advanceTimeBy(Duration.ofHours(1));
    network.requestTimeout(Duration.ofDays(365L * 100));
    network.kill(server.address());

    StepVerifier.withVirtualTime(() -> client.send(server.address(), ping(client)), () -> vts, 1)
        .expectSubscription()
        .expectNoEvent(Duration.ofDays(365))
        .thenCancel()
        .verify(REAL_TIME_GUARD);
  }

  @Test
  void closingTheNetworkClosesEveryTransport() {
    InMemoryTransport a = pongServer(network);
    InMemoryTransport b = network.newTransport();

    network.close().block(REAL_TIME_GUARD);

    assertThat(a.isClosed()).isTrue();
    assertThat(b.isClosed()).isTrue();
  }

  // ---- helpers ----

  /** A started transport answering every request with a Pong of its own contact. */
  private InMemoryTransport pongServer(SimulatedNetwork net) {
    InMemoryTransport transport = net.newTransport();
    Contact self = new Contact(NodeId.random(ids), transport.address());
    transport.start(request -> Mono.just(new Response.Pong(self))).block(REAL_TIME_GUARD);
    return transport;
  }

  private Request.Ping ping(InMemoryTransport from) {
    return new Request.Ping(new Contact(NodeId.random(ids), from.address()));
  }

  /** Sends one Ping, runs virtual time past the timeout, and returns the response or error. */
  private Object outcome(InMemoryTransport from, InMemoryTransport to) {
    List<Object> outcomes = new ArrayList<>();
    from.send(to.address(), ping(from)).subscribe(outcomes::add, outcomes::add);
    vts.advanceTimeBy(TIMEOUT);
    assertThat(outcomes).hasSize(1);
    return outcomes.get(0);
  }

  /** Sends {@code count} Pings at once and returns each one's round trip in virtual nanos. */
  private static List<Long> roundTripNanos(
      SimulatedNetwork net, InMemoryTransport client, InMemoryTransport server, int count) {
    VirtualTimeScheduler clock = (VirtualTimeScheduler) net.scheduler();
    long start = clock.now(TimeUnit.NANOSECONDS);
    Request.Ping ping =
        new Request.Ping(new Contact(NodeId.random(net.newRandom()), client.address()));
    List<Long> roundTrips = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      client
          .send(server.address(), ping)
          .subscribe(response -> roundTrips.add(clock.now(TimeUnit.NANOSECONDS) - start));
    }
    clock.advanceTimeBy(TIMEOUT);
    return roundTrips;
  }

  private List<Long> latenciesOfNetworkWithSeed(long seed) {
    VirtualTimeScheduler clock = VirtualTimeScheduler.create();
    try {
      SimulatedNetwork net =
          new SimulatedNetwork(clock, seed).latency(Duration.ofMillis(1), Duration.ofMillis(500));
      return roundTripNanos(net, pongServer(net), pongServer(net), 50);
    } finally {
      clock.dispose();
    }
  }
}
