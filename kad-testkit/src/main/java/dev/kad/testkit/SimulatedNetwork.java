package dev.kad.testkit;

import dev.kad.api.Address;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * An in-memory network of {@link InMemoryTransport}s with a settable link model: latency (fixed or
 * uniform in a range, drawn per message leg), a loss probability per message, partitions between
 * groups of addresses, and nodes that can be killed and revived. Every delay runs on the {@link
 * Scheduler} given here, so with a {@code VirtualTimeScheduler} hours of simulated time pass in
 * milliseconds; every random draw comes from one {@link SplittableRandom} seeded here, so the same
 * seed and the same sequence of sends reproduce the same run.
 *
 * <pre>{@code
 * VirtualTimeScheduler vts = VirtualTimeScheduler.create();
 * SimulatedNetwork network = new SimulatedNetwork(vts, 42L)
 *     .latency(Duration.ofMillis(10), Duration.ofMillis(80))
 *     .lossProbability(0.01);
 * InMemoryTransport a = network.newTransport();   // 10.0.0.1:4000
 * InMemoryTransport b = network.newTransport();   // 10.0.0.2:4000
 * }</pre>
 *
 * <p>Rules of the model, checked per message leg (request, then response):
 *
 * <ul>
 *   <li>At send time: a killed sender's requests fail at once with {@link
 *       UnreachableContactException} (its responses are dropped); a request to an address this
 *       network never handed out fails at once with {@link UnreachableContactException}, like a
 *       refused connection; otherwise the message is lost with the loss probability, or scheduled
 *       to arrive after a latency drawn from the current latency range.
 *   <li>At arrival: the message is dropped when the destination is killed, closed, not started, or
 *       on the other side of a partition from the sender. A dropped message gets no answer, so the
 *       sender's request ends with its own timeout ({@link #requestTimeout()}).
 * </ul>
 *
 * <p>Every setter may be called at any time, from any thread; it applies to messages sent (loss,
 * latency) or arriving (partitions, kills) afterwards. All methods are thread-safe.
 */
public final class SimulatedNetwork {

  /** The request timeout of new networks. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(5);

  /** The port of the addresses {@link #newTransport()} hands out. */
  public static final int DEFAULT_PORT = 4000;

  /**
   * The longest latency or request timeout accepted, a century: a scheduler adds a delay to its
   * nanosecond clock, so a longer one overflowed (a timeout of a millennium failed every send).
   */
  public static final Duration MAX_DELAY = Duration.ofDays(365L * 100);

  /** Hosts per /24 subnet used by {@link #newTransport()}: {@code .1} to {@code .254}. */
  private static final int HOSTS_PER_SUBNET = 254;

  /** Addresses not named in any partition group are on this side together. */
  private static final int REST_OF_NETWORK = -1;

  private final Scheduler scheduler;
  private final long seed;
  private final SplittableRandom random;

  /** Every address handed out, killed or counted; an entry is never removed. */
  private final ConcurrentMap<Address, Endpoint> endpoints = new ConcurrentHashMap<>();

  private final AtomicLong addressCounter = new AtomicLong();
  private final AtomicLong requestIds = new AtomicLong();
  private final Counters total = new Counters();

  /** Which {@link #resetTraffic()} the counters are at: a message counts only in its own. */
  private volatile int trafficEpoch;

  private volatile LatencyRange latency = new LatencyRange(0, 0);
  private volatile double lossProbability;
  private volatile Map<Address, Integer> partitionGroups = Map.of();
  private volatile Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;

  /**
   * A network with no latency, no loss and no partitions.
   *
   * @param scheduler runs every latency and timeout (a {@code VirtualTimeScheduler} in tests)
   * @param seed the seed of every random draw of this network
   */
  public SimulatedNetwork(Scheduler scheduler, long seed) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.seed = seed;
    this.random = new SplittableRandom(seed);
  }

  /**
   * The scheduler every latency and timeout runs on.
   *
   * @return the scheduler given at construction
   */
  public Scheduler scheduler() {
    return scheduler;
  }

  /**
   * The seed of this network, to print when a test fails.
   *
   * @return the seed given at construction
   */
  public long seed() {
    return seed;
  }

  /**
   * A new random generator split from this network's, for the caller's own reproducible draws (node
   * ids, workloads). Each call returns an independent generator.
   *
   * @return a fresh generator derived from the seed
   */
  public RandomGenerator newRandom() {
    synchronized (random) {
      return random.split();
    }
  }

  /**
   * A new, unstarted transport at the next free synthetic address {@code 10.a.b.c:4000}, where
   * {@code c} runs from 1 to 254, so consecutive transports fill one /24 subnet before the next.
   *
   * @return the transport; {@link InMemoryTransport#start} it before sending
   */
  public InMemoryTransport newTransport() {
    while (true) {
      // syntheticAddress throws once the 10.0.0.0/8 space is used up, which ends the loop.
      Endpoint endpoint = endpoint(syntheticAddress(addressCounter.getAndIncrement()));
      synchronized (endpoint) {
        if (endpoint.transport == null) {
          endpoint.transport = new InMemoryTransport(this, endpoint);
          return endpoint.transport;
        }
      }
    }
  }

  /**
   * A new, unstarted transport at the given address. The address may be reused once the transport
   * that held it is closed (a node restarting at the same address).
   *
   * @param address the address the transport serves at
   * @return the transport; {@link InMemoryTransport#start} it before sending
   * @throws IllegalArgumentException when an open transport holds the address
   */
  public InMemoryTransport newTransport(Address address) {
    Endpoint endpoint = endpoint(Objects.requireNonNull(address, "address"));
    synchronized (endpoint) {
      if (endpoint.transport != null && !endpoint.transport.isClosed()) {
        throw new IllegalArgumentException("address " + address + " is already in use");
      }
      endpoint.transport = new InMemoryTransport(this, endpoint);
      return endpoint.transport;
    }
  }

  /**
   * Sets a fixed latency for every message leg sent from now on.
   *
   * @param latency the one-way delay, zero or positive
   * @return this network
   * @throws IllegalArgumentException when the latency is negative
   */
  public SimulatedNetwork latency(Duration latency) {
    return latency(latency, latency);
  }

  /**
   * Sets a latency drawn uniformly from {@code [min, max]} (nanosecond resolution, seeded) for
   * every message leg sent from now on.
   *
   * @param min the shortest one-way delay, zero or positive
   * @param max the longest one-way delay, at least {@code min}, at most {@link #MAX_DELAY}
   * @return this network
   * @throws IllegalArgumentException when {@code min} is negative or greater than {@code max}, or
   *     {@code max} longer than {@link #MAX_DELAY}
   */
  public SimulatedNetwork latency(Duration min, Duration max) {
    Objects.requireNonNull(min, "min");
    Objects.requireNonNull(max, "max");
    if (min.isNegative()) {
      throw new IllegalArgumentException("min latency must be >= 0 but was " + min);
    }
    if (max.compareTo(min) < 0) {
      throw new IllegalArgumentException(
          "max latency must be >= min latency " + min + " but was " + max);
    }
    if (max.compareTo(MAX_DELAY) > 0) {
      throw new IllegalArgumentException(
          "max latency must be at most " + MAX_DELAY + " but was " + max);
    }
    this.latency = new LatencyRange(min.toNanos(), max.toNanos());
    return this;
  }

  /**
   * Sets the probability that a message leg sent from now on is lost.
   *
   * @param probability in {@code [0, 1]}
   * @return this network
   * @throws IllegalArgumentException when the probability is outside {@code [0, 1]}
   */
  public SimulatedNetwork lossProbability(double probability) {
    if (!(probability >= 0.0 && probability <= 1.0)) {
      throw new IllegalArgumentException(
          "loss probability must be in [0, 1] but was " + probability);
    }
    this.lossProbability = probability;
    return this;
  }

  /**
   * Sets how long a transport waits for a response before its request errors with {@link
   * dev.kad.api.KadTimeoutException}; applies to requests sent from now on.
   *
   * @param timeout positive, at most {@link #MAX_DELAY}
   * @return this network
   * @throws IllegalArgumentException when the timeout is zero, negative or longer than {@link
   *     #MAX_DELAY}
   */
  public SimulatedNetwork requestTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("request timeout must be > 0 but was " + timeout);
    }
    if (timeout.compareTo(MAX_DELAY) > 0) {
      throw new IllegalArgumentException(
          "request timeout must be at most " + MAX_DELAY + " but was " + timeout);
    }
    this.requestTimeout = timeout;
    return this;
  }

  /**
   * How long a transport waits for a response.
   *
   * @return the current request timeout, {@link #DEFAULT_REQUEST_TIMEOUT} unless set
   */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /**
   * Splits the network: a message arriving from one group at another is dropped. Addresses named in
   * no group form one more group together. Replaces any previous partition.
   *
   * @param groups disjoint groups of addresses
   * @return this network
   * @throws IllegalArgumentException when an address is in two groups
   */
  public SimulatedNetwork partition(Collection<? extends Collection<Address>> groups) {
    Objects.requireNonNull(groups, "groups");
    Map<Address, Integer> assignment = new HashMap<>();
    int index = 0;
    for (Collection<Address> group : groups) {
      for (Address address : group) {
        Integer previous = assignment.put(Objects.requireNonNull(address, "address"), index);
        if (previous != null) {
          throw new IllegalArgumentException(
              "address " + address + " must be in one partition group but is in two");
        }
      }
      index++;
    }
    this.partitionGroups = Map.copyOf(assignment);
    return this;
  }

  /**
   * Cuts {@code group} off from every other address (a partition of two sides).
   *
   * @param group the addresses on one side
   * @return this network
   */
  public SimulatedNetwork isolate(Collection<Address> group) {
    return partition(List.of(group));
  }

  /**
   * Removes every partition.
   *
   * @return this network
   */
  public SimulatedNetwork heal() {
    this.partitionGroups = Map.of();
    return this;
  }

  /**
   * Kills the node at {@code address}: it stops answering (messages arriving at it are dropped),
   * its new requests fail at once with {@link UnreachableContactException}, its handlers' answers
   * are dropped, and the responses to its pending requests are dropped, so those end with their
   * timeout. Messages it sent before being killed still arrive. Its transport stays open.
   *
   * @param address the node's address
   * @return this network
   * @throws IllegalArgumentException when no transport of this network was ever at {@code address}
   */
  public SimulatedNetwork kill(Address address) {
    Endpoint endpoint = endpoints.get(Objects.requireNonNull(address, "address"));
    if (endpoint == null) {
      // Made here, the endpoint would be handed out dead by the next newTransport().
      throw new IllegalArgumentException(
          "cannot kill " + address + ": no transport of this network was ever at that address");
    }
    endpoint.killed = true;
    return this;
  }

  /**
   * Brings a killed node back: it answers and sends again.
   *
   * @param address the node's address
   * @return this network
   */
  public SimulatedNetwork revive(Address address) {
    Endpoint endpoint = endpoints.get(Objects.requireNonNull(address, "address"));
    if (endpoint != null) {
      endpoint.killed = false;
    }
    return this;
  }

  /**
   * Whether the node at {@code address} is not killed.
   *
   * @param address the node's address
   * @return false after {@link #kill} until {@link #revive}
   */
  public boolean isAlive(Address address) {
    Endpoint endpoint = endpoints.get(address);
    return endpoint == null || !endpoint.killed;
  }

  /**
   * The counters of the whole network.
   *
   * @return a snapshot
   */
  public Traffic traffic() {
    return total.snapshot();
  }

  /**
   * The counters of one address: messages it sent (and their fate) and messages it received.
   *
   * @param address the address
   * @return a snapshot, {@link Traffic#NONE} for an address without traffic
   */
  public Traffic traffic(Address address) {
    Endpoint endpoint = endpoints.get(address);
    return endpoint == null ? Traffic.NONE : endpoint.counters.snapshot();
  }

  /**
   * Sets every counter to zero, e.g. after a warm-up phase. From then on the counters count only
   * messages sent after the reset: one in flight at the reset is not counted when it arrives or is
   * dropped, so {@code sent == delivered + dropped + inFlight} still holds.
   */
  public void resetTraffic() {
    trafficEpoch++;
    total.reset();
    for (Endpoint endpoint : endpoints.values()) {
      endpoint.counters.reset();
    }
  }

  /**
   * Closes every transport of this network.
   *
   * <p>Subscribing closes them all (see {@link InMemoryTransport#close()}); the {@code Mono}
   * completes when they are closed. The network's settings and counters stay usable.
   *
   * @return completes when every transport is closed
   */
  public Mono<Void> close() {
    return Flux.defer(() -> Flux.fromIterable(transports()))
        .flatMap(InMemoryTransport::close)
        .then();
  }

  private List<InMemoryTransport> transports() {
    List<InMemoryTransport> out = new ArrayList<>();
    for (Endpoint endpoint : endpoints.values()) {
      InMemoryTransport transport = endpoint.transport;
      if (transport != null) {
        out.add(transport);
      }
    }
    return out;
  }

  private Endpoint endpoint(Address address) {
    return endpoints.computeIfAbsent(address, Endpoint::new);
  }

  // ---- used by InMemoryTransport ----

  /**
   * What the network knows of one address. A transport keeps its own, and a message carries its
   * sender's and its destination's, so sending and arriving look nothing up by address.
   */
  static final class Endpoint {
    final Address address;
    final Counters counters = new Counters();

    /** The transport serving here, the latest one if the address was reused; null before. */
    volatile InMemoryTransport transport;

    volatile boolean killed;

    Endpoint(Address address) {
      this.address = address;
    }
  }

  long nextRequestId() {
    return requestIds.incrementAndGet();
  }

  /**
   * Sends a request leg.
   *
   * @throws UnreachableContactException when the sender is killed or {@code to} was never handed
   *     out
   */
  void transmitRequest(
      Endpoint from, Address to, Request request, Consumer<InMemoryTransport> onArrival) {
    countSent(from, true);
    if (from.killed) {
      countDropped(from);
      throw new UnreachableContactException(
          "node " + from.address + " is killed and cannot send " + kind(request) + " to " + to);
    }
    Endpoint destination = endpoints.get(to);
    if (destination == null || destination.transport == null) {
      countDropped(from);
      throw new UnreachableContactException(
          "no node was ever at " + to + " (" + kind(request) + " from " + from.address + ")");
    }
    schedule(from, destination, onArrival);
  }

  /** Sends a response leg; a killed sender's responses are dropped. */
  void transmitResponse(Endpoint from, Endpoint to, Consumer<InMemoryTransport> onArrival) {
    countSent(from, false);
    if (from.killed) {
      countDropped(from);
      return;
    }
    schedule(from, to, onArrival);
  }

  private void schedule(Endpoint from, Endpoint to, Consumer<InMemoryTransport> onArrival) {
    int epoch = trafficEpoch;
    double loss = lossProbability;
    LatencyRange range = latency;
    boolean lost;
    long delayNanos;
    synchronized (random) {
      lost = loss > 0.0 && random.nextDouble() < loss;
      delayNanos = lost ? 0 : range.draw(random);
    }
    if (lost) {
      countDropped(from);
      return;
    }
    scheduler.schedule(() -> arrive(from, to, onArrival, epoch), delayNanos, TimeUnit.NANOSECONDS);
  }

  private void arrive(
      Endpoint from, Endpoint to, Consumer<InMemoryTransport> onArrival, int epoch) {
    // Sent before the last resetTraffic(): its fate is not counted either.
    boolean counted = epoch == trafficEpoch;
    InMemoryTransport target = to.transport;
    if (target == null || !target.isServing() || to.killed || !sameSide(from.address, to.address)) {
      if (counted) {
        countDropped(from);
      }
      return;
    }
    if (counted) {
      total.delivered.increment();
      from.counters.delivered.increment();
      to.counters.received.increment();
      total.received.increment();
    }
    onArrival.accept(target);
  }

  private boolean sameSide(Address a, Address b) {
    Map<Address, Integer> groups = partitionGroups;
    return groups.isEmpty()
        || groups.getOrDefault(a, REST_OF_NETWORK).equals(groups.getOrDefault(b, REST_OF_NETWORK));
  }

  private void countSent(Endpoint from, boolean request) {
    total.sent.increment();
    from.counters.sent.increment();
    if (request) {
      total.requests.increment();
      from.counters.requests.increment();
    }
  }

  private void countDropped(Endpoint from) {
    total.dropped.increment();
    from.counters.dropped.increment();
  }

  private static String kind(Request request) {
    return request.getClass().getSimpleName();
  }

  private static Address syntheticAddress(long index) {
    long host = index % HOSTS_PER_SUBNET + 1;
    long subnet = index / HOSTS_PER_SUBNET;
    long b = subnet % 256;
    long a = subnet / 256;
    if (a > 255) {
      throw new IllegalStateException("no free synthetic address left after " + index);
    }
    return new Address("10." + a + "." + b + "." + host, DEFAULT_PORT);
  }

  /** A one-way latency range in nanoseconds. */
  private record LatencyRange(long minNanos, long maxNanos) {

    long draw(SplittableRandom random) {
      return minNanos == maxNanos ? minNanos : random.nextLong(minNanos, maxNanos + 1);
    }
  }

  /** Mutable counters behind a {@link Traffic} snapshot. */
  private static final class Counters {
    final LongAdder sent = new LongAdder();
    final LongAdder requests = new LongAdder();
    final LongAdder delivered = new LongAdder();
    final LongAdder dropped = new LongAdder();
    final LongAdder received = new LongAdder();

    Traffic snapshot() {
      return new Traffic(
          sent.sum(), requests.sum(), delivered.sum(), dropped.sum(), received.sum());
    }

    void reset() {
      sent.reset();
      requests.reset();
      delivered.reset();
      dropped.reset();
      received.reset();
    }
  }
}
