package dev.kad.bench;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NoStoreAnsweredException;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.Value;
import dev.kad.testkit.SimulatedNetwork;
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
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.random.RandomGenerator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One run of {@code kad-bench sim}: builds the network, kills some nodes, optionally puts values
 * and runs hours of churn with maintenance on, then measures lookups and put-get pairs. Everything
 * runs on one {@link SimScheduler} advanced from this thread, and every random draw derives from
 * the seed, so the same settings give the same figures.
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
   * @param churnPerHour fraction of the live nodes replaced per simulated hour
   * @param hours simulated hours of churn; 0 runs no churn phase and keeps maintenance off
   * @param values values put before the churn
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
      Join join,
      double churnPerHour,
      int hours,
      int values) {

    boolean churn() {
      return hours > 0;
    }

    /**
     * The nodes' configuration: maintenance on with the paper's intervals (refresh and replicate 1
     * h, republish 24 h, 1 min jitter: the defaults) when there is a churn phase, off otherwise.
     * Values expire {@code hours + 24 h} after they are published (24 h without churn): Kademlia
     * expires a value 24 h after its publisher last published it, and with 10% churn per hour most
     * publishers are gone by then, so counting at hour 24 with a 24 h expiry would measure expiry,
     * not whether replication kept the values.
     */
    KadConfig config() {
      return KadConfig.builder()
          .k(k)
          .alpha(alpha)
          .maintenance(churn())
          .refreshInterval(Duration.ofHours(1))
          .replicateInterval(Duration.ofHours(1))
          .republishInterval(Duration.ofHours(24))
          .expireAfter(Duration.ofHours(24 + Math.max(0, hours)))
          .jobJitter(Duration.ofMinutes(1))
          .build();
    }
  }

  /** Virtual time left between a put and its get, so the put's background work settles. */
  private static final Duration SETTLE = Duration.ofSeconds(10);

  /** Values put, and checked after the churn, at once. */
  private static final int CONCURRENT_VALUES = 32;

  private final Settings settings;
  private final PrintWriter progress;

  private SimNetwork sim;
  private RandomGenerator workload;

  Simulation(Settings settings, PrintWriter progress) {
    this.settings = settings;
    this.progress = progress;
  }

  /** How many nodes {@code --dead} kills. */
  static int deadCount(int nodes, double dead) {
    return (int) Math.round(nodes * dead);
  }

  SimResult run() {
    long baseline = SimNetwork.usedHeap();
    sim =
        new SimNetwork(
            new SimNetwork.Shape(
                settings.nodes(),
                settings.seed(),
                settings.config(),
                settings.loss(),
                settings.latencyMinMs(),
                settings.latencyMaxMs(),
                settings.join()),
            progress,
            "sim");
    try {
      workload = sim.workload();
      sim.build();
      long heapPerNode = Math.max(0, (SimNetwork.usedHeap() - baseline) / settings.nodes());
      report(
          "network built: %d bytes of heap per node, %d requests sent",
          heapPerNode, sim.network().traffic().requests());
      killSome();
      Optional<SimResult.ChurnFigures> churn =
          settings.churn() ? Optional.of(churn()) : Optional.empty();
      List<KadNode> live = List.copyOf(sim.live());
      Oracle oracle = new Oracle(live, settings.k());
      LookupFigures lookups = lookups(live, oracle);
      GetFigures gets = putsAndGets(live);
      double wall = sim.wallSeconds();
      report("done: %d scheduler tasks run", sim.clock().tasksRun());
      return new SimResult(
          settings,
          lookups.accuracy.mean(),
          // No hop when no lookup returned a contact: null, not a 0 that looks measured.
          lookups.hops.percentileIfAny(0.50),
          lookups.hops.percentileIfAny(0.99),
          lookups.rpcs.mean(),
          lookups.ms.percentile(0.50),
          lookups.ms.percentile(0.99),
          gets.success.mean(),
          gets.rpcs.mean(),
          gets.ms.percentile(0.50),
          gets.acks.mean(),
          heapPerNode,
          wall,
          churn);
    } finally {
      // Every node is closed (its jobs and timers stopped), then the clock is disposed.
      sim.close();
    }
  }

  /** The network of the last {@link #run}, for tests: its live nodes are closed once it ends. */
  SimNetwork network() {
    return sim;
  }

  private void killSome() {
    int dead = deadCount(settings.nodes(), settings.dead());
    if (dead > 0) {
      sim.killRandom(dead);
      report("killed %d nodes, %d live", dead, sim.live().size());
    }
  }

  // ---- churn ----------------------------------------------------------------------------

  /**
   * Where a put stored its value, even when it errored: a put that no other node took still leaves
   * the putter's own copy, which the figures count. Empty when the error tells nothing.
   */
  private static Mono<PutResult> copies(Mono<PutResult> put) {
    return put.onErrorResume(
        e ->
            Mono.justOrEmpty(
                e instanceof StoreRejectedException r
                    ? r.putResult()
                    : e instanceof NoStoreAnsweredException u ? u.putResult() : Optional.empty()));
  }

  private record Put(Key key, byte[] data, NodeId publisher) {}

  /**
   * Puts the values from random live nodes, runs the churn hours, then gets every value from a
   * random live node.
   */
  private SimResult.ChurnFigures churn() {
    List<Put> puts = new ArrayList<>(settings.values());
    List<Mono<Boolean>> putting = new ArrayList<>(settings.values());
    for (int i = 0; i < settings.values(); i++) {
      KadNode putter = sim.randomLive();
      Key key = Key.of("churn-" + settings.seed() + "-" + i + "-" + workload.nextLong());
      byte[] data = ("churn value " + i).getBytes(StandardCharsets.UTF_8);
      puts.add(new Put(key, data, putter.id()));
      putting.add(
          copies(putter.put(key, data)).map(r -> r.acceptedCount() > 0).defaultIfEmpty(false));
    }
    Long stored =
        sim.await(
            Flux.fromIterable(putting).flatMap(m -> m, CONCURRENT_VALUES).filter(b -> b).count(),
            Duration.ofHours(1));
    report("put %d values before the churn, %d stored", puts.size(), stored);

    SimNetwork.Churn churn =
        sim.churn(settings.churnPerHour(), settings.hours(), Set.of(), List.of());

    List<Mono<Boolean>> getting = new ArrayList<>(puts.size());
    for (Put put : puts) {
      KadNode getter = sim.randomLive();
      getting.add(
          getter
              .get(put.key())
              .any(
                  v -> Arrays.equals(v.data(), put.data()) && v.publisher().equals(put.publisher()))
              .onErrorReturn(false));
    }
    Long found =
        sim.await(
            Flux.fromIterable(getting).flatMap(m -> m, CONCURRENT_VALUES).filter(b -> b).count(),
            Duration.ofHours(1));
    double retrievable = puts.isEmpty() ? 1.0 : (double) found / puts.size();
    report(
        "after %d h of churn %d/%d values retrievable; maintenance %.1f requests per node-hour",
        settings.hours(), found, puts.size(), churn.maintenancePerNodeHour());
    return new SimResult.ChurnFigures(
        retrievable, churn.maintenancePerNodeHour(), churn.replaced(), churn.joinFailures());
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
      List<LookupEvent> events = sim.await(origin.trace(target).collectList());
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
            i + 1, settings.lookups(), figures.accuracy.mean());
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
    SimulatedNetwork network = sim.network();
    SimScheduler clock = sim.clock();
    for (int i = 0; i < settings.lookups(); i++) {
      KadNode putter = live.get(workload.nextInt(live.size()));
      KadNode getter;
      do {
        getter = live.get(workload.nextInt(live.size()));
      } while (getter == putter);
      Key key = Key.of("sim-" + settings.seed() + "-" + i + "-" + workload.nextLong());
      byte[] data = ("value " + i + " of seed " + settings.seed()).getBytes(StandardCharsets.UTF_8);

      PutResult put = sim.await(copies(putter.put(key, data)));
      figures.acks.add(put == null ? 0 : put.acceptedCount());
      clock.advanceBy(SETTLE);

      KadNode from = getter;
      long before = network.traffic().requests();
      long getterBefore = network.traffic(getter.contact().address()).requests();
      Got got =
          sim.await(
              Mono.defer(
                  () -> {
                    long start = clock.nanos();
                    return from.get(key)
                        .collectList()
                        .onErrorResume(e -> Mono.just(List.of()))
                        .map(v -> new Got(v, clock.nanos() - start));
                  }));
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
      clock.advanceBy(SETTLE);
      if ((i + 1) % Math.max(1, settings.lookups() / 5) == 0) {
        report(
            "%d/%d put-get pairs, success so far %.4f",
            i + 1, settings.lookups(), figures.success.mean());
      }
    }
    report(
        "requests per get: %.2f by the whole network, %.2f by the getting node (its lookup and"
            + " caching store); the rest are other nodes' pings and hand-overs the get set off",
        figures.rpcs.mean(), figures.getterRpcs.mean());
    return figures;
  }

  /** The true k closest live nodes to a target, by brute force over every live id. */
  static final class Oracle {
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
    sim.report(format, args);
  }
}
