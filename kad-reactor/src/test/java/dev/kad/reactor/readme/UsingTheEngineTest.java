package dev.kad.reactor.readme;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.PutOptions;
import dev.kad.api.PutResult;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.Value;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;
import reactor.util.retry.Retry;

/**
 * The README's "The vocabulary" and "Using the engine" as a newcomer writes them, on the simulated
 * network and virtual time. This package sees only the public API, as an application does.
 */
class UsingTheEngineTest {

  private static final Duration SECOND = Duration.ofSeconds(1);

  private static final KadConfig CONFIG = KadConfig.builder().k(20).alpha(3).build();

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network =
      new SimulatedNetwork(time, 42).latency(Duration.ofMillis(10), Duration.ofMillis(100));
  private final List<KadNode> nodes = new ArrayList<>();

  @AfterEach
  void closeEveryNode() {
    for (KadNode node : nodes) {
      await(node.close());
    }
    time.dispose();
  }

  private KadNode start() {
    KadNode node =
        KadNodes.builder()
            .config(CONFIG)
            .transport(network.newTransport())
            .scheduler(time)
            .random(network.newRandom())
            .start()
            .block(Duration.ofSeconds(10));
    nodes.add(node);
    return node;
  }

  private <T> T await(Mono<T> operation) {
    return VirtualTime.await(time, operation);
  }

  @Test
  void theVocabularySnippetDoesWhatItSays() {
    SplittableRandom rng = new SplittableRandom(1);
    NodeId self = NodeId.random(new SplittableRandom());
    Key key = Key.of("user:42");
    int bucket = self.bucketIndex(key);
    NodeId probe = self.randomInBucket(bucket, rng);
    NodeId a = NodeId.random(rng);
    NodeId b = NodeId.random(rng);
    int order = key.compareDistance(a, b);

    assertThat(self.bits()).isEqualTo(160);
    assertThat(Key.of("user:42", 256).bits()).isEqualTo(256);
    assertThat(self.bucketIndex(probe)).isEqualTo(bucket);
    assertThat(Integer.signum(order))
        .isEqualTo(Integer.signum(key.distance(a).compareTo(key.distance(b))));
    assertThatThrownBy(() -> KadConfig.builder().k(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("k must be in [1, 256] but was 0");
  }

  @Test
  void threeNodesJoinStoreFindAndWatchAsTheReadmeShows() {
    KadNode first = start();
    KadNode second = start();
    KadNode third = start();
    await(second.bootstrap(List.of(first.address())));
    await(third.bootstrap(List.of(first.address())));
    Key key = Key.of("user:42");

    PutResult put = await(first.put(key, "hello".getBytes(UTF_8)));
    List<String> got = await(third.get(key).map(v -> new String(v.data(), UTF_8)).collectList());
    List<Value> quorum = await(second.get(key, 1).collectList());
    List<Contact> closest = await(third.findNode(first.id()));
    List<LookupEvent> trace = await(third.trace(first.id()).collectList());

    assertThat(put.acceptedCount()).isEqualTo(3);
    assertThat(got).containsExactly("hello");
    assertThat(quorum).hasSize(1);
    assertThat(closest).first().isEqualTo(first.contact());
    assertThat(trace).last().isInstanceOf(LookupEvent.Finished.class);

    List<String> watched = new CopyOnWriteArrayList<>();
    Disposable watch =
        second.watch(key).map(v -> new String(v.data(), UTF_8)).subscribe(watched::add);
    time.advanceTimeBy(Duration.ofSeconds(1));
    await(third.put(key, "again".getBytes(UTF_8)));
    time.advanceTimeBy(Duration.ofSeconds(1));
    watch.dispose();

    assertThat(watched).containsExactly("hello", "again");
    assertThat(first.stopRepublishing(key)).isTrue();
  }

  @Test
  void aValueIsRemovedByReplacingItWithAnEmptyOneThatIsNotRepublished() {
    KadNode first = start();
    KadNode second = start();
    KadNode third = start();
    await(second.bootstrap(List.of(first.address())));
    await(third.bootstrap(List.of(first.address())));
    Key key = Key.of("user:42");
    await(first.put(key, "hello".getBytes(UTF_8)));
    List<Value> watched = new CopyOnWriteArrayList<>();
    Disposable watch = third.watch(key).subscribe(watched::add);
    time.advanceTimeBy(SECOND);

    // As the README shows: the same value id, a higher seq, no data, not republished.
    await(first.put(key, new byte[0], PutOptions.defaults().republish(false)));
    time.advanceTimeBy(SECOND);

    assertThat(await(second.get(key).collectList()))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).isEmpty());
    assertThat(watched).extracting(v -> v.data().length).containsExactly(5, 0);
    // Every copy, the replaced one's too, is gone once the replacement's ttl has passed.
    time.advanceTimeBy(CONFIG.expireAfter().plusHours(2));
    assertThat(await(second.get(key).collectList())).isEmpty();
    assertThat(await(first.get(key).collectList())).isEmpty();
    assertThat(first.stopRepublishing(key)).as("nothing was left to republish").isFalse();
    watch.dispose();
  }

  @Test
  void aWatchIsAwaitedOnVirtualTimeByTakingTheValuesATestExpects() {
    KadNode first = start();
    KadNode second = start();
    await(second.bootstrap(List.of(first.address())));
    Key key = Key.of("user:42");
    await(first.put(key, "hello".getBytes(UTF_8)));

    // The put is delayed on the same virtual clock, so it runs while the watch is subscribed.
    List<String> watched =
        await(
            second
                .watch(key)
                .map(v -> new String(v.data(), UTF_8))
                .take(2)
                .collectList()
                .zipWith(
                    first.put(key, "again".getBytes(UTF_8)).delaySubscription(SECOND, time),
                    (values, put) -> values));

    assertThat(watched).containsExactly("hello", "again");
  }

  @Test
  void aFluxPipelineStoresManyKeysAndReadsThemBack() {
    KadNode first = start();
    KadNode second = start();
    await(second.bootstrap(List.of(first.address())));

    Mono<List<String>> roundTrip =
        Flux.range(0, 10)
            .concatMap(i -> first.put(Key.of("item:" + i), ("value " + i).getBytes(UTF_8)))
            .then(
                Flux.range(0, 10)
                    .concatMap(i -> second.get(Key.of("item:" + i), 1))
                    .map(v -> new String(v.data(), UTF_8))
                    .collectList());

    assertThat(await(roundTrip)).hasSize(10).contains("value 0", "value 9");
  }

  @Test
  void aNodeScopedWithUsingWhenIsClosedOnceTheWorkIsDone() {
    KadNode seed = start();
    List<KadNode> scoped = new CopyOnWriteArrayList<>();

    Mono<PutResult> once =
        Mono.usingWhen(
            KadNodes.builder()
                .config(CONFIG)
                .transport(network.newTransport())
                .scheduler(time)
                .start()
                .doOnNext(scoped::add),
            node ->
                node.bootstrap(List.of(seed.address()))
                    .then(node.put(Key.of("user:42"), "hello".getBytes(UTF_8))),
            KadNode::close);

    assertThat(await(once).acceptedCount()).isEqualTo(2);
    assertThat(scoped)
        .singleElement()
        .hasToString("KadNode[" + scoped.get(0).contact() + ", closed]");
    assertThat(await(seed.get(Key.of("user:42")).collectList())).hasSize(1);
  }

  @Test
  void aTransientFailureIsRetriedWithBackoffOnTheNodesScheduler() {
    KadNode first = start();
    KadNode second = start();
    network.kill(first.address());
    List<Throwable> attempts = new CopyOnWriteArrayList<>();

    Mono<Void> join =
        second
            .bootstrap(List.of(first.address()))
            .doOnError(attempts::add)
            .retryWhen(
                Retry.backoff(5, Duration.ofSeconds(1))
                    .filter(e -> e instanceof KadException k && k.isTransient())
                    .scheduler(time));
    CompletableFuture<Void> joined = join.toFuture();
    time.advanceTimeBy(Duration.ofSeconds(3));
    network.revive(first.address());
    time.advanceTimeBy(Duration.ofMinutes(1));

    assertThat(joined).isCompleted();
    assertThat(attempts).hasSize(1).allMatch(UnreachableContactException.class::isInstance);
    assertThat(second.routingTable().size()).isEqualTo(1);
  }

  @Test
  void aNodeShowsItsIdAndAddressWhenPrinted() {
    KadNode node = start();

    assertThat(node.address()).isEqualTo(node.contact().address());
    assertThat(node).hasToString("KadNode[" + node.contact() + "]");
    await(node.close());
    assertThat(node).hasToString("KadNode[" + node.contact() + ", closed]");
  }

  @Test
  void aBootstrapThatFailsSaysWhyEachSeedDidNotHelp() {
    KadNode first = start();
    KadNode lonely = start();
    Address nobody = new Address("10.9.9.9", 4000);
    network.kill(first.address());

    // A seed named twice is asked and reported once.
    assertThatThrownBy(() -> await(lonely.bootstrap(List.of(nobody, first.address(), nobody))))
        .isInstanceOf(UnreachableContactException.class)
        .hasMessageStartingWith(
            "no seed answered: [10.9.9.9:4000 (no node was ever at 10.9.9.9:4000")
        // The node's hard timeout or the network's request timeout, both 5 s: whichever fires.
        .hasMessageContaining(first.address() + " (no ")
        .hasMessageEndingWith(" to Ping within 5000 ms (hardTimeout))]");
    // Its own address is skipped, not a failure: with nothing else, it is the first node.
    assertThatThrownBy(() -> await(lonely.bootstrap(List.of(lonely.address(), nobody))))
        .isInstanceOf(UnreachableContactException.class)
        .hasMessageStartingWith("no seed answered: [10.9.9.9:4000 (")
        .hasMessageEndingWith("; skipped [" + lonely.address() + "]: this node itself");
    await(lonely.bootstrap(List.of(lonely.address())));
    assertThat(lonely.routingTable().size()).isZero();
  }

  @Test
  void operationsOfAClosedNodeAndBadSeedsFailNamingTheProblem() {
    KadNode node = start();

    assertThatThrownBy(() -> node.bootstrap(Arrays.asList(node.address(), null)))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("seeds must not contain null but was [" + node.address() + ", null]");
    await(node.close());
    assertThatThrownBy(() -> await(node.get(Key.of("user:42")).collectList()))
        .isInstanceOf(NodeClosedException.class)
        .hasMessage("node " + node.id().toShortHex() + " is closed");
  }
}
