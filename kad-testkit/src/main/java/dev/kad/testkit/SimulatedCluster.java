package dev.kad.testkit;

import dev.kad.api.Address;
import dev.kad.api.KadNode;
import dev.kad.api.spi.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * Nodes joined into one network on a {@link SimulatedNetwork} driven by a {@link
 * VirtualTimeScheduler}: the set-up an application's tests otherwise write each time.
 *
 * <pre>{@code
 * VirtualTimeScheduler time = VirtualTimeScheduler.create();
 * SimulatedNetwork network = new SimulatedNetwork(time, 42);
 * try (SimulatedCluster cluster =
 *     SimulatedCluster.start(network, 30, transport -> KadNodes.builder()
 *         .transport(transport)                      // the node runs on the network's clock
 *         .random(network.newRandom())
 *         .start())) {
 *   cluster.await(cluster.node(3).put(key, bytes));
 *   network.kill(cluster.node(7).address());
 *   cluster.advance(Duration.ofHours(1));
 * }
 * }</pre>
 *
 * <p>Nodes are started and joined one after another, each through the first node, in virtual time,
 * so a seed gives the same cluster every run, as long as each node draws its id and choices from
 * the network's seed ({@code .random(network.newRandom())}): without it the ids are random. Not
 * thread-safe: one test thread drives it. {@link #close()} closes every node (on virtual time) and
 * disposes nothing else: the clock and the network are the caller's.
 */
public final class SimulatedCluster implements AutoCloseable {

  private final SimulatedNetwork network;
  private final VirtualTimeScheduler time;
  private final List<KadNode> nodes;

  private SimulatedCluster(
      SimulatedNetwork network, VirtualTimeScheduler time, List<KadNode> nodes) {
    this.network = network;
    this.time = time;
    this.nodes = List.copyOf(nodes);
  }

  /**
   * Starts {@code size} nodes on {@code network}, each on a transport of its own, and joins them:
   * the first is the network's first node, every other bootstraps through it.
   *
   * @param network the network, whose scheduler must be a {@link VirtualTimeScheduler}
   * @param size how many nodes, at least 1
   * @param node starts a node on the transport it is given, e.g. {@code transport ->
   *     KadNodes.builder().transport(transport).start()}
   * @return the joined cluster
   * @throws IllegalArgumentException when {@code size} is below 1 or the network's scheduler is not
   *     a {@code VirtualTimeScheduler}
   * @throws IllegalStateException when a node could not join, naming it and the first node, with
   *     the bootstrap's error as its cause (a network losing messages can lose a join's ping: set
   *     its loss after the cluster started)
   * @throws RuntimeException a node's start failure as it came, after the nodes already started are
   *     closed
   */
  public static SimulatedCluster start(
      SimulatedNetwork network, int size, Function<Transport, Mono<KadNode>> node) {
    Objects.requireNonNull(network, "network");
    Objects.requireNonNull(node, "node");
    if (size < 1) {
      throw new IllegalArgumentException("size must be at least 1 but was " + size);
    }
    if (!(network.scheduler() instanceof VirtualTimeScheduler time)) {
      throw new IllegalArgumentException(
          "the network's scheduler must be a VirtualTimeScheduler but was " + network.scheduler());
    }
    List<KadNode> started = new ArrayList<>(size);
    try {
      for (int i = 0; i < size; i++) {
        KadNode next = VirtualTime.await(time, node.apply(network.newTransport()));
        started.add(next);
        if (i > 0) {
          join(time, next, started.get(0), i, size);
        }
      }
    } catch (RuntimeException e) {
      closeAll(time, started);
      throw e;
    }
    return new SimulatedCluster(network, time, started);
  }

  private static void join(
      VirtualTimeScheduler time, KadNode node, KadNode first, int index, int size) {
    try {
      VirtualTime.await(time, node.bootstrap(List.of(first.address())));
    } catch (RuntimeException e) {
      throw new IllegalStateException(
          "node "
              + index
              + " of "
              + size
              + " ("
              + node.address()
              + ") could not join through node 0 ("
              + first.address()
              + "): "
              + e.getMessage(),
          e);
    }
  }

  /**
   * The network the nodes run on.
   *
   * @return the network given to {@link #start}
   */
  public SimulatedNetwork network() {
    return network;
  }

  /**
   * The nodes, in the order they joined.
   *
   * @return every node
   */
  public List<KadNode> nodes() {
    return nodes;
  }

  /**
   * One node.
   *
   * @param index in join order, from 0
   * @return the node
   * @throws IndexOutOfBoundsException when there is no such node
   */
  public KadNode node(int index) {
    return nodes.get(index);
  }

  /**
   * The node at an address, e.g. one a {@code PutResult} names.
   *
   * @param address a node's address
   * @return the node of this cluster at {@code address}
   * @throws IllegalArgumentException when no node of this cluster is there
   */
  public KadNode node(Address address) {
    Objects.requireNonNull(address, "address");
    for (KadNode node : nodes) {
      if (node.address().equals(address)) {
        return node;
      }
    }
    throw new IllegalArgumentException("no node of this cluster is at " + address);
  }

  /**
   * Runs {@code mono} to its end on the cluster's clock (as {@link VirtualTime#await(
   * VirtualTimeScheduler, Mono)}: at most one virtual hour).
   *
   * @param <T> the value type
   * @param mono the operation
   * @return its value, or null when empty
   */
  public <T> T await(Mono<T> mono) {
    return VirtualTime.await(time, mono);
  }

  /**
   * Moves the clock forward, running everything due meanwhile (maintenance, expiry, pushes).
   *
   * @param duration how far, not negative
   * @throws IllegalArgumentException when {@code duration} is negative
   */
  public void advance(Duration duration) {
    if (duration.isNegative()) {
      throw new IllegalArgumentException("duration must not be negative but was " + duration);
    }
    time.advanceTimeBy(duration);
  }

  /** Closes every node, on the cluster's clock. */
  @Override
  public void close() {
    closeAll(time, nodes);
  }

  private static void closeAll(VirtualTimeScheduler time, List<KadNode> nodes) {
    if (!nodes.isEmpty()) {
      VirtualTime.await(time, Flux.fromIterable(nodes).flatMap(KadNode::close).then());
    }
  }
}
