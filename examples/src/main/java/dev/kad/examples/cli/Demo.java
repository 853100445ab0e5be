package dev.kad.examples.cli;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.Value;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IntSummaryStatistics;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The steps of {@code kad demo}, printed to stdout as they happen. Every step is bounded by the
 * step timeout; the first failing step ends the walk-through, and the nodes are closed in every
 * case. Node ids and every choice (who puts, who gets, who watches, which lookup is traced) come
 * from the seed, so a seed reproduces the run (ports and timings aside).
 */
final class Demo {

  private static final String KEY = "greeting";
  private static final int STEPS = 8;

  private final PrintWriter out;
  private final PrintWriter err;
  private final KadConfig config;
  private final int size;
  private final long seed;

  /** The least time closing the nodes is given. */
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** How long Ctrl-C waits, after closing the nodes, for the demo to say it was interrupted. */
  private static final Duration INTERRUPTED_REPORT_WAIT = Duration.ofSeconds(5);

  private final Duration stepTimeout;
  private final SplittableRandom random;
  private final List<KadNode> nodes = new CopyOnWriteArrayList<>();
  private final Map<NodeId, Integer> numbers = new HashMap<>();
  private final Key key = Key.of(KEY);
  private final AtomicBoolean interrupted = new AtomicBoolean();

  /** Released when {@link #run()} returns, its last line printed. */
  private final CountDownLatch finished = new CountDownLatch(1);

  /** The thread running {@link #run()}, which must not wait for itself. */
  private volatile Thread runner;

  private int putter;
  private int getter;

  private interface Step {
    void run() throws InterruptedException;
  }

  Demo(PrintWriter out, PrintWriter err, KadConfig config, int size, long seed, Duration timeout) {
    this.out = out;
    this.err = err;
    this.config = config;
    this.size = size;
    this.seed = seed;
    this.stepTimeout = timeout;
    this.random = new SplittableRandom(seed);
  }

  /**
   * Runs every step; returns 0 when all succeeded, 1 otherwise, and {@link
   * ClientCommand#INTERRUPTED} when Ctrl-C (or SIGTERM) ended it.
   */
  int run() {
    runner = Thread.currentThread();
    try {
      return runSteps();
    } finally {
      finished.countDown();
    }
  }

  private int runSteps() {
    out.printf(
        "kad demo: %d nodes on 127.0.0.1, k=%d, alpha=%d, seed %d (rerun with --seed %d)%n",
        size, config.k(), config.alpha(), seed, seed);
    // Ctrl-C during the demo still closes the nodes.
    Thread hook = new Thread(this::interrupt, "kad-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    boolean ok =
        step(1, "Start " + size + " TCP nodes", this::start)
            && step(2, "Bootstrap: each node joins through a node already in", this::bootstrap)
            && step(3, "Put: one node stores a value", this::put)
            && step(4, "Get: another node finds it", this::get)
            && step(5, "Watch: a third node sees a later update", this::watch)
            && step(6, "Trace: how one lookup converges", this::trace)
            && step(7, "Routing tables", this::routingTables);
    if (interrupted.get()) {
      // The hook closed the nodes; the step it cut short did not fail. A node that step started
      // after the hook's close is closed here.
      closeAllQuietly();
      out.println();
      out.println("demo interrupted");
      out.flush();
      return ClientCommand.INTERRUPTED;
    }
    ok &= step(STEPS, "Shut down", this::shutdown);
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shutdownInProgress) {
      // the hook is closing the nodes
    }
    out.println();
    out.println(ok ? "demo finished: all steps succeeded" : "demo FAILED");
    out.flush();
    return ok ? 0 : 1;
  }

  private boolean step(int n, String title, Step body) {
    if (interrupted.get()) {
      return false;
    }
    out.printf("%n[%d/%d] %s%n", n, STEPS, title);
    out.flush();
    long start = System.nanoTime();
    try {
      body.run();
      if (interrupted.get()) {
        // A step that stopped early for Ctrl-C (starting nodes) is not ok either.
        out.println("  interrupted: closing the nodes");
        out.flush();
        return false;
      }
      out.printf("  ok (%s)%n", ms(System.nanoTime() - start));
      out.flush();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      fail(n, title, "interrupted");
    } catch (RuntimeException e) {
      if (interrupted.get()) {
        // Its nodes were closed under it ("node 3f2a... is closed"): not the step's failure.
        out.println("  interrupted: closing the nodes");
        out.flush();
      } else {
        fail(n, title, ErrorHandler.describe(e));
      }
    }
    return false;
  }

  private void fail(int n, String title, String reason) {
    out.println("  FAILED: " + reason);
    out.flush();
    err.printf("kad demo: step %d (%s) failed: %s%n", n, title, reason);
    err.flush();
  }

  // ---- 1. start ---------------------------------------------------------------------------

  private void start() {
    long deadline = System.nanoTime() + stepTimeout.toNanos();
    for (int i = 0; i < size && !interrupted.get(); i++) {
      // each node gets its own stream split from the seed: its id, then its own choices
      KadNode node =
          RunningNode.startNode(
              config,
              "kad-node-" + (i + 1),
              null,
              "127.0.0.1",
              0,
              null,
              1,
              random.split(),
              remaining(deadline));
      nodes.add(node);
      numbers.put(node.id(), i + 1);
      out.printf(
          "  node %s  id %s  at %s%n",
          num(i + 1), node.id().toShortHex(), node.contact().address());
    }
  }

  // ---- 2. bootstrap -----------------------------------------------------------------------

  private void bootstrap() {
    long deadline = System.nanoTime() + stepTimeout.toNanos();
    List<String> joins = new ArrayList<>();
    for (int i = 1; i < size; i++) {
      int seedIndex = random.nextInt(i);
      RunningNode.join(
          nodes.get(i), List.of(nodes.get(seedIndex).contact().address()), remaining(deadline));
      joins.add((i + 1) + "<-" + (seedIndex + 1));
    }
    out.println("  joined (new<-through), one at a time:");
    printWrapped(joins);
    out.printf(
        "  node 1 started the network; every other node pinged its seed, looked up its own id%n"
            + "  and refreshed its farther buckets, so the nodes it asked learnt about it too.%n");
  }

  // ---- 3. put -----------------------------------------------------------------------------

  private void put() {
    putter = random.nextInt(size);
    KadNode node = nodes.get(putter);
    String text = "hello from node " + (putter + 1);
    out.printf("  node %d puts \"%s\" = \"%s\"%n", putter + 1, KEY, text);
    out.printf(
        "  the key is the SHA-1 of \"%s\": %s...; it is stored at the k=%d nodes closest to it%n",
        KEY, key.toShortHex(), config.k());
    long start = System.nanoTime();
    PutResult result =
        Await.of(node.put(key, text.getBytes(StandardCharsets.UTF_8)), stepTimeout, "put");
    out.printf(
        "  stored at %d of %d nodes: %s (%s)%n",
        result.acceptedCount(),
        result.acceptedCount() + result.rejected().size() + result.failed().size(),
        names(result.accepted()),
        ms(System.nanoTime() - start));
    if (result.acceptedCount() == 0) {
      throw new CliException("no node accepted the value");
    }
  }

  // ---- 4. get -----------------------------------------------------------------------------

  private void get() {
    getter = pickOtherThan(putter);
    String expected = "hello from node " + (putter + 1);
    out.printf("  node %d looks up \"%s\"%n", getter + 1, KEY);
    long start = System.nanoTime();
    List<Value> values = Await.of(nodes.get(getter).get(key).collectList(), stepTimeout, "get");
    long took = System.nanoTime() - start;
    for (Value v : values) {
      out.printf("  found \"%s\" published by %s%n", ClientCommand.text(v), name(v.publisher()));
    }
    out.printf("  %d value(s) in %s%n", values.size(), ms(took));
    if (values.stream().noneMatch(v -> ClientCommand.text(v).equals(expected))) {
      throw new CliException("node " + (getter + 1) + " did not find \"" + expected + "\"");
    }
  }

  // ---- 5. watch ---------------------------------------------------------------------------

  private void watch() throws InterruptedException {
    int watcher = pickOtherThan(putter, getter);
    String first = "hello from node " + (putter + 1);
    String second = "hello again from node " + (putter + 1);
    BlockingQueue<Value> seen = new LinkedBlockingQueue<>();
    AtomicReference<Throwable> error = new AtomicReference<>();
    out.printf("  node %d watches \"%s\"%n", watcher + 1, KEY);
    long start = System.nanoTime();
    long deadline = start + stepTimeout.toNanos();
    // The demo's main thread consumes the watch through a queue, with a bound on each wait.
    Disposable watch = nodes.get(watcher).watch(key).subscribe(seen::add, error::set);
    try {
      awaitValue(seen, error, first, deadline);
      out.printf(
          "  node %d <- \"%s\"  (the current value, %s after subscribing)%n",
          watcher + 1, first, ms(System.nanoTime() - start));
      long putAt = System.nanoTime();
      PutResult result =
          Await.of(
              nodes.get(putter).put(key, second.getBytes(StandardCharsets.UTF_8)),
              remaining(deadline),
              "second put");
      out.printf(
          "  node %d puts \"%s\" = \"%s\" (stored at %d nodes, replacing its first value)%n",
          putter + 1, KEY, second, result.acceptedCount());
      awaitValue(seen, error, second, deadline);
      out.printf(
          "  node %d <- \"%s\"  (pushed by the storing nodes, %s after the put started)%n",
          watcher + 1, second, ms(System.nanoTime() - putAt));
    } finally {
      watch.dispose(); // unsubscribes at the storing nodes
    }
  }

  private void awaitValue(
      BlockingQueue<Value> seen, AtomicReference<Throwable> error, String text, long deadline)
      throws InterruptedException {
    while (true) {
      long left = deadline - System.nanoTime();
      Value v = left > 0 ? seen.poll(left, TimeUnit.NANOSECONDS) : null;
      if (error.get() != null) {
        throw new CliException("watch failed: " + ErrorHandler.describe(error.get()));
      }
      if (v == null) {
        throw new CliException(
            "the watch did not receive \"" + text + "\" within " + Await.human(stepTimeout));
      }
      if (ClientCommand.text(v).equals(text)) {
        return;
      }
    }
  }

  // ---- 6. trace ---------------------------------------------------------------------------

  private void trace() {
    int tracer = random.nextInt(size);
    // Prefer a target the tracer does not know yet, so the lookup has to take hops.
    List<Contact> known = nodes.get(tracer).routingTable().contacts();
    List<Integer> unknown =
        IntStream.range(0, size)
            .filter(i -> i != tracer)
            .filter(i -> known.stream().noneMatch(c -> c.id().equals(nodes.get(i).id())))
            .boxed()
            .toList();
    int target =
        unknown.isEmpty() ? pickOtherThan(tracer) : unknown.get(random.nextInt(unknown.size()));
    NodeId targetId = nodes.get(target).id();
    out.printf(
        "  node %d looks up node %d's id %s (%s in its routing table)%n",
        tracer + 1,
        target + 1,
        targetId.toShortHex(),
        unknown.contains(target) ? "not" : "already");
    out.println("  shares N bits: the id's common prefix with the target; more bits, less XOR");
    out.println("  distance. closer: an answer named a node closer than every node that answered");
    out.println("  so far. Nodes of hop h were learnt from the answers of hop h-1.");
    out.printf(
        "  %9s  %3s  %-9s %-8s %-8s  %s%n", "elapsed", "hop", "event", "node", "id", "detail");
    Map<NodeId, Integer> hops = new HashMap<>();
    List<LookupEvent> events =
        Await.of(
            nodes
                .get(tracer)
                .trace(targetId)
                .doOnNext(e -> out.println(describe(e, targetId, hops)))
                .collectList(),
            stepTimeout,
            "lookup");
    out.flush();
    LookupEvent last = events.isEmpty() ? null : events.get(events.size() - 1);
    if (!(last instanceof LookupEvent.Finished finished)) {
      throw new CliException("the lookup ended without a Finished event");
    }
    if (finished.closest().isEmpty() || !finished.closest().get(0).id().equals(targetId)) {
      throw new CliException(
          "the lookup did not find node "
              + (target + 1)
              + "; closest: "
              + names(finished.closest()));
    }
  }

  private String describe(LookupEvent e, NodeId target, Map<NodeId, Integer> hops) {
    String when = String.format(Locale.ROOT, "%6.1f ms", e.elapsed().toNanos() / 1e6);
    if (e instanceof LookupEvent.Queried q) {
      hops.put(q.contact().id(), q.hop());
      return row(when, q.hop(), "asked", q.contact(), shares(target, q.contact()));
    } else if (e instanceof LookupEvent.Answered a) {
      return row(
          when,
          hops.getOrDefault(a.contact().id(), 0),
          "answered",
          a.contact(),
          "returned " + a.returned() + (a.returned() == 1 ? " contact" : " contacts"));
    } else if (e instanceof LookupEvent.Stalled s) {
      return row(
          when,
          hops.getOrDefault(s.contact().id(), 0),
          "stalled",
          s.contact(),
          "past soft timeout");
    } else if (e instanceof LookupEvent.Failed f) {
      return row(when, hops.getOrDefault(f.contact().id(), 0), "failed", f.contact(), f.reason());
    } else if (e instanceof LookupEvent.CloserFound c) {
      return row(when, c.hop(), "closer", c.contact(), shares(target, c.contact()));
    } else if (e instanceof LookupEvent.Finished f) {
      return String.format(
          "  %9s  %3s  %-9s %d requests; closest: %s",
          when, "", "finished", f.queried(), names(f.closest()));
    }
    return "  " + when + "  " + e;
  }

  private String row(String when, int hop, String event, Contact c, String detail) {
    return String.format(
        "  %9s  %3s  %-9s %-8s %-8s  %s",
        when, hop > 0 ? hop : "", event, name(c.id()), c.id().toShortHex(), detail);
  }

  private static String shares(NodeId target, Contact c) {
    return c.id().equals(target)
        ? "the target itself"
        : "shares " + bits(target.commonPrefixLength(c.id()));
  }

  private static String bits(int n) {
    return n == 1 ? "1 bit" : n + " bits";
  }

  // ---- 7. routing tables ------------------------------------------------------------------

  private void routingTables() {
    out.println("  every node's k-buckets, as routingTable() snapshots them");
    out.printf(
        "  %-8s %-8s  %-16s %9s %8s %7s  %s%n",
        "node",
        "id",
        "address",
        "contacts",
        "buckets",
        "spares",
        "contacts per bucket (far..near)");
    IntSummaryStatistics stats = new IntSummaryStatistics();
    List<Integer> empty = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      KadNode node = nodes.get(i);
      RoutingTableSnapshot table = node.routingTable();
      int spares = table.buckets().stream().mapToInt(b -> b.replacements().size()).sum();
      String perBucket =
          table.buckets().stream()
              .map(b -> String.valueOf(b.contacts().size()))
              .collect(Collectors.joining(" "));
      out.printf(
          "  %-8s %-8s  %-16s %9d %8d %7d  %s%n",
          "node " + (i + 1),
          node.id().toShortHex(),
          node.contact().address(),
          table.size(),
          table.buckets().size(),
          spares,
          perBucket);
      stats.accept(table.size());
      if (table.size() == 0) {
        empty.add(i + 1);
      }
    }
    out.printf(
        "  contacts per node: min %d, mean %.1f, max %d of %d other nodes%n",
        stats.getMin(), stats.getAverage(), stats.getMax(), size - 1);
    if (!empty.isEmpty()) {
      throw new CliException("nodes with an empty routing table: " + empty);
    }
  }

  // ---- 8. shut down -----------------------------------------------------------------------

  private void shutdown() {
    if (nodes.isEmpty()) {
      out.println("  no node to close");
      return;
    }
    int count = nodes.size();
    // Closing gets at least CLOSE_TIMEOUT whatever the step timeout: a failed step must not
    // also leave nodes open.
    Duration closeTimeout = stepTimeout.compareTo(CLOSE_TIMEOUT) < 0 ? CLOSE_TIMEOUT : stepTimeout;
    try {
      Await.of(
          Flux.fromIterable(nodes).flatMap(KadNode::close).then(),
          closeTimeout,
          "closing the nodes");
    } finally {
      nodes.clear();
    }
    out.printf("  closed %d nodes: their watches ended and their ports were released%n", count);
  }

  /**
   * What Ctrl-C (the shutdown hook) does: marks the demo interrupted, so the step it cuts short is
   * not reported as failed, and closes the nodes.
   */
  void interrupt() {
    interrupted.set(true);
    closeAllQuietly();
    // The JVM halts when the hook returns: let run() print "demo interrupted" first (the step it
    // cut short ends as its nodes close), bounded in case that step waits for something else.
    if (Thread.currentThread() == runner) {
      return;
    }
    try {
      finished.await(INTERRUPTED_REPORT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void closeAllQuietly() {
    try {
      Await.of(
          Flux.fromIterable(nodes).flatMap(n -> n.close().onErrorResume(e -> Mono.empty())).then(),
          RunningNode.CLOSE_TIMEOUT,
          "closing the nodes");
    } catch (RuntimeException e) {
      err.println("kad demo: " + ErrorHandler.describe(e));
      err.flush();
    }
  }

  // ---- helpers ----------------------------------------------------------------------------

  private int pickOtherThan(int... taken) {
    while (true) {
      int i = random.nextInt(size);
      if (IntStream.of(taken).noneMatch(t -> t == i)) {
        return i;
      }
    }
  }

  private String name(NodeId id) {
    Integer n = numbers.get(id);
    return n == null ? id.toShortHex() : "node " + n;
  }

  private String names(List<Contact> contacts) {
    return contacts.isEmpty()
        ? "none"
        : contacts.stream().map(c -> name(c.id())).collect(Collectors.joining(", "));
  }

  private String num(int n) {
    return String.format("%" + String.valueOf(size).length() + "d", n);
  }

  private void printWrapped(List<String> items) {
    StringBuilder line = new StringBuilder("   ");
    for (String item : items) {
      if (line.length() + item.length() + 1 > 78) {
        out.println(line);
        line = new StringBuilder("   ");
      }
      line.append(' ').append(item);
    }
    out.println(line);
  }

  private Duration remaining(long deadline) {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new CliException("the step took longer than " + Await.human(stepTimeout));
    }
    return Duration.ofNanos(left);
  }

  private static String ms(long nanos) {
    return Await.human(Duration.ofNanos(nanos));
  }
}
