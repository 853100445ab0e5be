package dev.kad.bench;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The simulated network the {@code sim} and {@code watch} benchmarks run on: N engine nodes on one
 * {@link SimulatedNetwork} driven by one {@link SimScheduler}, advanced from the calling thread.
 * Builds and joins the nodes, kills them, and replaces them under churn. Every random draw derives
 * from the seed.
 */
final class SimNetwork {

  /**
   * The network to build.
   *
   * @param nodes how many nodes
   * @param seed the seed of every random draw
   * @param config the configuration of every node
   * @param loss loss probability per message
   * @param latencyMinMs shortest one-way latency
   * @param latencyMaxMs longest one-way latency
   * @param join how the tables are filled
   */
  record Shape(
      int nodes,
      long seed,
      KadConfig config,
      double loss,
      long latencyMinMs,
      long latencyMaxMs,
      Simulation.Join join) {}

  /** A benchmark action due at a virtual time, run in order with the churn events. */
  record Timed(long atNanos, Runnable action) {}

  /**
   * What a churn phase did.
   *
   * @param replaced nodes killed and replaced
   * @param joinFailures replacements whose bootstrap failed through two seeds
   * @param requests requests the whole network sent during the phase
   * @param joinRequests requests the replacements sent until their bootstrap ended
   * @param liveNodes live nodes during the phase (constant: each kill has its replacement)
   * @param hours the phase's length
   */
  record Churn(
      int replaced, int joinFailures, long requests, long joinRequests, int liveNodes, int hours) {

    /** Requests per live node and hour, the replacements' joins left out. */
    double maintenancePerNodeHour() {
      return hours == 0 || liveNodes == 0
          ? 0
          : (double) (requests - joinRequests) / liveNodes / hours;
    }
  }

  /** Marks the churn events among the timed ones. */
  private static final Runnable CHURN = () -> {};

  /** The most virtual time one start, lookup, put or get may take. */
  static final Duration OPERATION_LIMIT = Duration.ofMinutes(5);

  /** The most virtual time one wave of joins may take. */
  private static final Duration WAVE_LIMIT = Duration.ofMinutes(30);

  /**
   * The largest wave of concurrent joins: the joins of a wave overlap in virtual time, which keeps
   * the build short; the cap keeps a wave from loading the few nodes joined before it.
   */
  private static final int MAX_WAVE = 64;

  private final Shape shape;
  private final PrintWriter progress;
  private final String label;
  private final long wallStart = System.nanoTime();
  private final SimScheduler clock = new SimScheduler();
  private final SimulatedNetwork network;
  private final RandomGenerator workload;
  private final RandomGenerator idRandom;
  private final Set<NodeId> ids = new HashSet<>();
  private final List<KadNode> live = new ArrayList<>();

  SimNetwork(Shape shape, PrintWriter progress, String label) {
    this.shape = shape;
    this.progress = progress;
    this.label = label;
    this.network =
        new SimulatedNetwork(clock, shape.seed())
            .latency(
                Duration.ofMillis(shape.latencyMinMs()), Duration.ofMillis(shape.latencyMaxMs()))
            .lossProbability(shape.loss());
    this.workload = network.newRandom();
    this.idRandom = network.newRandom();
  }

  SimScheduler clock() {
    return clock;
  }

  SimulatedNetwork network() {
    return network;
  }

  /** The seeded random of the benchmark's own draws. */
  RandomGenerator workload() {
    return workload;
  }

  /** The live nodes, in start order; the list is this network's own. */
  List<KadNode> live() {
    return live;
  }

  KadNode randomLive() {
    return live.get(workload.nextInt(live.size()));
  }

  <T> T await(Mono<T> mono, Duration limit) {
    return clock.await(mono, limit);
  }

  <T> T await(Mono<T> mono) {
    return clock.await(mono, OPERATION_LIMIT);
  }

  /** Starts the nodes and fills their tables by the protocol or the warm-up. */
  void build() {
    for (int i = 0; i < shape.nodes(); i++) {
      live.add(startNode());
    }
    report("started %d nodes", live.size());
    if (shape.join() == Simulation.Join.PROTOCOL) {
      joinByProtocol();
    } else {
      report("warming up %d routing tables", live.size());
      new WarmUp(live, shape.config().k(), network.newRandom()).fill();
    }
  }

  /** A started node with a fresh unique id, not yet joined. */
  KadNode startNode() {
    NodeId id;
    do {
      id = NodeId.random(shape.config().idBits(), idRandom);
    } while (!ids.add(id));
    Mono<KadNode> start =
        KadNodes.builder()
            .config(shape.config())
            .transport(network.newTransport())
            .scheduler(clock)
            .random(network.newRandom())
            .id(id)
            .start();
    return await(start);
  }

  /**
   * Joins node 1.. through the protocol, in waves: a wave is at most as large as the network
   * already joined (and at most {@link #MAX_WAVE}); each of its nodes bootstraps from a random node
   * of the joined part, all of the wave at once. A failed join is retried once through another
   * seed.
   */
  private void joinByProtocol() {
    int joined = 1;
    int failures = 0;
    int step = Math.max(1, live.size() / 10);
    int nextReport = step;
    while (joined < live.size()) {
      int wave = Math.min(live.size() - joined, Math.min(joined, MAX_WAVE));
      List<Mono<Boolean>> joins = new ArrayList<>(wave);
      for (int i = joined; i < joined + wave; i++) {
        KadNode node = live.get(i);
        Address seed = live.get(workload.nextInt(joined)).contact().address();
        Address retry = live.get(workload.nextInt(joined)).contact().address();
        joins.add(
            node.bootstrap(List.of(seed))
                .onErrorResume(e -> node.bootstrap(List.of(retry)))
                .thenReturn(true)
                .onErrorReturn(false));
      }
      Long ok = await(Flux.merge(joins).filter(b -> b).count(), WAVE_LIMIT);
      failures += wave - (ok == null ? 0 : ok.intValue());
      joined += wave;
      if (joined >= nextReport || joined == live.size()) {
        report("joined %d/%d nodes by the protocol (%d failed)", joined, live.size(), failures);
        nextReport += step;
      }
    }
  }

  /**
   * Kills a node: it stops answering and sending at once, as a crash, and is closed so that its
   * timers and jobs stop.
   */
  void kill(KadNode node) {
    network.kill(node.contact().address());
    live.remove(node);
    await(node.close().onErrorResume(e -> Mono.empty()));
  }

  /** Kills {@code count} random live nodes. */
  void killRandom(int count) {
    for (int i = 0; i < count; i++) {
      kill(randomLive());
    }
  }

  /**
   * Runs {@code hours} of churn: each hour, {@code perHour} of the live nodes (rounded) are killed
   * at random times of the hour, each replaced at once by a fresh node that bootstraps from a
   * random live node that is not itself still joining. The {@code extra} actions run at their
   * times, in order with the churn events. Nodes in {@code keep} are never killed.
   */
  Churn churn(double perHour, int hours, Set<KadNode> keep, List<Timed> extra) {
    long start = clock.nanos();
    long hourNanos = Duration.ofHours(1).toNanos();
    int liveNodes = live.size();
    List<Timed> events = new ArrayList<>();
    for (int h = 0; h < hours; h++) {
      int count = (int) Math.round(perHour * liveNodes);
      for (int i = 0; i < count; i++) {
        long at = start + h * hourNanos + workload.nextLong(hourNanos);
        events.add(new Timed(at, CHURN));
      }
    }
    int churnEvents = events.size();
    events.addAll(extra);
    events.sort(Comparator.comparingLong(Timed::atNanos));

    long requestsBefore = network.traffic().requests();
    long[] joinRequests = {0};
    int[] joinFailures = {0};
    Set<KadNode> joining = new HashSet<>();
    int replaced = 0;
    int step = Math.max(1, churnEvents / 10);
    for (Timed event : events) {
      clock.advanceBy(Duration.ofNanos(Math.max(0, event.atNanos() - clock.nanos())));
      if (event.action() != CHURN) {
        event.action().run();
        continue;
      }
      KadNode victim = pick(n -> !keep.contains(n));
      if (victim != null) {
        kill(victim);
        joining.remove(victim);
      }
      KadNode fresh = startNode();
      KadNode seed = pick(n -> !joining.contains(n));
      KadNode retry = pick(n -> !joining.contains(n));
      if (seed == null || retry == null) {
        throw new IllegalStateException("no joined live node left to bootstrap from");
      }
      live.add(fresh);
      joining.add(fresh);
      Address address = fresh.contact().address();
      // Subscribed now, run by the clock as it advances: joins overlap the rest of the hour.
      fresh
          .bootstrap(List.of(seed.contact().address()))
          .onErrorResume(e -> fresh.bootstrap(List.of(retry.contact().address())))
          .doOnError(e -> joinFailures[0]++)
          .onErrorResume(e -> Mono.empty())
          .doFinally(
              s -> {
                joinRequests[0] += network.traffic(address).requests();
                joining.remove(fresh);
              })
          .toFuture();
      replaced++;
      if (replaced % step == 0) {
        report(
            "churn: %d/%d nodes replaced, %d live, %d scheduler tasks queued",
            replaced, churnEvents, live.size(), clock.queued());
      }
    }
    clock.advanceBy(Duration.ofNanos(Math.max(0, start + hours * hourNanos - clock.nanos())));
    long requests = network.traffic().requests() - requestsBefore;
    report(
        "churn done: %d replaced, %d joins failed, %d requests (%d by joins)",
        replaced, joinFailures[0], requests, joinRequests[0]);
    return new Churn(replaced, joinFailures[0], requests, joinRequests[0], liveNodes, hours);
  }

  /** A random live node passing {@code filter}, or null after a bounded number of draws. */
  private KadNode pick(java.util.function.Predicate<KadNode> filter) {
    for (int i = 0; i < 1000; i++) {
      KadNode n = randomLive();
      if (filter.test(n)) {
        return n;
      }
    }
    return null;
  }

  /** Closes every node, so that their timers stop. */
  void close() {
    try {
      await(
          Flux.fromIterable(List.copyOf(live))
              .flatMap(node -> node.close().onErrorResume(e -> Mono.empty()))
              .then(),
          Duration.ofMinutes(1));
    } catch (IllegalStateException e) {
      // Nodes that cannot close within a virtual minute are left to the garbage collector.
    } finally {
      clock.dispose();
    }
  }

  void report(String format, Object... args) {
    double wall = (System.nanoTime() - wallStart) / 1e9;
    double virtual = clock.now(TimeUnit.MILLISECONDS) / 1000.0;
    progress.printf(
        Locale.ROOT,
        "[%s %7.2fs wall, %.1fs virtual] %s%n",
        label,
        wall,
        virtual,
        String.format(Locale.ROOT, format, args));
    progress.flush();
  }

  double wallSeconds() {
    return (System.nanoTime() - wallStart) / 1e9;
  }

  static long usedHeap() {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
