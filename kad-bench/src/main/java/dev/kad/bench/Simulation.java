package dev.kad.bench;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.Value;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/**
 * One run of {@code kad-bench sim}: builds the network, kills some nodes, measures lookups and
 * put-get pairs. Everything runs on one {@link VirtualTimeScheduler} advanced from this thread,
 * and every random draw derives from the seed, so the same settings give the same figures.
 */
final class Simulation {

  /** How routing tables are filled. */
  enum Join {
    /** Every node runs {@code bootstrap} through a random node that already joined. */
    PROTOCOL,
    /** {@link WarmUp}: tables fed through the routing-table code, no messages. */
    WARM;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /**
   * What to run.
   *
   * @param nodes how many nodes
   * @param lookups how many lookups, and how many put-get pairs
   * @param seed the seed of every random draw
   * @param k bucket size and replication
   * @param alpha lookup parallelism
   * @param loss loss probability per message
   * @param dead fraction of nodes killed after the build
   * @param latencyMinMs shortest one-way latency
   * @param latencyMaxMs longest one-way latency
   * @param join how the tables are filled
   */
  record Settings(
      int nodes,
      int lookups,
      long seed,
      int k,
      int alpha,
      double loss,
      double dead,
      long latencyMinMs,
      long latencyMaxMs,
      Join join) {}

  /** How far virtual time moves per round while waiting for an operation. */
  private static final Duration STEP = Duration.ofMillis(10);

  /** The most virtual time one lookup, put or get may take. */
  private static final Duration OPERATION_LIMIT = Duration.ofMinutes(5);

  /** The most virtual time one wave of joins may take. */
  private static final Duration WAVE_LIMIT = Duration.ofMinutes(30);

  /**
   * The largest wave of concurrent joins. Waves are what keep the build fast (the joins of a
   * wave share the virtual clock's rounds); they are capped because every pending timer sits in
   * the virtual scheduler's queue, whose cancellation cost grows with its length.
   */
  private static final int MAX_WAVE = 64;

  /** Virtual time left between a put and its get, so the put's background work settles. */
  private static final Duration SETTLE = Duration.ofSeconds(10);

  private final Settings settings;
  private final PrintWriter progress;
  private final long wallStart = System.nanoTime();

  private VirtualTimeScheduler vts;
  private SimulatedNetwork network;
  private RandomGenerator workload;
  private final List<KadNode> nodes = new ArrayList<>();

  Simulation(Settings settings, PrintWriter progress) {
    this.settings = settings;
    this.progress = progress;
  }

  /** How many nodes {@code --dead} kills. */
  static int deadCount(int nodes, double dead) {
    return (int) Math.round(nodes * dead);
  }

  SimResult run() {
    long baseline = usedHeap();
    vts = VirtualTimeScheduler.create();
    try {
      network =
          new SimulatedNetwork(vts, settings.seed())
              .latency(
                  Duration.ofMillis(settings.latencyMinMs()),
                  Duration.ofMillis(settings.latencyMaxMs()))
              .lossProbability(settings.loss());
      workload = network.newRandom();
      startNodes();
      if (settings.join() == Join.PROTOCOL) {
        joinByProtocol();
      } else {
        report("warming up %d routing tables", nodes.size());
        new WarmUp(nodes, settings.k(), network.newRandom()).fill();
      }
      long heapPerNode = Math.max(0, (usedHeap() - baseline) / settings.nodes());
      report(
          "network built: %d bytes of heap per node, %d requests sent",
          heapPerNode,
          network.traffic().requests());
      List<KadNode> live = killSome();
      Oracle oracle = new Oracle(live, settings.k());
      LookupFigures lookups = lookups(live, oracle);
      GetFigures gets = putsAndGets(live);
      double wall = (System.nanoTime() - wallStart) / 1e9;
      report("done");
      return new SimResult(
          settings,
          lookups.accuracy.mean(),
          lookups.hops.percentile(0.50),
          lookups.hops.percentile(0.99),
          lookups.rpcs.mean(),
          lookups.ms.percentile(0.50),
          lookups.ms.percentile(0.99),
          gets.success.mean(),
          gets.rpcs.mean(),
          gets.ms.percentile(0.50),
          gets.acks.mean(),
          heapPerNode,
          wall);
    } finally {
      vts.dispose();
    }
  }

  // ---- building -------------------------------------------------------------------------

  private void startNodes() {
    KadConfig config =
        KadConfig.builder().k(settings.k()).alpha(settings.alpha()).maintenance(false).build();
    RandomGenerator idRandom = network.newRandom();
    Set<NodeId> ids = new HashSet<>();
    for (int i = 0; i < settings.nodes(); i++) {
      NodeId id;
      do {
        id = NodeId.random(config.idBits(), idRandom);
      } while (!ids.add(id));
      Mono<KadNode> start =
          KadNodes.builder()
              .config(config)
              .transport(network.newTransport())
              .scheduler(vts)
              .random(network.newRandom())
              .id(id)
              .start();
      nodes.add(VirtualTime.await(vts, start, STEP, OPERATION_LIMIT));
    }
    report("started %d nodes", nodes.size());
  }

  /**
   * Joins node 1.. through the protocol, in waves: a wave is at most as large as the network
   * already joined (and at most {@link #MAX_WAVE}); each of its nodes bootstraps from a random
   * node of the joined part, all of the wave at once. A failed join is retried once through
   * another seed.
   */
  private void joinByProtocol() {
    int joined = 1;
    int failures = 0;
    int nextReport = Math.max(1, settings.nodes() / 10);
    while (joined < nodes.size()) {
      int wave = Math.min(nodes.size() - joined, Math.min(joined, MAX_WAVE));
      List<Mono<Boolean>> joins = new ArrayList<>(wave);
      for (int i = joined; i < joined + wave; i++) {
        KadNode node = nodes.get(i);
        Address seed = nodes.get(workload.nextInt(joined)).contact().address();
        Address retry = nodes.get(workload.nextInt(joined)).contact().address();
        joins.add(
            node.bootstrap(List.of(seed))
                .onErrorResume(e -> node.bootstrap(List.of(retry)))
                .thenReturn(true)
                .onErrorReturn(false));
      }
      Long ok =
          VirtualTime.await(
              vts, Flux.merge(joins).filter(b -> b).count(), STEP, WAVE_LIMIT);
      failures += wave - (ok == null ? 0 : ok.intValue());
      joined += wave;
      if (joined >= nextReport || joined == nodes.size()) {
        report("joined %d/%d nodes by the protocol (%d failed)", joined, nodes.size(), failures);
        nextReport += Math.max(1, settings.nodes() / 10);
      }
    }
  }

  private List<KadNode> killSome() {
    int dead = deadCount(settings.nodes(), settings.dead());
    List<Integer> indexes = new ArrayList<>(nodes.size());
    for (int i = 0; i < nodes.size(); i++) {
      indexes.add(i);
    }
    // Fisher-Yates with the seeded workload random.
    for (int i = indexes.size() - 1; i > 0; i--) {
      int j = workload.nextInt(i + 1);
      Integer t = indexes.get(i);
      indexes.set(i, indexes.get(j));
      indexes.set(j, t);
    }
    boolean[] killed = new boolean[nodes.size()];
    for (int i = 0; i < dead; i++) {
      killed[indexes.get(i)] = true;
      network.kill(nodes.get(indexes.get(i)).contact().address());
    }
    List<KadNode> live = new ArrayList<>(nodes.size() - dead);
    for (int i = 0; i < nodes.size(); i++) {
      if (!killed[i]) {
        live.add(nodes.get(i));
      }
    }
    if (dead > 0) {
      report("killed %d nodes, %d live", dead, live.size());
    }
    return live;
  }

  // ---- measuring ------------------------------------------------------------------------

  private static final class LookupFigures {
    final Samples accuracy = new Samples();
    final Samples hops = new Samples();
    final Samples rpcs = new Samples();
    final Samples ms = new Samples();
  }

  private LookupFigures lookups(List<KadNode> live, Oracle oracle) {
    LookupFigures figures = new LookupFigures();
    for (int i = 0; i < settings.lookups(); i++) {
      KadNode origin = live.get(workload.nextInt(live.size()));
      NodeId target = NodeId.random(origin.id().bits(), workload);
      List<LookupEvent> events =
          VirtualTime.await(vts, origin.trace(target).collectList(), STEP, OPERATION_LIMIT);
      Map<NodeId, Integer> hops = new HashMap<>();
      LookupEvent.Finished finished = null;
      for (LookupEvent e : events) {
        if (e instanceof LookupEvent.Queried q) {
          hops.putIfAbsent(q.contact().id(), q.hop());
        } else if (e instanceof LookupEvent.Finished f) {
          finished = f;
        }
      }
      if (finished == null) {
        throw new IllegalStateException("lookup of " + target + " ended without Finished");
      }
      Set<NodeId> truth = oracle.closest(target, origin.id());
      int found = 0;
      for (Contact c : finished.closest()) {
        if (truth.contains(c.id())) {
          found++;
        }
      }
      figures.accuracy.add(truth.isEmpty() ? 1.0 : (double) found / truth.size());
      if (!finished.closest().isEmpty()) {
        Integer hop = hops.get(finished.closest().get(0).id());
        figures.hops.add(hop == null ? 0 : hop);
      }
      figures.rpcs.add(finished.queried());
      figures.ms.add(finished.elapsed().toNanos() / 1e6);
      if ((i + 1) % Math.max(1, settings.lookups() / 5) == 0) {
        report(
            "%d/%d lookups, accuracy so far %.4f",
            i + 1,
            settings.lookups(),
            figures.accuracy.mean());
      }
    }
    return figures;
  }

  private static final class GetFigures {
    final Samples success = new Samples();
    final Samples rpcs = new Samples();
    final Samples ms = new Samples();
    final Samples acks = new Samples();
    final Samples getterRpcs = new Samples();
  }

  private record Got(List<Value> values, long nanos) {}

  private GetFigures putsAndGets(List<KadNode> live) {
    GetFigures figures = new GetFigures();
    for (int i = 0; i < settings.lookups(); i++) {
      KadNode putter = live.get(workload.nextInt(live.size()));
      KadNode getter;
      do {
        getter = live.get(workload.nextInt(live.size()));
      } while (getter == putter);
      Key key = Key.of("sim-" + settings.seed() + "-" + i + "-" + workload.nextLong());
      byte[] data = ("value " + i + " of seed " + settings.seed()).getBytes(StandardCharsets.UTF_8);

      PutResult put =
          VirtualTime.await(
              vts,
              putter.put(key, data).onErrorResume(e -> Mono.empty()),
              STEP,
              OPERATION_LIMIT);
      figures.acks.add(put == null ? 0 : put.acceptedCount());
      vts.advanceTimeBy(SETTLE);

      KadNode from = getter;
      long before = network.traffic().requests();
      long getterBefore = network.traffic(getter.contact().address()).requests();
      Got got =
          VirtualTime.await(
              vts,
              Mono.defer(
                  () -> {
                    long start = vts.now(TimeUnit.NANOSECONDS);
                    return from.get(key)
                        .collectList()
                        .onErrorResume(e -> Mono.just(List.of()))
                        .map(v -> new Got(v, vts.now(TimeUnit.NANOSECONDS) - start));
                  }),
              STEP,
              OPERATION_LIMIT);
      figures.rpcs.add(network.traffic().requests() - before);
      figures.getterRpcs.add(network.traffic(getter.contact().address()).requests() - getterBefore);
      boolean success = false;
      for (Value v : got.values()) {
        if (Arrays.equals(v.data(), data) && v.publisher().equals(putter.id())) {
          success = true;
        }
      }
      figures.success.add(success ? 1 : 0);
      figures.ms.add(got.nanos() / 1e6);
      vts.advanceTimeBy(SETTLE);
      if ((i + 1) % Math.max(1, settings.lookups() / 5) == 0) {
        report(
            "%d/%d put-get pairs, success so far %.4f",
            i + 1,
            settings.lookups(),
            figures.success.mean());
      }
    }
    report(
        "requests per get: %.2f by the whole network, %.2f by the getting node (its lookup and"
            + " caching store); the rest are other nodes' pings and hand-overs the get set off",
        figures.rpcs.mean(),
        figures.getterRpcs.mean());
    return figures;
  }

  /** The true k closest live nodes to a target, by brute force over every live id. */
  private static final class Oracle {
    private final NodeId[] ids;
    private final int k;

    Oracle(List<KadNode> live, int k) {
      this.ids = live.stream().map(KadNode::id).toArray(NodeId[]::new);
      this.k = k;
    }

    /** The k live ids closest to {@code target} but {@code asking} (a lookup never returns it). */
    Set<NodeId> closest(NodeId target, NodeId asking) {
      // A max-heap of the k closest so far: its head is the farthest of them.
      PriorityQueue<NodeId> best =
          new PriorityQueue<>(k + 1, (a, b) -> target.compareDistance(b, a));
      for (NodeId id : ids) {
        if (id.equals(asking)) {
          continue;
        }
        if (best.size() < k) {
          best.add(id);
        } else if (target.compareDistance(id, best.peek()) < 0) {
          best.poll();
          best.add(id);
        }
      }
      return new HashSet<>(best);
    }
  }

  // ---- helpers --------------------------------------------------------------------------

  private void report(String format, Object... args) {
    double wall = (System.nanoTime() - wallStart) / 1e9;
    double virtual = vts == null ? 0 : vts.now(TimeUnit.MILLISECONDS) / 1000.0;
    progress.printf(
        Locale.ROOT,
        "[sim %7.2fs wall, %.1fs virtual] %s%n",
        wall,
        virtual,
        String.format(Locale.ROOT, format, args));
    progress.flush();
  }

  private static long usedHeap() {
    Runtime runtime = Runtime.getRuntime();
    for (int i = 0; i < 3; i++) {
      System.gc();
    }
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
