package dev.kad.bench;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code kad-bench sim}: lookups, puts and gets on a simulated network in virtual time. */
@Command(
    name = "sim",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "Lookups, puts and gets on a simulated network in virtual time.",
    description = {
      "Builds N nodes on one simulated in-memory network driven by virtual time,",
      "kills the --dead fraction, then runs M find-node lookups for random targets",
      "from random live nodes and M put-then-get pairs between random live nodes.",
      "Prints one JSON line on stdout; progress and logs go to stderr. Every random",
      "draw derives from --seed: the same seed gives the same figures (heap and",
      "wall time aside).",
      "",
    },
    footer = {
      "",
      "Figures:",
      "  find_node_accuracy  mean fraction of the true k closest live nodes (brute",
      "                      force, the asking node excluded) a lookup returned",
      "  find_node_hops_*    hop of the closest contact returned (table seeds: 1);",
      "                      null when no lookup returned a contact",
      "  find_node_rpcs/ms   requests and simulated time per lookup",
      "  get_success         fraction of gets that returned the value put",
      "  get_rpcs_mean       requests the whole network sent during a get: its",
      "                      lookup and caching store, and the pings and hand-overs",
      "                      it sets off (stderr shows the getting node's share);",
      "                      with --hours, also what maintenance sent meanwhile",
      "                      (about maintenance_rpcs_per_node_hour x nodes x",
      "                      get_ms_p50 / 3,600,000)",
      "  get_ms_p50          simulated time until a get completes",
      "  put_acks_mean       nodes that stored a put's value, the putter included",
      "  heap_bytes_per_node used heap of the built network / N",
      "  wall_s              real time of the run, the JVM's start aside",
      "  gc                  the JVM's garbage collector (g1 unless its options name",
      "                      another): wall times of different collectors differ",
      "",
      "Churn (--hours H, optionally --churn-per-hour F): nodes run with maintenance on",
      "(refresh and replicate 1 h, republish 24 h, 1 min jitter); values expire",
      "H + 24 h after publication, so the count measures replication, not expiry. After",
      "the build, --values values are put from random live nodes; then for H",
      "simulated hours F of the live nodes per hour are killed at random times, each",
      "replaced at once by a fresh node bootstrapping from a random live node. The",
      "lookup and get figures above are then measured on the churned network, and",
      "the line gains:",
      "  values_retrievable  fraction of the values a get from a random live node",
      "                      finds after the churn",
      "  maintenance_rpcs_per_node_hour  requests during the churn hours, minus the",
      "                      replacements' bootstrap requests, per live node and hour",
      "",
      "Bootstrap modes:",
      "  protocol  nodes join in waves, each at most as large as the network",
      "            joined so far (and at most 64); every node of a wave calls",
      "            bootstrap() with a random joined node as its seed: ping,",
      "            lookup of its own id, refresh of the farther buckets.",
      "  warm      no messages: every routing table is fed through the engine's",
      "            own table code (KadNodes.learn) as if each bucket had just been",
      "            refreshed: for each bucket (the ids sharing the node's first d",
      "            bits and differing at bit d) up to k random members, and where",
      "            the node's k nearest neighbours lie, the nearest ones, so every",
      "            node knows its true k closest, as after a real join.",
    })
final class SimCommand implements Callable<Integer> {

  /** Below this many nodes the default bootstrap is the real protocol, above the warm-up. */
  static final int WARM_FROM_NODES = 20_000;

  @Spec CommandSpec spec;

  @Option(names = "--nodes", required = true, description = "Number of nodes, at least 2.")
  int nodes;

  @Option(names = "--lookups", required = true, description = "Lookups, and put-get pairs.")
  int lookups;

  @Mixin SimOptions network;

  @Option(
      names = "--alpha",
      defaultValue = "3",
      description = "Lookup parallelism (default: ${DEFAULT-VALUE}).")
  int alpha;

  @Option(
      names = "--loss",
      defaultValue = "0.0",
      description = "Loss probability per message, in [0, 1) (default: ${DEFAULT-VALUE}).")
  double loss;

  @Option(
      names = "--dead",
      defaultValue = "0.0",
      description = "Fraction of nodes killed after the build (default: ${DEFAULT-VALUE}).")
  double dead;

  @Option(
      names = "--bootstrap",
      paramLabel = "protocol|warm",
      converter = JoinConverter.class,
      description =
          "How routing tables are filled: protocol below 20000 nodes, warm from there"
              + " unless set (see below).")
  Simulation.Join join;

  @Mixin ChurnOption churnRate;

  @Option(
      names = "--hours",
      defaultValue = "0",
      description =
          "Simulated hours of churn, with maintenance on (default: ${DEFAULT-VALUE}: no churn"
              + " phase, maintenance off).")
  int hours;

  @Option(
      names = "--values",
      description = "Values put before the churn (default: the --lookups count).")
  Integer values;

  @Override
  public Integer call() {
    Simulation.Settings settings = settings();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter progress = spec.commandLine().getErr();
    SimResult result = new Simulation(settings, progress).run();
    out.println(result.toJson());
    out.flush();
    return 0;
  }

  private Simulation.Settings settings() {
    OptionChecks check = new OptionChecks(spec);
    check.atLeast("--nodes", nodes, 2).atLeast("--lookups", lookups, 1);
    network.check(check);
    check.inRange("--alpha", alpha, 1, 64).fraction("--loss", loss).fraction("--dead", dead);
    int killed = Simulation.deadCount(nodes, dead);
    check.that(
        nodes - killed >= 2,
        "--dead " + dead + " leaves " + (nodes - killed) + " live nodes but at least 2 are needed");
    churnRate.check(check, hours);
    int valueCount = values == null ? lookups : values;
    check.that(valueCount >= 0, "--values must not be negative but was " + valueCount);
    // Values are put only before a churn phase: without one the option did nothing, silently.
    check.that(
        values == null || hours > 0, "--values " + values + " needs --hours (the churn phase)");
    return new Simulation.Settings(
        nodes,
        lookups,
        network.seed,
        network.k,
        alpha,
        loss,
        dead,
        network.latency.minMs(),
        network.latency.maxMs(),
        joinMode(join, nodes),
        churnRate.perHour,
        hours,
        valueCount);
  }

  /** The {@code --bootstrap} mode: {@code chosen} when given, else by the node count. */
  static Simulation.Join joinMode(Simulation.Join chosen, int nodes) {
    if (chosen != null) {
      return chosen;
    }
    return nodes < WARM_FROM_NODES ? Simulation.Join.PROTOCOL : Simulation.Join.WARM;
  }

  /** Parses {@code protocol} or {@code warm}, either case. */
  static final class JoinConverter implements ITypeConverter<Simulation.Join> {
    @Override
    public Simulation.Join convert(String value) {
      try {
        return Simulation.Join.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("'" + value + "' is not protocol or warm");
      }
    }
  }
}
