package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import dev.kad.api.NodeClosedException;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.SimulatedNetwork;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.scheduler.VirtualTimeScheduler;

/** {@link RunningNode#close()} from two threads, on the in-memory transport and virtual time. */
class RunningNodeTest {

  private static final long WAIT_SECONDS = 10;

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(time, 1);
  private final Sinks.Empty<Void> gate = Sinks.empty();

  @AfterEach
  void openTheGateAndStopTime() {
    gate.tryEmitEmpty();
    time.dispose();
  }

  @Test
  @Timeout(value = 30, unit = TimeUnit.SECONDS)
  void aSecondCloseReturnsOnlyOnceTheFirstHasClosedTheNode() throws Exception {
    GatedTransport transport = new GatedTransport(network.newTransport(), gate.asMono());
    KadNode node =
        KadNodes.builder()
            .transport(transport)
            .scheduler(time)
            .start()
            .toFuture()
            .get(WAIT_SECONDS, TimeUnit.SECONDS);
    RunningNode running = new RunningNode(node);

    CompletableFuture<Void> first = new CompletableFuture<>();
    inBackground(running::close, first, "first-close");
    assertThat(transport.closing.await(WAIT_SECONDS, TimeUnit.SECONDS))
        .as("the first close reached the transport")
        .isTrue();
    CompletableFuture<Void> second = new CompletableFuture<>();
    Thread secondThread = inBackground(running::close, second, "second-close");

    // The second close waits for the first (as the shutdown hook must, or the JVM halts while
    // the node is still closing) rather than returning at once.
    awaitWaitingForClose(secondThread);
    assertThat(second).as("the second close returned while the node was closing").isNotDone();
    assertThat(first).isNotDone();

    gate.tryEmitEmpty();

    first.get(WAIT_SECONDS, TimeUnit.SECONDS);
    second.get(WAIT_SECONDS, TimeUnit.SECONDS);
    assertThat(running.closing()).isTrue();
    assertThat(transport.closed()).isTrue();
    assertThat(node.findNode(node.id()).toFuture())
        .failsWithin(Duration.ofSeconds(WAIT_SECONDS))
        .withThrowableThat()
        .havingCause()
        .isInstanceOf(NodeClosedException.class);
  }

  /**
   * Waits, at most {@link #WAIT_SECONDS}, until {@code thread} waits in {@code RunningNode}'s wait
   * for the closing thread, or has ended.
   */
  private static void awaitWaitingForClose(Thread thread) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (System.nanoTime() < deadline && thread.isAlive()) {
      boolean waiting =
          Arrays.stream(thread.getStackTrace())
              .anyMatch(
                  f ->
                      f.getClassName().equals(RunningNode.class.getName())
                          && f.getMethodName().equals("waitForClose"));
      if (waiting
          && (thread.getState() == Thread.State.TIMED_WAITING
              || thread.getState() == Thread.State.WAITING)) {
        return;
      }
      Thread.yield();
    }
  }

  /** Runs {@code action} on a daemon thread that completes {@code done}. */
  private static Thread inBackground(Runnable action, CompletableFuture<Void> done, String name) {
    Thread t =
        new Thread(
            () -> {
              try {
                action.run();
                done.complete(null);
              } catch (Throwable e) {
                done.completeExceptionally(e);
              }
            },
            name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  /** A transport whose close takes until the test opens the gate. */
  private static final class GatedTransport extends ForwardingTransport {
    private final Mono<Void> gate;
    final CountDownLatch closing = new CountDownLatch(1);
    private volatile boolean closed;

    GatedTransport(Transport delegate, Mono<Void> gate) {
      super(delegate);
      this.gate = gate;
    }

    @Override
    public Mono<Void> close() {
      return Mono.fromRunnable(closing::countDown)
          .then(gate)
          .then(delegate().close())
          .doOnSuccess(v -> closed = true);
    }

    boolean closed() {
      return closed;
    }
  }
}
