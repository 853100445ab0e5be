package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.testkit.ForwardingTransport;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiPredicate;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * A peer that answers {@code Failure(RATE_LIMITED)} (a TCP transport over its {@code
 * maxRequestsPerSecondPerIp}) is alive: it stays in the routing table however often it refuses, a
 * lookup counts it as a contact that did not answer this time, and a put reports its refusal.
 */
class RateLimitedPeerTest {

  private static final KadConfig CONFIG =
      KadConfig.builder().k(8).maxFailures(2).maintenance(false).build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  /**
   * A node whose requests to {@code limited} are answered RATE_LIMITED by it while {@code on} holds
   * for the request.
   */
  private static KadNode joinLimitedBy(Cluster c, Contact limited, Predicate<Request> on) {
    return joinRefused(c, (to, request) -> to.equals(limited.address()) && on.test(request));
  }

  /** A node whose requests are answered RATE_LIMITED, by the node asked, when {@code refused}. */
  private static KadNode joinRefused(Cluster c, BiPredicate<Address, Request> refused) {
    return c.join(
        c.builder()
            .transport(
                new ForwardingTransport(c.network.newTransport()) {
                  @Override
                  public Mono<Response> send(Address to, Request request) {
                    return super.send(to, request)
                        .map(r -> refused.test(to, request) ? rateLimited(r.sender()) : r);
                  }
                }));
  }

  @Test
  void aContactThatAnswersRateLimitedMoreThanMaxFailuresTimesStaysInTheRoutingTable() {
    Cluster c = clusters.grow(71, 10);
    Contact limited = c.node(3).contact();
    AtomicBoolean on = new AtomicBoolean();
    KadNode node = joinLimitedBy(c, limited, r -> on.get());
    assertThat(node.routingTable().contacts()).contains(limited);
    on.set(true);

    for (int round = 0; round < CONFIG.maxFailures() + 2; round++) {
      // Its own id: the closest contact there is, asked by every round.
      List<LookupEvent> events = c.await(node.trace(limited.id()));
      assertThat(events)
          .as("round %d is refused by the limited contact", round)
          .anySatisfy(
              e ->
                  assertThat(e)
                      .isInstanceOfSatisfying(
                          LookupEvent.Failed.class,
                          f -> {
                            assertThat(f.contact()).isEqualTo(limited);
                            assertThat(f.reason()).contains("RATE_LIMITED");
                          }));
      c.vts.advanceTimeBy(Duration.ofSeconds(1));
    }

    assertThat(node.routingTable().contacts()).contains(limited);
  }

  @Test
  void aPutEveryOtherNodeRefusedRateLimitedFailsAsTransient() {
    Cluster c = clusters.grow(73, 4);
    // Every Store refused RATE_LIMITED: the value is fine, the network is busy for a moment.
    KadNode node = joinRefused(c, (to, request) -> request instanceof Request.Store);

    assertThatThrownBy(() -> c.await(node.put(Key.of("busy"), new byte[] {1})))
        .isInstanceOfSatisfying(
            StoreRejectedException.class,
            e -> {
              assertThat(e.isTransient()).as("a retry may succeed").isTrue();
              assertThat(e.putResult().orElseThrow().rejected())
                  .hasSize(4)
                  .allSatisfy(r -> assertThat(r.reason()).startsWith("RATE_LIMITED: "));
            })
        .hasMessageContaining("every refusal was RATE_LIMITED");
  }

  @Test
  void aPushTheWatcherAnswersRateLimitedIsSentAgainAndKeepsTheSubscription() {
    Cluster c = clusters.grow(74, 6);
    AtomicBoolean limited = new AtomicBoolean();
    // A client: it stores nothing itself, so what it sees came by push.
    KadNode watcher = pushedWatcher(c, limited::get, new AtomicInteger());
    Key key = Key.of("pushed");
    List<Value> seen = new CopyOnWriteArrayList<>();
    Disposable watch = watcher.watch(key).subscribe(seen::add);
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    int subscribers = subscribers(c);
    assertThat(subscribers).isPositive();

    // Every push of the next half second is refused as a busy node refuses it.
    limited.set(true);
    c.await(c.node(1).put(key, new byte[] {7}));
    c.vts.schedule(() -> limited.set(false), 500, TimeUnit.MILLISECONDS);
    c.vts.advanceTimeBy(Duration.ofSeconds(3));

    assertThat(seen).extracting(v -> v.data()[0]).containsExactly((byte) 7);
    assertThat(subscribers(c)).as("subscriptions kept").isEqualTo(subscribers);
    watch.dispose();
  }

  @Test
  void aWatcherThatKeepsAnsweringRateLimitedDoesNotCrowdOutThePushesToOthers() {
    Cluster c = clusters.grow(75, 3);
    AtomicInteger busyNotifies = new AtomicInteger();
    AtomicInteger otherNotifies = new AtomicInteger();
    KadNode busy = pushedWatcher(c, () -> true, busyNotifies);
    KadNode other = pushedWatcher(c, () -> false, otherNotifies);
    Key key = Key.of("crowded");
    List<Value> seen = new CopyOnWriteArrayList<>();
    Disposable busyWatch = busy.watch(key).subscribe();
    Disposable otherWatch = other.watch(key).subscribe(seen::add);
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    DefaultKadNode storage = (DefaultKadNode) c.node(0);
    assertThat(storage.subscribers().subscribers(key, c.now())).hasSize(2);

    // Two changes a millisecond for three seconds: every push to the busy watcher waits to be
    // sent again, more than the push queue could hold if each kept its place.
    NodeId publisher = c.node(1).id();
    Instant expiry = c.now().plus(Duration.ofHours(1));
    int seq = 0;
    for (int ms = 0; ms < 3_000; ms++) {
      for (int j = 0; j < 2; j++) {
        seq++;
        storage
            .liveStreams()
            .stored(key, List.of(Value.of(new byte[] {1}, publisher, 1, seq, expiry)));
      }
      c.vts.advanceTimeBy(Duration.ofMillis(1));
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    assertThat(otherNotifies.get()).as("pushes to the other watcher").isEqualTo(seq);
    // Past the bound of pushes waiting to be sent again, a busy answer was a refusal: the busy
    // watcher's subscription there ended, as every refused push's did before retries.
    assertThat(busyNotifies.get()).isPositive();
    assertThat(storage.subscribers().subscribers(key, c.now()))
        .extracting(Contact::id)
        .containsExactly(other.id());
    busyWatch.dispose();
    otherWatch.dispose();
  }

  /**
   * A client watcher whose node counts the pushes it gets and answers them RATE_LIMITED while
   * {@code busy}.
   */
  private static KadNode pushedWatcher(Cluster c, BooleanSupplier busy, AtomicInteger notifies) {
    AtomicReference<Contact> self = new AtomicReference<>();
    KadNode watcher =
        c.join(
            c.builder()
                .config(CONFIG.toBuilder().clientMode(true).build())
                .transport(
                    new ForwardingTransport(c.network.newTransport()) {
                      @Override
                      public Mono<Void> start(RequestHandler handler) {
                        return super.start(
                            request -> {
                              if (!(request instanceof Request.Notify)) {
                                return handler.handle(request);
                              }
                              notifies.incrementAndGet();
                              return busy.getAsBoolean()
                                  ? Mono.just(rateLimited(self.get()))
                                  : handler.handle(request);
                            });
                      }
                    }));
    self.set(watcher.contact());
    return watcher;
  }

  private static int subscribers(Cluster c) {
    return c.nodes.stream().mapToInt(n -> n.stats().subscribers()).sum();
  }

  private static Response rateLimited(Contact sender) {
    return new Response.Failure(
        sender, Response.Code.RATE_LIMITED, "more than 1000 requests a second from 10.0.0.1");
  }

  @Test
  void aPutReportsARateLimitedRefusalByItsCode() {
    Cluster c = clusters.grow(72, 6);
    Contact limited = c.node(2).contact();
    // Only its Stores: a contact that refuses the lookup did not answer it, so is not stored at.
    KadNode node = joinLimitedBy(c, limited, Request.Store.class::isInstance);
    Key key = Key.of("rate-limited");

    PutResult result =
        c.await(
            node.put(
                key,
                Value.of(
                    "v".getBytes(StandardCharsets.UTF_8),
                    node.id(),
                    1,
                    1,
                    c.now().plus(Duration.ofHours(1)))));

    // Six nodes and k 8: every node is among the closest, the limited one too.
    assertThat(result.rejected())
        .anySatisfy(
            r -> {
              assertThat(r.contact()).isEqualTo(limited);
              assertThat(r.reason()).startsWith("RATE_LIMITED: more than 1000 requests");
            });
    assertThat(node.routingTable().contacts()).contains(limited);
  }
}
