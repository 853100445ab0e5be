package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.reactivestreams.Subscription;
import reactor.core.Disposable;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Signal;
import reactor.test.StepVerifier;
import reactor.util.context.Context;

/** What a Reactor user relies on from a {@link KadNode}: the Reactive Streams contract. */
class ReactiveContractTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(6)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .subscriptionTtl(Duration.ofMinutes(2))
          .maintenance(false)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  @Test
  void assemblingEveryOperationSendsNothing() {
    Cluster c = clusters.grow(101, 12);
    KadNode node = c.node(4);
    c.vts.advanceTimeBy(Duration.ofMinutes(1));
    long before = c.network.traffic().requests();
    Key key = Key.of("assembled");
    node.findNode(NodeId.random(c.random));
    node.trace(NodeId.random(c.random));
    node.get(key);
    node.get(key, 1);
    node.put(key, new byte[] {1});
    node.watch(key);
    node.bootstrap(List.of(c.node(0).address()));
    node.close();
    c.vts.advanceTimeBy(Duration.ofMinutes(10));
    assertThat(c.network.traffic().requests()).isEqualTo(before);
    // close() assembled but never subscribed closed nothing, and nothing was stored.
    assertThat(c.await(node.findNode(NodeId.random(c.random)))).isNotEmpty();
    assertThat(c.await(c.node(7).get(key))).isEmpty();
  }

  @Test
  void subscribingTwiceRunsEachOperationTwice() {
    Cluster c = clusters.grow(102, 12);
    KadNode node = c.node(3);
    Key key = Key.of("twice");
    Mono<PutResult> put = node.put(key, new byte[] {7});
    PutResult first = c.await(put);
    c.vts.advanceTimeBy(Duration.ofMillis(5));
    PutResult second = c.await(put);
    assertThat(second.value().seq()).isGreaterThan(first.value().seq());

    Mono<List<dev.kad.api.Contact>> find = node.findNode(NodeId.random(c.random));
    long a = c.network.traffic().requests();
    c.await(find);
    long b = c.network.traffic().requests();
    c.await(find);
    long d = c.network.traffic().requests();
    assertThat(b - a).isPositive();
    assertThat(d - b).isPositive();

    Flux<Value> get = c.node(9).get(key);
    assertThat(c.await(get)).hasSize(1);
    long e = c.network.traffic().requests();
    assertThat(c.await(get)).hasSize(1);
    assertThat(c.network.traffic().requests()).isGreaterThan(e);
  }

  @Test
  void aGetHonoursASlowSubscribersDemandAndLosesNothing() {
    Cluster c = clusters.grow(103, 12);
    Key key = Key.of("many publishers");
    for (int i = 0; i < 5; i++) {
      c.await(c.node(i).put(key, new byte[] {(byte) i}));
    }
    KadNode reader = c.node(10);
    StepVerifier.create(reader.get(key), 0)
        .expectSubscription()
        .then(() -> c.vts.advanceTimeBy(Duration.ofSeconds(10)))
        .expectNoEvent(Duration.ZERO)
        .thenRequest(1)
        .expectNextCount(1)
        .then(() -> c.vts.advanceTimeBy(Duration.ofSeconds(10)))
        .thenRequest(1)
        .expectNextCount(1)
        .then(() -> c.vts.advanceTimeBy(Duration.ofSeconds(10)))
        .thenRequest(10)
        .expectNextCount(3)
        .then(() -> c.vts.advanceTimeBy(Duration.ofSeconds(10)))
        .expectComplete()
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void aWatchWithoutDemandKeepsTheLatestOfEachIdentityAndNeverOverflows() {
    Cluster c = clusters.grow(104, 12);
    Key key = Key.of("slow watcher");
    KadNode watcher = c.node(8);
    List<Value> seen = new CopyOnWriteArrayList<>();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    AtomicReference<Subscription> sub = new AtomicReference<>();
    watcher
        .watch(key)
        .subscribe(
            new BaseSubscriber<Value>() {
              @Override
              protected void hookOnSubscribe(Subscription s) {
                sub.set(s);
                s.request(1);
              }

              @Override
              protected void hookOnNext(Value v) {
                seen.add(v);
              }

              @Override
              protected void hookOnError(Throwable t) {
                errors.add(t);
              }
            });
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    for (int round = 0; round < 20; round++) {
      for (int p = 0; p < 3; p++) {
        c.await(c.node(p).put(key, new byte[] {(byte) round}));
      }
      c.vts.advanceTimeBy(Duration.ofMillis(200));
    }
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(seen).hasSize(1);
    assertThat(errors).isEmpty();
    sub.get().request(100);
    c.vts.advanceTimeBy(Duration.ofSeconds(1));
    assertThat(errors).isEmpty();
    // The first value, then the latest of each of the three publishers.
    assertThat(seen).hasSize(4);
    assertThat(seen.subList(1, 4)).allMatch(v -> v.data()[0] == 19);
    sub.get().cancel();
  }

  @Test
  void cancellingAGetOrAPutStopsItsRequests() {
    Cluster c = clusters.grow(105, 40);
    RecordingTransport[] t = new RecordingTransport[1];
    KadNode node = c.startRecorded(t);
    Key key = Key.of("cancelled");
    c.await(c.node(5).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));

    t[0].clear();
    Disposable get = node.get(key).subscribe();
    c.vts.advanceTimeBy(Duration.ofMillis(15));
    get.dispose();
    int sent = t[0].sent().size();
    assertThat(sent).isPositive();
    c.vts.advanceTimeBy(Duration.ofMinutes(1));
    assertThat(t[0].sent()).hasSize(sent);

    t[0].clear();
    Disposable put = node.put(key, new byte[] {2}).subscribe();
    c.vts.advanceTimeBy(Duration.ofMillis(15));
    put.dispose();
    sent = t[0].sent().size();
    c.vts.advanceTimeBy(Duration.ofMinutes(1));
    assertThat(t[0].sent()).hasSize(sent);
    assertThat(t[0].sent()).noneMatch(Request.Store.class::isInstance);
  }

  @Test
  void aWatchDisposedFromInsideOnNextNeverEmitsAgainAndUnsubscribes() {
    Cluster c = clusters.grow(106, 12);
    Key key = Key.of("dispose inside");
    c.await(c.node(1).put(key, new byte[] {1}));
    List<Value> seen = new CopyOnWriteArrayList<>();
    // The first value may come during subscribe() (this node's own copy): a BaseSubscriber can
    // dispose itself even then.
    c.node(9)
        .watch(key)
        .subscribe(
            new BaseSubscriber<Value>() {
              @Override
              protected void hookOnNext(Value v) {
                seen.add(v);
                dispose();
              }
            });
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(seen).hasSize(1);
    c.await(c.node(2).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(seen).hasSize(1);
    assertThat(c.node(9).stats().activeWatches()).isZero();
  }

  @Test
  void aSubscriberThatThrowsBreaksOnlyItsOwnOperation() {
    Cluster c = clusters.grow(107, 12);
    Key key = Key.of("thrower");
    KadNode node = c.node(6);
    List<Signal<Value>> throwerSignals = new CopyOnWriteArrayList<>();
    List<Value> other = new CopyOnWriteArrayList<>();
    Disposable thrower =
        node.watch(key)
            .doOnEach(throwerSignals::add)
            .subscribe(
                v -> {
                  throw new IllegalStateException("subscriber bug");
                },
                e -> {});
    Disposable fine = node.watch(key).subscribe(other::add);
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    c.await(c.node(1).put(key, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    c.await(c.node(2).put(key, new byte[] {2}));
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    assertThat(other).hasSize(2);
    assertThat(throwerSignals.stream().filter(Signal::isOnNext)).hasSize(1);
    // The node still answers everyone.
    assertThat(c.await(node.get(key))).hasSize(2);
    assertThat(c.await(node.put(key, new byte[] {3})).acceptedCount()).isPositive();
    thrower.dispose();
    fine.dispose();
  }

  @Test
  void contextWrittenByTheCallerReachesTheOperationsOperators() {
    Cluster c = clusters.grow(108, 12);
    KadNode node = c.node(2);
    Key key = Key.of("context");
    AtomicReference<Object> seenByGet = new AtomicReference<>();
    List<Value> values =
        c.await(
            node.get(key)
                .contextWrite(Context.of("trace", "t-1"))
                .collectList()
                .doOnEach(
                    s -> {
                      if (s.isOnNext()) {
                        seenByGet.set(s.getContextView().getOrDefault("trace", null));
                      }
                    })
                .contextWrite(Context.of("trace", "outer")));
    assertThat(values).isEmpty();
    assertThat(seenByGet.get()).isEqualTo("outer");
  }

  @Test
  void manyConcurrentCallersFromSeveralThreadsOnOneNodeAllSucceed() throws Exception {
    Cluster c = clusters.grow(109, 20);
    KadNode node = c.node(11);
    int threads = 4;
    int perThread = 25;
    List<PutResult> puts = new CopyOnWriteArrayList<>();
    List<Throwable> errors = new CopyOnWriteArrayList<>();
    AtomicInteger founds = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try {
      CountDownLatch done = new CountDownLatch(threads);
      for (int t = 0; t < threads; t++) {
        int thread = t;
        pool.execute(
            () -> {
              try {
                for (int i = 0; i < perThread; i++) {
                  Key key = Key.of("k" + thread + "-" + i);
                  node.put(key, new byte[] {(byte) i}).subscribe(puts::add, errors::add);
                  node.findNode(NodeId.random(new java.util.SplittableRandom(i)))
                      .subscribe(r -> founds.incrementAndGet(), errors::add);
                }
              } finally {
                done.countDown();
              }
            });
      }
      assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
    } finally {
      pool.shutdownNow();
    }
    c.vts.advanceTimeBy(Duration.ofMinutes(1));
    assertThat(errors).isEmpty();
    assertThat(puts).hasSize(threads * perThread);
    assertThat(founds).hasValue(threads * perThread);
    List<Value> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      for (int i = 0; i < perThread; i++) {
        all.addAll(c.await(c.node(3).get(Key.of("k" + t + "-" + i))));
      }
    }
    assertThat(all).hasSize(threads * perThread);
  }

  @Test
  void closingEndsEveryOperationInFlightOnceWithNodeClosedAndLaterOnesFailAtSubscription() {
    Cluster c = clusters.grow(110, 30);
    KadNode node = c.node(13);
    Key key = Key.of("closing");
    c.await(c.node(1).put(key, new byte[] {1}));
    List<Signal<?>> watch = new CopyOnWriteArrayList<>();
    List<Signal<?>> get = new CopyOnWriteArrayList<>();
    List<Signal<?>> put = new CopyOnWriteArrayList<>();
    List<Signal<?>> find = new CopyOnWriteArrayList<>();
    List<Signal<?>> trace = new CopyOnWriteArrayList<>();
    List<Signal<?>> boot = new CopyOnWriteArrayList<>();
    node.watch(key).materialize().subscribe(watch::add);
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    node.get(key).materialize().subscribe(get::add);
    node.put(key, new byte[] {2}).materialize().subscribe(put::add);
    node.findNode(NodeId.random(c.random)).materialize().subscribe(find::add);
    node.trace(NodeId.random(c.random)).materialize().subscribe(trace::add);
    node.bootstrap(List.of(c.node(0).address())).materialize().subscribe(boot::add);
    c.vts.advanceTimeBy(Duration.ofMillis(12));
    StepVerifier.create(node.close())
        .then(() -> c.vts.advanceTimeBy(Duration.ofSeconds(5)))
        .expectComplete()
        .verify(Duration.ofSeconds(5));
    for (List<Signal<?>> signals : List.of(watch, get, put, find, trace, boot)) {
      List<Signal<?>> terminal = signals.stream().filter(s -> !s.isOnNext()).toList();
      assertThat(terminal).hasSize(1);
      assertThat(terminal.get(0).getThrowable()).isInstanceOf(NodeClosedException.class);
      assertThat(signals.get(signals.size() - 1)).isSameAs(terminal.get(0));
    }
    for (Mono<?> after :
        List.of(
            node.get(key).collectList(),
            node.watch(key).collectList(),
            node.put(key, new byte[] {3}),
            node.findNode(NodeId.random(c.random)),
            node.trace(NodeId.random(c.random)).collectList(),
            node.bootstrap(List.of(c.node(0).address())))) {
      StepVerifier.create(after)
          .expectErrorMatches(e -> e instanceof NodeClosedException && e instanceof KadException)
          .verify(Duration.ofSeconds(5));
    }
    StepVerifier.create(node.close()).expectComplete().verify(Duration.ofSeconds(5));
    StepVerifier.create(node.onClose()).expectComplete().verify(Duration.ofSeconds(5));
  }

  @Test
  void aGetWithoutDemandEndsWithNodeClosedWhenTheNodeCloses() {
    Cluster c = clusters.grow(111, 12);
    Key key = Key.of("held here");
    KadNode node = c.node(4);
    c.await(node.put(key, new byte[] {1}));
    assertThat(((DefaultKadNode) node).store().get(key, c.now())).isNotEmpty();
    // A subscriber that has not requested yet: an error needs no demand.
    StepVerifier.create(node.get(key), 0)
        .expectSubscription()
        .then(() -> c.await(node.close()))
        .expectError(NodeClosedException.class)
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void aGetOfQuorumOneWithoutDemandEndsWithNodeClosedWhenTheNodeCloses() {
    Cluster c = clusters.grow(112, 12);
    Key key = Key.of("held here too");
    KadNode node = c.node(4);
    c.await(node.put(key, new byte[] {1}));
    StepVerifier.create(node.get(key, 1), 0)
        .expectSubscription()
        .then(() -> c.await(node.close()))
        .thenRequest(1)
        .expectError(NodeClosedException.class)
        .verify(Duration.ofSeconds(5));
  }

  @Test
  void cancellingAndClosingDropNoErrorsOrValuesIntoReactorsHooks() {
    List<Throwable> droppedErrors = new CopyOnWriteArrayList<>();
    List<Object> droppedValues = new CopyOnWriteArrayList<>();
    reactor.core.publisher.Hooks.onErrorDropped(droppedErrors::add);
    reactor.core.publisher.Hooks.onNextDropped(droppedValues::add);
    try {
      Cluster c = clusters.grow(113, 30);
      KadNode node = c.node(5);
      Key key = Key.of("dropped");
      c.await(c.node(1).put(key, new byte[] {1}));
      for (int i = 0; i < 5; i++) {
        Disposable g = node.get(key).subscribe();
        Disposable p = node.put(Key.of("p" + i), new byte[] {1}).subscribe();
        Disposable f = node.findNode(NodeId.random(c.random)).subscribe();
        Disposable w = node.watch(key).subscribe();
        c.vts.advanceTimeBy(Duration.ofMillis(20 + 40 * i));
        g.dispose();
        p.dispose();
        f.dispose();
        w.dispose();
      }
      c.vts.advanceTimeBy(Duration.ofMinutes(1));
      node.get(key).subscribe(v -> {}, e -> {});
      node.put(key, new byte[] {2}).subscribe(v -> {}, e -> {});
      node.watch(key).subscribe(v -> {}, e -> {});
      node.findNode(NodeId.random(c.random)).subscribe(v -> {}, e -> {});
      c.vts.advanceTimeBy(Duration.ofMillis(15));
      c.await(node.close());
      c.vts.advanceTimeBy(Duration.ofMinutes(1));
      assertThat(droppedErrors).isEmpty();
      assertThat(droppedValues).isEmpty();
    } finally {
      reactor.core.publisher.Hooks.resetOnErrorDropped();
      reactor.core.publisher.Hooks.resetOnNextDropped();
    }
  }

  @Test
  void aRawSubscriberThatThrowsInOnNextDoesNotStarveAnotherWatchOfTheKey() {
    Cluster c = clusters.grow(114, 12);
    Key key = Key.of("raw thrower");
    KadNode node = c.node(6);
    List<Value> other = new CopyOnWriteArrayList<>();
    AtomicReference<Subscription> rawSub = new AtomicReference<>();
    node.watch(key)
        .subscribe(
            new org.reactivestreams.Subscriber<Value>() {
              @Override
              public void onSubscribe(Subscription s) {
                rawSub.set(s);
                s.request(Long.MAX_VALUE);
              }

              @Override
              public void onNext(Value v) {
                throw new IllegalStateException("subscriber bug");
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onComplete() {}
            });
    Disposable fine = node.watch(key).subscribe(other::add);
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    for (int i = 1; i <= 3; i++) {
      c.await(c.node(i).put(key, new byte[] {(byte) i}));
      c.vts.advanceTimeBy(Duration.ofSeconds(10));
    }
    assertThat(other).hasSize(3);
    assertThat(c.await(node.get(key))).hasSize(3);
    rawSub.get().cancel();
    fine.dispose();
  }

  @Test
  void aWatchWithoutDemandEndsWithNodeClosedWhenTheNodeCloses() {
    Cluster c = clusters.grow(115, 12);
    Key key = Key.of("watch no demand");
    c.await(c.node(1).put(key, new byte[] {1}));
    KadNode node = c.node(4);
    StepVerifier.create(node.watch(key), 0)
        .expectSubscription()
        .then(() -> c.vts.advanceTimeBy(Duration.ofSeconds(10)))
        .then(() -> c.await(node.close()))
        .expectError(NodeClosedException.class)
        .verify(Duration.ofSeconds(5));
  }

  /** What a tracing user sees: the caller's Context at each request the operation sends. */
  private static final class ContextRecordingTransport extends dev.kad.testkit.ForwardingTransport {
    final List<String> seen = new CopyOnWriteArrayList<>();

    ContextRecordingTransport(dev.kad.api.spi.Transport delegate) {
      super(delegate);
    }

    @Override
    public Mono<dev.kad.api.message.Response> send(dev.kad.api.Address to, Request request) {
      return Mono.deferContextual(
          ctx -> {
            seen.add(request.getClass().getSimpleName() + "=" + ctx.getOrDefault("trace", "none"));
            return super.send(to, request);
          });
    }
  }

  @Test
  void theCallersContextAtTheRequestsAnOperationSends() {
    Cluster c = clusters.grow(116, 12);
    ContextRecordingTransport t = new ContextRecordingTransport(c.network.newTransport());
    KadNode node = c.join(c.builder().transport(t));
    Key key = Key.of("traced");
    t.seen.clear();
    c.await(node.findNode(NodeId.random(c.random)).contextWrite(Context.of("trace", "find")));
    c.await(node.put(key, new byte[] {1}).contextWrite(Context.of("trace", "put")));
    c.await(node.get(key).collectList().contextWrite(Context.of("trace", "get")));
    Disposable w = node.watch(key).contextWrite(Context.of("trace", "watch")).subscribe();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    w.dispose();
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    // README says nothing of Context. The requests of a lookup, a get and a put run in the
    // caller's subscription, so they see its Context; a watch's Subscribes and Unsubscribes are
    // sent by the node on its own (ordered per storage node, and outliving a cancel), without it.
    assertThat(t.seen).contains("FindNode=find", "FindValue=get", "Store=put", "FindValue=watch");
    assertThat(t.seen)
        .filteredOn(x -> x.startsWith("Subscribe="))
        .allMatch(x -> x.endsWith("none"));
  }
}
