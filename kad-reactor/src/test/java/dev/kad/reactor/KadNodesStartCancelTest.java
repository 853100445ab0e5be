package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.message.Request;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.InMemoryTransport;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * A start cancelled at any stage (StepVerifier on the simulated network's virtual clock, advanced
 * by hand: {@code withVirtualTime} disposes the scheduler it is given when it ends) leaves the node
 * and its record store's claim consistent: either the node is not running (its transport answers
 * nothing) and the store serves the next node, or the node runs and the store is still its own.
 */
class KadNodesStartCancelTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(5).build();

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(time, 7);
  private final List<KadNode> nodes = new ArrayList<>();

  @AfterEach
  void tearDown() {
    for (KadNode node : nodes) {
      VirtualTime.await(time, node.close());
    }
    time.dispose();
  }

  /** A transport whose start is {@code start} around the simulated network's. */
  private static final class Staged extends ForwardingTransport {
    private final Function<Mono<Void>, Mono<Void>> start;
    final AtomicBoolean started = new AtomicBoolean();
    Runnable onFirstAddressAfterStart = () -> {};

    Staged(Transport delegate, Function<Mono<Void>, Mono<Void>> start) {
      super(delegate);
      this.start = start;
    }

    @Override
    public Mono<Void> start(RequestHandler handler) {
      return start.apply(super.start(handler).doOnSuccess(v -> started.set(true)));
    }

    @Override
    public Address localAddress() {
      if (started.getAndSet(false)) {
        // The node's first look at its address is in the last step of its start.
        onFirstAddressAfterStart.run();
      }
      return super.localAddress();
    }
  }

  private Mono<KadNode> start(Transport transport, RecordStore store) {
    return KadNodes.builder().config(CONFIG).transport(transport).store(store).start();
  }

  /** Whether the node at {@code address} answers a ping. */
  private boolean answers(Address address) {
    InMemoryTransport probe = network.newTransport();
    try {
      VirtualTime.await(time, probe.start(r -> Mono.empty()));
      Object answer =
          VirtualTime.await(
              time,
              probe
                  .send(
                      address,
                      new Request.Ping(
                          new dev.kad.api.Contact(
                              dev.kad.api.NodeId.random(network.newRandom()),
                              probe.localAddress())))
                  .map(r -> (Object) r)
                  .onErrorResume(e -> Mono.just("failed")));
      return !"failed".equals(answer);
    } finally {
      VirtualTime.await(time, probe.close());
    }
  }

  /** Whether {@code store} is still claimed: another node's start with it is refused. */
  private boolean claimed(RecordStore store) {
    try {
      KadNode other = VirtualTime.await(time, start(network.newTransport(), store));
      nodes.add(other);
      return false;
    } catch (IllegalArgumentException refused) {
      assertThat(refused).hasMessageContaining("already serves node");
      return true;
    }
  }

  private void assertConsistent(String stage, InMemoryTransport inner, RecordStore store) {
    boolean running = answers(inner.address());
    boolean claimed = claimed(store);
    assertThat(running)
        .as(
            "cancelled %s: the node %s while its store is %s",
            stage, running ? "runs" : "does not run", claimed ? "claimed" : "released")
        .isEqualTo(claimed);
  }

  /** Subscribes to {@code start} and cancels it half a second of virtual time later. */
  private void cancelHalfASecondIn(Mono<KadNode> start) {
    StepVerifier.create(start)
        .expectSubscription()
        .then(() -> time.advanceTimeBy(Duration.ofMillis(500)))
        .thenCancel()
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void cancelledBeforeTheTransportStartedNothingRunsAndTheStoreIsFree() {
    InMemoryTransport inner = network.newTransport();
    Staged transport = new Staged(inner, s -> Mono.delay(Duration.ofSeconds(1), time).then(s));
    RecordStore store = new InMemoryRecordStore(CONFIG);
    cancelHalfASecondIn(start(transport, store));
    time.advanceTimeBy(Duration.ofSeconds(5));
    assertConsistent("before the transport started", inner, store);
  }

  @Test
  void aStartCancelledBeforeTheTransportStartedCanBeSubscribedAgain() {
    InMemoryTransport inner = network.newTransport();
    Staged transport = new Staged(inner, s -> Mono.delay(Duration.ofSeconds(1), time).then(s));
    RecordStore store = new InMemoryRecordStore(CONFIG);
    Mono<KadNode> start = start(transport, store);
    cancelHalfASecondIn(start);
    KadNode node = VirtualTime.await(time, start);
    nodes.add(node);
    assertThat(answers(inner.address())).isTrue();
    assertThat(claimed(store)).isTrue();
  }

  @Test
  void aStartCancelledInItsLastStepClosedTheNodeSoASecondSubscriptionErrors() {
    Staged transport = new Staged(network.newTransport(), s -> s);
    RecordStore store = new InMemoryRecordStore(CONFIG);
    cancelInLastStepThenSubscribeAgain(transport, store);
    assertThat(claimed(store)).isFalse();
  }

  /**
   * Subscribes a start that is cancelled as the transport first tells its address (the start's last
   * step), then subscribes it again, which errors as closed.
   */
  private void cancelInLastStepThenSubscribeAgain(Staged transport, RecordStore store) {
    Subscription[] subscription = new Subscription[1];
    transport.onFirstAddressAfterStart = () -> subscription[0].cancel();
    Mono<KadNode> start = start(transport, store);
    StepVerifier.create(start)
        .consumeSubscriptionWith(s -> subscription[0] = s)
        .then(() -> time.advanceTimeBy(Duration.ofSeconds(1)))
        .thenCancel()
        .verify(Duration.ofSeconds(10));
    StepVerifier.create(start)
        .expectError(dev.kad.api.NodeClosedException.class)
        .verify(Duration.ofSeconds(10));
  }

  /** A transport whose close takes ten seconds of virtual time, as a real socket's may. */
  private final class SlowClose extends ForwardingTransport {
    SlowClose(Transport delegate) {
      super(delegate);
    }

    @Override
    public Mono<Void> close() {
      return Mono.delay(Duration.ofSeconds(10), time).then(super.close());
    }
  }

  /**
   * The javadoc of start(): a start cancelled once the transport served closes the node, and a
   * later subscription errors with NodeClosedException. While that close is still under way (a
   * transport that takes time to close) the store is still claimed by the very node that is
   * closing, and a second subscription was refused with "record store ... already serves node X:
   * close that node first", naming the node being closed.
   */
  @Test
  void aSecondSubscriptionWhileTheCancelledStartStillClosesErrorsAsClosed() {
    Staged transport = new Staged(new SlowClose(network.newTransport()), s -> s);
    RecordStore store = new InMemoryRecordStore(CONFIG);
    cancelInLastStepThenSubscribeAgain(transport, store);
    time.advanceTimeBy(Duration.ofSeconds(20));
    assertThat(claimed(store)).isFalse();
  }

  /**
   * A subscriber that cancels when it receives the node (take(1), next(), StepVerifier's
   * consumeNextWith then thenCancel) keeps it running; subscribing to the same start() again must
   * fail with the IllegalStateException the javadoc promises and leave that node alone. The cancel
   * after the node reset the start's "already started" flag, so the second subscription started the
   * node again, its transport refused ("already started"), and the failed start, finding the
   * transport serving, closed the running node.
   */
  @Test
  void aSecondSubscriptionAfterACancelThatCameWithTheNodeLeavesTheNodeRunning() {
    InMemoryTransport inner = network.newTransport();
    Mono<KadNode> start = KadNodes.builder().config(CONFIG).transport(inner).start();
    KadNode[] node = new KadNode[1];
    StepVerifier.create(start)
        .consumeNextWith(n -> node[0] = n)
        .thenCancel()
        .verify(Duration.ofSeconds(10));
    nodes.add(node[0]);
    StepVerifier.create(start)
        .expectError(IllegalStateException.class)
        .verify(Duration.ofSeconds(10));
    time.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(answers(inner.address())).as("the node the first subscription got runs").isTrue();
  }

  @Test
  void cancelledAfterTheTransportBoundButBeforeItsStartCompleted() {
    InMemoryTransport inner = network.newTransport();
    Staged transport =
        new Staged(inner, s -> s.then(Mono.delay(Duration.ofSeconds(1), time)).then());
    RecordStore store = new InMemoryRecordStore(CONFIG);
    cancelHalfASecondIn(start(transport, store));
    time.advanceTimeBy(Duration.ofSeconds(5));
    assertConsistent("after the transport bound, before its start completed", inner, store);
  }

  @Test
  void cancelledInTheLastStepOfTheStart() {
    InMemoryTransport inner = network.newTransport();
    Staged transport = new Staged(inner, s -> s);
    RecordStore store = new InMemoryRecordStore(CONFIG);
    Subscription[] subscription = new Subscription[1];
    transport.onFirstAddressAfterStart = () -> subscription[0].cancel();
    StepVerifier.create(start(transport, store))
        .consumeSubscriptionWith(s -> subscription[0] = s)
        .then(() -> time.advanceTimeBy(Duration.ofSeconds(1)))
        .thenCancel()
        .verify(Duration.ofSeconds(10));
    time.advanceTimeBy(Duration.ofSeconds(5));
    assertConsistent("in the last step", inner, store);
  }

  @Test
  void cancelledAfterTheNodeWasEmittedTheNodeRunsAndKeepsItsStore() {
    InMemoryTransport inner = network.newTransport();
    Staged transport = new Staged(inner, s -> s);
    RecordStore store = new InMemoryRecordStore(CONFIG);
    KadNode[] node = new KadNode[1];
    StepVerifier.create(start(transport, store))
        .consumeNextWith(n -> node[0] = n)
        .thenCancel()
        .verify(Duration.ofSeconds(10));
    nodes.add(node[0]);
    assertThat(answers(inner.address())).isTrue();
    assertThat(claimed(store)).isTrue();
  }
}
