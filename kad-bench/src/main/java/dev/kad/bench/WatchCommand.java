package dev.kad.bench;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.Value;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/** {@code kad-bench watch}: how fast and how surely a watcher hears of puts, in virtual time. */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Notification latency and delivery of watch(key) on a simulated network.",
    description = {
      "Builds N nodes on the simulated network (as sim does), starts watch(key) on a",
      "random node, waits a virtual minute, then makes M puts of distinct values to",
      "that key from random other nodes at random times: spread over one virtual hour,",
      "or over the --hours of churn when given, during which --churn-per-hour of the",
      "live nodes per hour are replaced (the watcher is never killed; maintenance is",
      "on). Two virtual minutes after the last put it counts what the watcher got.",
      "",
      "Figures (virtual time):",
      "  notify_ms_p50/p99   from a put's start to the value's delivery at the watcher,",
      "                      of the values delivered (null when none was)",
      "  delivered_fraction  fraction of the M puts the watcher received",
      "  puts_failed         puts no node accepted (counted as not delivered)",
      "  gc                  the garbage collector that ran",
      "  churn_delivered_fraction  with churn: the fraction delivered while nodes are",
      "                      replaced (every put is then made during the churn, so",
      "                      it equals delivered_fraction)",
      "",
    })
final class WatchCommand implements Callable<Integer> {

  /** Virtual time between the watch's start and the first put. */
  private static final Duration WATCH_SETTLE = Duration.ofMinutes(1);

  /** Virtual time after the last put before counting. */
  private static final Duration DELIVERY_SETTLE = Duration.ofMinutes(2);

  @Spec CommandSpec spec;

  /** The network of the last run, for tests: its live nodes are closed once the run ends. */
  SimNetwork lastNetwork;

  @Option(names = "--nodes", required = true, description = "Number of nodes, at least 3.")
  int nodes;

  @Option(names = "--puts", required = true, description = "Puts to the watched key.")
  int puts;

  @Mixin SimOptions network;

  @Option(
      names = "--bootstrap",
      paramLabel = "protocol|warm",
      converter = SimCommand.JoinConverter.class,
      description = "How tables are filled: protocol below 20000 nodes, warm from there.")
  Simulation.Join join;

  @Mixin ChurnOption churnRate;

  @Option(
      names = "--hours",
      defaultValue = "0",
      description = "Hours of churn the puts are spread over (default: 0, no churn, 1 h).")
  int hours;

  @Override
  public Integer call() {
    OptionChecks check = new OptionChecks(spec);
    check.atLeast("--nodes", nodes, 3).inRange("--puts", puts, 1, 100_000);
    network.check(check);
    churnRate.check(check, hours);
    PrintWriter out = spec.commandLine().getOut();
    out.println(measure(spec.commandLine().getErr()));
    out.flush();
    return 0;
  }

  /** One put: when it started, when the watcher got it, whether any node accepted it. */
  private static final class Put {
    long startNanos = -1;
    long deliveredNanos = -1;
    boolean failed;
  }

  private String measure(PrintWriter progress) {
    boolean churn = hours > 0;
    KadConfig config =
        KadConfig.builder()
            .k(network.k)
            .maintenance(churn)
            // Every put is a value of its own under one key: room for all of them, in the store
            // and in one answer (a key holds no more than one message carries).
            .maxValuesPerKey(Math.max(64, puts + 1))
            .maxFrameBytes((int) Math.min(64L << 20, 64 * 1024 + 512L * (puts + 1)))
            .build();
    Duration expireAfter = config.expireAfter();
    SimNetwork sim =
        new SimNetwork(
            new SimNetwork.Shape(
                nodes,
                network.seed,
                config,
                0.0,
                network.latency.minMs(),
                network.latency.maxMs(),
                SimCommand.joinMode(join, nodes)),
            progress,
            "watch");
    Disposable watching = null;
    try {
      sim.build();
      SimScheduler clock = sim.clock();
      KadNode watcher = sim.randomLive();
      Key key = Key.of("watch-" + network.seed);
      Map<String, Put> byData = new HashMap<>();
      List<Put> all = new ArrayList<>(puts);
      for (int i = 0; i < puts; i++) {
        Put put = new Put();
        all.add(put);
        byData.put("watch value " + i, put);
      }
      long[] unexpected = {0};
      watching =
          watcher
              .watch(key)
              .subscribe(
                  value -> {
                    Put put = byData.get(new String(value.data(), StandardCharsets.UTF_8));
                    if (put != null && put.deliveredNanos < 0) {
                      put.deliveredNanos = clock.nanos();
                    } else if (put == null) {
                      unexpected[0]++;
                    }
                  },
                  e -> sim.report("watch ended: %s", e));
      clock.advanceBy(WATCH_SETTLE);
      sim.report("watching %s from %s", key.toShortHex(), watcher.contact());

      long windowNanos = Duration.ofHours(churn ? hours : 1).toNanos();
      long start = clock.nanos();
      List<SimNetwork.Timed> events = new ArrayList<>(puts);
      for (int i = 0; i < puts; i++) {
        Put put = all.get(i);
        byte[] data = ("watch value " + i).getBytes(StandardCharsets.UTF_8);
        long valueId = i + 1L;
        long at = start + sim.workload().nextLong(windowNanos);
        events.add(
            new SimNetwork.Timed(
                at,
                () -> {
                  KadNode putter = pickPutter(sim, watcher);
                  put.startNanos = clock.nanos();
                  // A value id of its own: put(key, data) gives every value of one node the same
                  // identity, so a node's second put replaced its first, which, when the two
                  // overlapped, never reached the watcher and counted as lost.
                  Instant now = Instant.ofEpochMilli(clock.now(TimeUnit.MILLISECONDS));
                  Value value =
                      Value.of(
                          data, putter.id(), valueId, now.toEpochMilli(), now.plus(expireAfter));
                  putter
                      .put(key, value)
                      .doOnError(e -> put.failed = true)
                      .onErrorResume(e -> Mono.empty())
                      .toFuture();
                }));
      }
      SimNetwork.Churn phase =
          sim.churn(churn ? churnRate.perHour : 0.0, churn ? hours : 1, Set.of(watcher), events);
      clock.advanceBy(DELIVERY_SETTLE);

      Samples notifyMs = new Samples();
      int delivered = 0;
      int failed = 0;
      for (Put put : all) {
        if (put.failed) {
          failed++;
        }
        if (put.deliveredNanos >= 0) {
          delivered++;
          notifyMs.add(Math.max(0, put.deliveredNanos - put.startNanos) / 1e6);
        }
      }
      double fraction = (double) delivered / puts;
      sim.report(
          "%d/%d delivered, %d puts failed, %d unexpected values, %d replaced",
          delivered, puts, failed, unexpected[0], phase.replaced());
      JsonLine json =
          new JsonLine()
              .field("scenario", "watch")
              .field("nodes", nodes)
              .field("puts", puts)
              .field("seed", network.seed)
              .field("notify_ms_p50", notifyMs.percentileIfAny(0.50), 1)
              .field("notify_ms_p99", notifyMs.percentileIfAny(0.99), 1)
              .field("delivered_fraction", fraction, 4)
              .field("puts_failed", failed);
      if (churn) {
        json.field("churn_per_hour", churnRate.perHour, 6)
            .field("hours", hours)
            .field("churn_delivered_fraction", fraction, 4)
            .field("nodes_replaced", phase.replaced());
      }
      return json.field("wall_s", sim.wallSeconds(), 2).field("gc", Collector.name()).toString();
    } finally {
      if (watching != null) {
        watching.dispose();
      }
      // Every node is closed (its jobs and timers stopped), then the clock is disposed.
      sim.close();
      lastNetwork = sim;
    }
  }

  private static KadNode pickPutter(SimNetwork sim, KadNode watcher) {
    KadNode putter = sim.randomLive();
    for (int i = 0; i < 100 && putter == watcher; i++) {
      putter = sim.randomLive();
    }
    return putter;
  }
}
