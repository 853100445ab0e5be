package dev.kad.reactor;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadId;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.testkit.InMemoryTransport;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

/** Nodes on one simulated network and one virtual clock, for the engine's tests. */
final class Cluster implements AutoCloseable {

  final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  final SimulatedNetwork network;
  final KadConfig config;
  final List<KadNode> nodes = new ArrayList<>();
  private final List<Disposable> kept = new ArrayList<>();
  final RandomGenerator random;

  /**
   * The settings of the watch tests: small k and value sets, short timeouts, subscriptions of two
   * minutes, no maintenance jobs (a test runs what it needs).
   */
  static KadConfig.Builder watchConfig() {
    return KadConfig.builder()
        .k(6)
        .maxValuesPerKey(8)
        .softTimeout(Duration.ofMillis(300))
        .hardTimeout(Duration.ofSeconds(2))
        .subscriptionTtl(Duration.ofMinutes(2))
        .maintenance(false);
  }

  Cluster(long seed, KadConfig config) {
    this.network =
        new SimulatedNetwork(vts, seed).latency(Duration.ofMillis(10), Duration.ofMillis(50));
    this.config = config;
    this.random = network.newRandom();
  }

  /** Starts {@code n} nodes, each bootstrapping from a random node already in. */
  Cluster grow(int n) {
    for (int i = 0; i < n; i++) {
      KadNode node = start(config);
      if (!nodes.isEmpty()) {
        KadNode seed = nodes.get(random.nextInt(nodes.size()));
        await(node.bootstrap(List.of(seed.contact().address())));
      }
      nodes.add(node);
    }
    return this;
  }

  /** A builder for one more node on this network and clock; {@code start()} it. */
  KadNodes.Builder builder() {
    return KadNodes.builder()
        .config(config)
        .transport(network.newTransport())
        .scheduler(vts)
        .random(network.newRandom());
  }

  KadNode start(KadConfig nodeConfig) {
    return await(builder().config(nodeConfig).start());
  }

  /** Starts a node whose sent requests are recorded, and bootstraps it from node 0. */
  KadNode startRecorded(RecordingTransport[] holder) {
    holder[0] = new RecordingTransport(network.newTransport());
    return join(builder().transport(holder[0]));
  }

  KadNode startWithListener(dev.kad.api.spi.NodeListener listener) {
    return join(builder().listener(listener));
  }

  KadNode startWithId(NodeId id) {
    return await(builder().id(id).start());
  }

  /** Starts a node with {@code id} and adds it, without bootstrapping it. */
  KadNode addWithId(NodeId id) {
    KadNode node = startWithId(id);
    nodes.add(node);
    return node;
  }

  /** Starts the node, bootstraps it from node 0 when there is one, and adds it. */
  KadNode join(KadNodes.Builder node) {
    KadNode started = await(node.start());
    if (!nodes.isEmpty()) {
      await(started.bootstrap(List.of(nodes.get(0).contact().address())));
    }
    nodes.add(started);
    return started;
  }

  <T> T await(Mono<T> mono) {
    return VirtualTime.await(vts, mono, Duration.ofMillis(10), Duration.ofHours(2));
  }

  <T> List<T> await(Flux<T> flux) {
    return await(flux.collectList());
  }

  /** The virtual now, as the nodes' clocks read it. */
  java.time.Instant now() {
    return java.time.Instant.ofEpochSecond(0, vts.now(java.util.concurrent.TimeUnit.NANOSECONDS));
  }

  KadNode node(int i) {
    return nodes.get(i);
  }

  /** The true k closest live nodes to {@code target}, by brute force. */
  List<NodeId> trueClosest(KadId target, int k) {
    return nodes.stream()
        .filter(n -> network.isAlive(n.contact().address()))
        .map(KadNode::id)
        .sorted((a, b) -> target.compareDistance(a, b))
        .limit(k)
        .toList();
  }

  /** The live nodes whose store holds {@code key} now. */
  List<KadNode> holders(Key key) {
    return nodes.stream()
        .filter(n -> network.isAlive(n.contact().address()))
        .filter(n -> !((DefaultKadNode) n).store().get(key, now()).isEmpty())
        .toList();
  }

  static List<NodeId> ids(List<Contact> contacts) {
    return contacts.stream().map(Contact::id).toList();
  }

  /**
   * The token {@code storage} holds {@code watcher}'s subscription of {@code key} with, which it
   * pushes in its Notifies: what a test that pushes in a storage node's name (a test cannot make a
   * node push at will) must send to pass for it.
   */
  long tokenAt(KadNode storage, KadNode watcher, Key key) {
    return ((DefaultKadNode) storage)
        .subscribers().subscriptions(key, now()).stream()
            .filter(s -> s.subscriber().id().equals(watcher.id()))
            .findFirst()
            .orElseThrow()
            .token();
  }

  /** A peer of its own on the network that sends whatever it is told, in whatever name. */
  InMemoryTransport rawPeer() {
    InMemoryTransport wire = network.newTransport();
    await(wire.start(request -> Mono.empty()));
    return wire;
  }

  /** The node farthest from {@code target}, which holds none of its values. */
  KadNode farthestFrom(KadId target) {
    return nodes.stream().max(byDistanceTo(target)).orElseThrow();
  }

  /** The first byte of each value's data, in order: what tests tell their values apart by. */
  static List<Integer> firstBytes(List<Value> values) {
    return values.stream().map(v -> (int) v.data()[0]).toList();
  }

  static Comparator<KadNode> byDistanceTo(KadId target) {
    return (a, b) -> target.compareDistance(a.id(), b.id());
  }

  /**
   * Watches {@code key} from {@code node} until the cluster closes, and gives the watch ten seconds
   * to subscribe: the values it delivers gather in the list returned.
   */
  List<Value> watch(KadNode node, Key key) {
    List<Value> seen = new CopyOnWriteArrayList<>();
    keep(node.watch(key).subscribe(seen::add));
    vts.advanceTimeBy(Duration.ofSeconds(10));
    return seen;
  }

  /** Disposes {@code subscription} when the cluster closes, before its nodes close. */
  void keep(Disposable subscription) {
    kept.add(subscription);
  }

  @Override
  public void close() {
    kept.forEach(Disposable::dispose);
    for (KadNode n : nodes) {
      await(n.close());
    }
    vts.dispose();
  }

  /**
   * Grows the clusters of a test class's tests and closes them after each test. Register it as a
   * {@code @RegisterExtension} field.
   */
  static final class PerTest implements AfterEachCallback {

    private final KadConfig config;
    private final List<Cluster> open = new ArrayList<>();

    PerTest(KadConfig config) {
      this.config = config;
    }

    /** {@code nodes} nodes with the class's config on a network seeded with {@code seed}. */
    Cluster grow(long seed, int nodes) {
      return grow(seed, config, nodes);
    }

    Cluster grow(long seed, KadConfig clusterConfig, int nodes) {
      Cluster cluster = new Cluster(seed, clusterConfig);
      open.add(cluster);
      return cluster.grow(nodes);
    }

    @Override
    public void afterEach(ExtensionContext context) {
      open.forEach(Cluster::close);
      open.clear();
    }
  }
}
