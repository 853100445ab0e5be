package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Peers that go silent and whose requests then fail just as the node's hard timeout fires: over TCP
 * a stopped peer's connection closes after the preface timeout, as long as the hard timeout by
 * default, on an event loop while the node's timer fires on its scheduler. Each request fails once,
 * and no error is left to Reactor's onErrorDropped hook, whose default logs an ERROR with a stack
 * trace for every such request.
 */
class HardTimeoutRaceTest {

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(time, 11);
  private final List<KadNode> nodes = new ArrayList<>();

  @AfterEach
  void closeEveryNode() {
    Hooks.resetOnErrorDropped();
    for (KadNode node : nodes) {
      VirtualTime.await(time, node.close());
    }
    time.dispose();
  }

  private KadNode start(Transport transport) {
    KadNode node =
        VirtualTime.await(time, KadNodes.builder().transport(transport).scheduler(time).start());
    nodes.add(node);
    return node;
  }

  @Test
  void requestsThatFailAsTheHardTimeoutFiresFailOnceAndDropNothing() {
    List<Throwable> dropped = new CopyOnWriteArrayList<>();
    Hooks.onErrorDropped(dropped::add);
    KadNode first = start(network.newTransport());
    for (int i = 0; i < 15; i++) {
      KadNode peer = start(network.newTransport());
      VirtualTime.await(time, peer.bootstrap(List.of(first.contact().address())));
    }
    SplittableRandom rng = new SplittableRandom(3);
    for (int round = 0; round < 10 && dropped.isEmpty(); round++) {
      // Every peer goes silent: requests to them wait until `gone` fails them all at once.
      Sinks.Empty<Void> gone = Sinks.empty();
      AtomicBoolean silent = new AtomicBoolean();
      KadNode node =
          start(
              new ForwardingTransport(network.newTransport()) {
                @Override
                public Mono<Response> send(Address to, Request request) {
                  return silent.get()
                      ? gone.asMono()
                          .then(Mono.error(() -> new UnreachableContactException(to + " is gone")))
                      : super.send(to, request);
                }
              });
      VirtualTime.await(time, node.bootstrap(List.of(first.contact().address())));
      silent.set(true);
      int lookups = 300;
      AtomicInteger ended = new AtomicInteger();
      for (int i = 0; i < lookups; i++) {
        byte[] target = new byte[20];
        rng.nextBytes(target);
        node.findNode(NodeId.of(target))
            .subscribe(found -> ended.incrementAndGet(), e -> ended.incrementAndGet());
      }
      // The failures arrive on another thread while the hard timeouts fire here.
      // Up to the instant the hard timeouts are due, then both at once.
      Duration hard = node.config().hardTimeout();
      time.advanceTimeBy(hard.minusMillis(1));
      CountDownLatch go = new CountDownLatch(1);
      Mono<Void> failing =
          Mono.<Void>fromRunnable(
                  () -> {
                    try {
                      go.await();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                    gone.tryEmitEmpty();
                  })
              .subscribeOn(Schedulers.boundedElastic())
              .cache();
      failing.subscribe();
      go.countDown();
      time.advanceTimeBy(Duration.ofMillis(1));
      failing.block(Duration.ofSeconds(10));
      for (int i = 0; i < 20 && ended.get() < lookups; i++) {
        time.advanceTimeBy(node.config().hardTimeout());
      }
      assertThat(ended).as("lookups ended").hasValue(lookups);
    }
    assertThat(dropped).as("errors dropped to Reactor's hook").isEmpty();
  }
}
