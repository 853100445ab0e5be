package dev.kad.bench;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.reactor.KadNodes;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import dev.kad.transport.tcp.WireFormat;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.resources.LoopResources;

/** {@code kad-bench tcp}: N real nodes on 127.0.0.1 in this JVM, measured in real time. */
@Command(
    name = "tcp",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Lookups, pings, puts and gets among real nodes over loopback TCP.",
    description = {
      "Starts N nodes in this JVM, each with its own TcpTransport on 127.0.0.1 (a free",
      "port), joins them by the protocol (node 0 first, then waves bootstrapping from",
      "random joined nodes), then measures M pings between random pairs (the connection",
      "set up by an untimed ping first), M find-node lookups for random targets, and M",
      "put-then-get pairs. Closes every node at the end. Prints one JSON line on stdout;",
      "logs go to stderr.",
      "",
      "Lookups and gets start at --origins nodes, after an untimed pass of --warmup",
      "lookups (M unless given) from the same nodes that opens their connections and",
      "compiles the hot paths: a long-running node is warm and keeps its",
      "connections to its contacts, but N nodes in one JVM cannot keep a full mesh open",
      "(two file descriptors per connection), so connections idle for 2 s are closed.",
      "--origins 0 starts each lookup at a random node without warm-up, so most of its",
      "requests dial a new connection first.",
      "",
    },
    footer = {
      "",
      "Figures (wall-clock time of this JVM):",
      "  setup_ms             starting and joining all nodes",
      "  ping_us_p50          one Ping RPC on an open connection, transport.send",
      "                       (pings and lookups that failed are not timed)",
      "  find_node_hops_p50   hop of the closest contact a lookup returned",
      "  find_node_ms_*       time of one lookup",
      "  find_node_rpcs_mean  requests per lookup",
      "  find_node_dials_mean connections dialed per timed lookup by the origins (by",
      "                       any node with --origins 0)",
      "  get_ms_*             time of one get that returned the value put, its put",
      "                       done; failed gets are not timed (get_success counts them)",
      "  get_success          fraction of gets that returned the value put",
      "  heap_bytes_per_node  used heap after the setup / N",
      "",
      "A latency with nothing to time is null: get_ms_* when no get returned the value,",
      "ping_us_p50 and find_node_* when every ping or lookup failed.",
    })
final class TcpCommand implements Callable<Integer> {

  /** Joins running at once during the setup. */
  private static final int MAX_WAVE = 16;

  /** The longest any single blocking wait may take. */
  private static final Duration BOUND = Duration.ofSeconds(60);

  @Spec CommandSpec spec;

  @Option(names = "--nodes", required = true, description = "Number of nodes, at least 2.")
  int nodes;

  @Option(names = "--lookups", required = true, description = "Lookups, pings and put-get pairs.")
  int lookups;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of ids and choices.")
  long seed;

  @Option(
      names = "--format",
      defaultValue = "json",
      converter = RpcCommand.FormatConverter.class,
      description = "Wire format: json, cbor or smile (default: ${DEFAULT-VALUE}).")
  WireFormat format;

  @Option(names = "--k", defaultValue = "20", description = "Bucket size (default: 20).")
  int k;

  @Option(names = "--alpha", defaultValue = "3", description = "Lookup parallelism (default: 3).")
  int alpha;

  @Option(
      names = "--event-loops",
      defaultValue = "2",
      description = {
        "Event-loop threads shared by all nodes; 0 gives each node a thread of its own",
        "(default: ${DEFAULT-VALUE})."
      })
  int eventLoops;

  @Option(
      names = "--native",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = {
        "Run the nodes on Netty's native epoll transport where it is available;",
        "--no-native runs them on NIO (default: epoll where available)."
      })
  boolean nativeTransport;

  @Option(
      names = "--origins",
      defaultValue = "10",
      description = {
        "Nodes that lookups and gets start from, their connections opened by an untimed",
        "pass; 0 starts each at a random node without warm-up (default: ${DEFAULT-VALUE},",
        "at most --nodes)."
      })
  int origins;

  @Option(
      names = "--warmup",
      paramLabel = "LOOKUPS",
      description = {
        "Untimed lookups from the origins before the timed ones, which open their",
        "connections and let the JIT compile the hot paths (default: as many as --lookups)."
      })
  Integer warmup;

  @Override
  public Integer call() {
    if (warmup == null) {
      warmup = lookups;
    }
    new OptionChecks(spec)
        .inRange("--nodes", nodes, 2, 2000)
        .atLeast("--lookups", lookups, 1)
        .inRange("--k", k, 1, 256)
        .inRange("--alpha", alpha, 1, 64)
        .inRange("--event-loops", eventLoops, 0, 64)
        .atLeast("--origins", origins, 0)
        .inRange("--warmup", warmup, 0, 1_000_000);
    origins = Math.min(origins, nodes);
    PrintWriter out = spec.commandLine().getOut();
    out.println(new Run(spec.commandLine().getErr()).measure());
    out.flush();
    return 0;
  }

  /** One measurement; closes every node it started. */
  private final class Run {
    private final PrintWriter progress;
    private final long wallStart = System.nanoTime();
    private final SplittableRandom random = new SplittableRandom(seed);
    private final KadConfig config =
        KadConfig.builder().k(k).alpha(alpha).maintenance(false).build();
    private final List<KadNode> started = new ArrayList<>();
    private final List<TcpTransport> transports = new ArrayList<>();
    private final LoopResources sharedLoops =
        eventLoops == 0 ? null : LoopResources.create("kad-bench", 1, eventLoops, true, false);

    /** Pings and lookups that errored (not sampled); the run goes on. */
    private int failures;

    private String lastFailure = "";

    /** What the run is doing, for the one line that names a failure. */
    private String step = "starting";

    Run(PrintWriter progress) {
      this.progress = progress;
    }

    /** The JSON line; closes every node, also when the run fails. */
    String measure() {
      String line;
      try {
        line = figures();
      } catch (RuntimeException e) {
        // Closed before the failure is wrapped and reported: a node that could not start for want
        // of file descriptors left none to load the classes that report it.
        closeAllAfter(e);
        throw new RunFailure(step + " failed", e);
      } catch (Error e) {
        closeAllAfter(e);
        throw e;
      }
      try {
        closeAll();
      } catch (RuntimeException e) {
        throw new RunFailure("closing the nodes failed", e);
      }
      return line;
    }

    private void closeAllAfter(Throwable failure) {
      try {
        closeAll();
      } catch (RuntimeException e) {
        failure.addSuppressed(e);
      }
    }

    private String figures() {
      long baseline = SimNetwork.usedHeap();
      long setupStart = System.nanoTime();
      for (int i = 0; i < nodes; i++) {
        step = "starting node " + (i + 1) + " of " + nodes;
        start(i);
      }
      report("started %d nodes", nodes);
      step = "joining the nodes";
      join();
      double setupMs = (System.nanoTime() - setupStart) / 1e6;
      long heapPerNode = Math.max(0, (SimNetwork.usedHeap() - baseline) / nodes);
      report("joined in %.0f ms, %d bytes of heap per node", setupMs, heapPerNode);

      step = "pinging";
      Samples ping = pings();
      report("pings: p50 %.1f us", ping.percentile(0.5));
      Samples hops = new Samples();
      Samples lookupMs = new Samples();
      Samples rpcs = new Samples();
      step = "looking up";
      double dials = lookups(hops, lookupMs, rpcs);
      report(
          "lookups: p50 %.2f ms, %.1f hops, %.2f connections dialed per lookup",
          lookupMs.percentile(0.5), hops.percentile(0.5), dials);
      step = "putting and getting";
      GetFigures gets = new GetFigures();
      putsAndGets(gets);
      report("gets: %s", gets.summary());
      if (failures > 0) {
        report("%d pings or lookups failed and were not sampled, last: %s", failures, lastFailure);
      }
      JsonLine json =
          new JsonLine()
              .field("scenario", "tcp")
              .field("nodes", nodes)
              .field("lookups", lookups)
              .field("setup_ms", setupMs, 1)
              .field("ping_us_p50", ping.percentileIfAny(0.50), 1)
              .field("find_node_hops_p50", hops.percentileIfAny(0.50), 1)
              .field("find_node_ms_p50", lookupMs.percentileIfAny(0.50), 3)
              .field("find_node_ms_p90", lookupMs.percentileIfAny(0.90), 3)
              .field("find_node_ms_p99", lookupMs.percentileIfAny(0.99), 3)
              // null with the other find_node_* figures when every lookup failed, not 0.
              .field("find_node_rpcs_mean", rpcs.meanIfAny(), 2);
      return gets.writeTo(json)
          .field("heap_bytes_per_node", heapPerNode)
          .field("find_node_dials_mean", dials, 2)
          .field("event_loops", eventLoops)
          .field("origins", origins)
          .field("warmup", origins > 0 ? warmup : 0)
          .toString();
    }

    private void start(int i) {
      NodeId id = NodeId.random(config.idBits(), random);
      TcpTransportOptions.Builder options =
          TcpTransportOptions.builder()
              .fromConfig(config)
              .name("kad-bench-" + i)
              .bindHost("127.0.0.1")
              .bindPort(0)
              .nodeId(id)
              .format(format)
              .nativeTransport(nativeTransport)
              // Hundreds of nodes in one JVM would otherwise keep a full mesh of
              // connections open and run out of file descriptors.
              .idleTimeout(Duration.ofSeconds(2));
      if (sharedLoops != null) {
        options.eventLoops(sharedLoops);
      } else {
        options.eventLoopThreads(1);
      }
      TcpTransport transport = TcpTransport.create(options.build());
      transports.add(transport);
      KadNode node =
          KadNodes.builder()
              .config(config)
              .transport(transport)
              .random(random.split())
              .id(id)
              .start()
              .block(BOUND);
      started.add(node);
    }

    /** Node 0 alone, then waves of concurrent bootstraps from random joined nodes. */
    private void join() {
      int joined = 1;
      int failed = 0;
      while (joined < nodes) {
        int wave = Math.min(nodes - joined, Math.min(joined, MAX_WAVE));
        List<Mono<Boolean>> joins = new ArrayList<>(wave);
        for (int i = joined; i < joined + wave; i++) {
          KadNode node = started.get(i);
          KadNode seedNode = started.get(random.nextInt(joined));
          KadNode retry = started.get(random.nextInt(joined));
          joins.add(
              node.bootstrap(List.of(seedNode.contact().address()))
                  .onErrorResume(e -> node.bootstrap(List.of(retry.contact().address())))
                  .thenReturn(true)
                  .onErrorReturn(false));
        }
        Long ok = Flux.merge(joins).filter(b -> b).count().block(BOUND);
        failed += wave - (ok == null ? 0 : ok.intValue());
        joined += wave;
      }
      if (failed > 0) {
        report("%d joins failed", failed);
      }
    }

    private Samples pings() {
      Samples us = new Samples();
      for (int i = 0; i < lookups; i++) {
        int a = random.nextInt(nodes);
        int b = (a + 1 + random.nextInt(nodes - 1)) % nodes;
        TcpTransport from = transports.get(a);
        Request.Ping ping = new Request.Ping(started.get(a).contact());
        var to = started.get(b).contact().address();
        try {
          from.send(to, ping).block(BOUND);
          long t0 = System.nanoTime();
          from.send(to, ping).block(BOUND);
          us.add((System.nanoTime() - t0) / 1e3);
        } catch (RuntimeException e) {
          failures++;
          lastFailure = e.toString();
        }
      }
      return us;
    }

    /**
     * Measures the lookups, after the warm-up pass when there are origins.
     *
     * @return connections the origins dialed per measured lookup
     */
    private double lookups(Samples hopSamples, Samples ms, Samples rpcs) {
      if (origins > 0) {
        for (int i = 0; i < warmup; i++) {
          started
              .get(origin(i))
              .findNode(NodeId.random(config.idBits(), random))
              .onErrorResume(e -> Mono.empty())
              .block(BOUND);
        }
      }
      long dialsBefore = originDials();
      for (int i = 0; i < lookups; i++) {
        KadNode origin = started.get(origin(i));
        NodeId target = NodeId.random(config.idBits(), random);
        long t0 = System.nanoTime();
        List<LookupEvent> events;
        try {
          events = origin.trace(target).collectList().block(BOUND);
        } catch (RuntimeException e) {
          failures++;
          lastFailure = e.toString();
          continue;
        }
        ms.add((System.nanoTime() - t0) / 1e6);
        Map<NodeId, Integer> hops = new HashMap<>();
        for (LookupEvent e : events) {
          if (e instanceof LookupEvent.Queried q) {
            hops.putIfAbsent(q.contact().id(), q.hop());
          } else if (e instanceof LookupEvent.Finished f) {
            rpcs.add(f.queried());
            List<Contact> closest = f.closest();
            if (!closest.isEmpty()) {
              hopSamples.add(hops.getOrDefault(closest.get(0).id(), 0));
            }
          }
        }
      }
      return (originDials() - dialsBefore) / (double) lookups;
    }

    /** Connections dialed so far by the nodes that start lookups. */
    private long originDials() {
      List<TcpTransport> from = origins > 0 ? transports.subList(0, origins) : transports;
      long sum = 0;
      for (TcpTransport t : from) {
        sum += t.stats().dialedConnections();
      }
      return sum;
    }

    /** Node 0 to {@code origins - 1} in turn, or a random node when there are no origins. */
    private int origin(int i) {
      return origins > 0 ? i % origins : random.nextInt(nodes);
    }

    private void putsAndGets(GetFigures gets) {
      for (int i = 0; i < lookups; i++) {
        int g = origin(i);
        int p = (g + 1 + random.nextInt(nodes - 1)) % nodes;
        KadNode putter = started.get(p);
        KadNode getter = started.get(g);
        Key key = Key.of("tcp-" + seed + "-" + i + "-" + random.nextLong());
        byte[] data = ("tcp value " + i).getBytes(StandardCharsets.UTF_8);
        putter.put(key, data).onErrorResume(e -> Mono.empty()).block(BOUND);
        long t0 = System.nanoTime();
        List<Value> got = getter.get(key).collectList().onErrorReturn(List.of()).block(BOUND);
        double ms = (System.nanoTime() - t0) / 1e6;
        boolean ok = false;
        for (Value v : got) {
          ok |= Arrays.equals(v.data(), data) && v.publisher().equals(putter.id());
        }
        gets.add(ms, ok);
      }
    }

    private void closeAll() {
      Flux.fromIterable(started)
          .flatMap(n -> n.close().onErrorResume(e -> Mono.empty()), 64)
          .then()
          .block(BOUND);
      // Transports whose node did not start are closed on their own.
      Flux.fromIterable(transports.subList(started.size(), transports.size()))
          .flatMap(t -> t.close().onErrorResume(e -> Mono.empty()))
          .then()
          .block(BOUND);
      if (sharedLoops != null) {
        sharedLoops.disposeLater().block(BOUND);
      }
      report("closed %d nodes", started.size());
    }

    private void report(String format, Object... args) {
      progress.printf(
          Locale.ROOT,
          "[tcp %7.2fs] %s%n",
          (System.nanoTime() - wallStart) / 1e9,
          String.format(Locale.ROOT, format, args));
      progress.flush();
    }
  }
}
