package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.reactor.KadNodes;
import dev.kad.reactor.store.FileRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.transport.tcp.TcpTls;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.Exceptions;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A node started by a command: a {@link KadNode} on a TCP transport plus a JVM shutdown hook, so
 * that Ctrl-C (or SIGTERM) closes it gracefully. {@link #close()} closes it once, from whichever
 * comes first: the command finishing, an interrupt, or the hook.
 */
final class RunningNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RunningNode.class);

  /** How long a graceful close may take before the command gives up on it. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /**
   * How often a node with a data directory looks whether its contacts changed and saves them if so,
   * besides after joining and when it closes: soon enough that the first node of a network, which
   * joins through nobody, has saved the nodes that joined through it before a crash.
   */
  static final Duration SAVE_CONTACTS_EVERY = Duration.ofSeconds(5);

  private final KadNode node;
  private final DataDir dataDir;
  private final FileRecordStore store;
  private final Disposable savingContacts;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final Thread hook;

  /** Wraps a started node; {@link #start} registers the shutdown hook, tests use this alone. */
  RunningNode(KadNode node) {
    this(node, null, null);
  }

  /**
   * Wraps a started node that keeps its state in {@code dataDir}: saves its contacts there when
   * they changed, looking every {@link #SAVE_CONTACTS_EVERY}, and when it closes, and closes {@code
   * store} after the node.
   */
  private RunningNode(KadNode node, DataDir dataDir, FileRecordStore store) {
    this.node = node;
    this.dataDir = dataDir;
    this.store = store;
    this.savingContacts =
        dataDir == null
            ? Disposables.disposed()
            : Flux.interval(SAVE_CONTACTS_EVERY, Schedulers.boundedElastic())
                .subscribe(tick -> dataDir.saveContacts(node.routingTable()));
    this.hook =
        new Thread(
            () -> {
              log.info("node={} shutting down", node.id().toShortHex());
              closeNode();
              // logged here, on the hook's thread, so the line is out before the JVM halts
              log.info("node={} shut down", node.id().toShortHex());
            },
            "kad-shutdown");
  }

  /**
   * Starts a node listening on {@code host:port} and registers its shutdown hook.
   *
   * @param id the node's id, or null for a random one
   * @param advertise the address peers dial, or null for the bound one
   * @param tls TLS for every connection, or null for plain TCP
   * @param transportSettings the transport's settings from other options (its connect timeout,
   *     limits), applied after the address, id and TLS
   * @param dataDir where the node saves its contacts, or null to save none
   * @param store the values of the data directory, opened (its lock taken) by the caller and closed
   *     after the node, or null to keep values in memory
   */
  static RunningNode start(
      KadConfig config,
      NodeId id,
      String host,
      int port,
      Address advertise,
      TcpTls tls,
      Consumer<TcpTransportOptions.Builder> transportSettings,
      RandomGenerator random,
      Duration timeout,
      DataDir dataDir,
      FileRecordStore store) {
    KadNode node;
    try {
      node =
          startNode(
              config,
              "kad",
              id,
              host,
              port,
              advertise,
              2,
              tls,
              transportSettings,
              store,
              random,
              timeout);
    } catch (RuntimeException e) {
      if (store != null) {
        store.close();
      }
      throw e;
    }
    if (store != null) {
      log.info(
          "node={} loaded {} stored values from {}",
          node.id().toShortHex(),
          store.loadedValues(),
          store.file());
    }
    RunningNode running = new RunningNode(node, dataDir, store);
    Runtime.getRuntime().addShutdownHook(running.hook);
    return running;
  }

  /**
   * Starts a node on a TCP transport without a shutdown hook (the demo closes its own nodes).
   *
   * @param id the node's id, or null for one drawn from {@code random} first
   * @param advertise the address peers dial, or null for the bound one
   */
  static KadNode startNode(
      KadConfig config,
      String name,
      NodeId id,
      String host,
      int port,
      Address advertise,
      int eventLoopThreads,
      RandomGenerator random,
      Duration timeout) {
    return startNode(
        config, name, id, host, port, advertise, eventLoopThreads, null, random, timeout);
  }

  /**
   * Starts a node on a TCP transport without a shutdown hook, with TLS when {@code tls} is set.
   *
   * @param id the node's id, or null for one drawn from {@code random} first
   * @param advertise the address peers dial, or null for the bound one
   * @param tls TLS for every connection, or null for plain TCP
   */
  static KadNode startNode(
      KadConfig config,
      String name,
      NodeId id,
      String host,
      int port,
      Address advertise,
      int eventLoopThreads,
      TcpTls tls,
      RandomGenerator random,
      Duration timeout) {
    return startNode(
        config,
        name,
        id,
        host,
        port,
        advertise,
        eventLoopThreads,
        tls,
        b -> {},
        null,
        random,
        timeout);
  }

  /**
   * Starts a node on a TCP transport, as the other overloads do, with {@code transportSettings}
   * applied to the transport's options after the address, id and TLS, and the values kept in {@code
   * store} when it is set (in memory otherwise).
   */
  private static KadNode startNode(
      KadConfig config,
      String name,
      NodeId id,
      String host,
      int port,
      Address advertise,
      int eventLoopThreads,
      TcpTls tls,
      Consumer<TcpTransportOptions.Builder> transportSettings,
      RecordStore store,
      RandomGenerator random,
      Duration timeout) {
    NodeId nodeId = id != null ? id : NodeId.random(config.idBits(), random);
    TcpTransportOptions built;
    try {
      TcpTransportOptions.Builder options =
          TcpTransportOptions.builder()
              .fromConfig(config)
              .name(name)
              .bindHost(host)
              .bindPort(port)
              .nodeId(nodeId)
              .eventLoopThreads(eventLoopThreads);
      if (advertise != null) {
        options.advertisedAddress(advertise);
      }
      if (tls != null) {
        options.tls(tls);
      }
      transportSettings.accept(options);
      built = options.build();
    } catch (IllegalArgumentException e) {
      throw withOptionNames(e);
    }
    TcpTransport transport = TcpTransport.create(built);
    try {
      KadNodes.Builder builder =
          KadNodes.builder().config(config).transport(transport).id(nodeId).random(random);
      if (store != null) {
        builder.store(store);
      }
      return Await.of(builder.start(), timeout, "starting a node on " + host + ":" + port);
    } catch (RuntimeException e) {
      // failed or timed out (and cancelled): release the port and the event loops
      try {
        Await.of(transport.close(), CLOSE_TIMEOUT, "closing the transport");
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * Joins the network through {@code seeds}. Seeds that are this node's own address are skipped;
   * when every seed is, the node is the first of its network and this returns with its table empty.
   * When no other seed answered, the line says it could not join and why, in the engine's words,
   * which name each seed with its reason (connection refused, no answer in time): {@code cannot
   * join the network: no seed answered: [127.0.0.1:7000 (...)]}. When every seed failed in a way no
   * retry changes (its settings do not fit this node's), the line says so as {@link #joinRetrying}
   * does: {@code cannot join the network: each seed failed in a way no retry changes: [...]}, a
   * {@link CliException}.
   */
  static void join(KadNode node, List<Address> seeds, Duration timeout) {
    try {
      Await.of(node.bootstrap(seeds), timeout, "joining through " + names(seeds));
    } catch (UnreachableContactException e) {
      if (e instanceof NoSeedAnsweredException n && !n.isTransient()) {
        throw RetriedJoin.noSeedFits(n); // said as a retried join says it: retrying is no use
      }
      throw new UnreachableContactException(
          "cannot join the network: " + ErrorHandler.describe(e), e);
    }
  }

  /**
   * Joins the network through {@code seeds} as {@link #join} does, but tries a failed attempt (no
   * seed answered, or no answer within {@code timeout}) again with the {@link Backoff}, the node
   * running and answering its peers meanwhile, until an attempt succeeds or the node closes. A
   * retry also goes through the nodes that reached this one meanwhile (they are in its routing
   * table): a node started before its seeds, that others joined through, is in the network once one
   * of them answers, and stops retrying then, even if its own seeds never come up. Each failed
   * attempt is logged once at WARN, with the engine's reason for each seed and the time to the next
   * attempt; the join is logged at INFO.
   *
   * <p>A seed whose settings do not fit this node's (TLS on one side only, another wire format,
   * protocol version or id width, an untrusted certificate), or that failed otherwise in a way no
   * retry mends, fails every attempt alike: as {@link RetriedJoin} tells, it is logged once at WARN
   * and not dialed again while other seeds failed in a way a retry may mend. When every seed that
   * is not this node itself fails so, the joining ends at once with a {@link CliException} naming
   * each and why.
   *
   * @param timeout the bound on each attempt
   * @return true once joined (or the first node of its network, every seed being this node), false
   *     when the node closed first (Ctrl-C) or the waiting thread was interrupted
   * @throws IllegalArgumentException when a seed is an address no node can dial
   * @throws CliException when every seed failed in a way no retry mends
   */
  boolean joinRetrying(List<Address> seeds, Duration timeout) {
    String self = node.id().toShortHex();
    AtomicInteger attempts = new AtomicInteger();
    RetriedJoin join =
        new RetriedJoin(
            node,
            seeds,
            (seed, why, retrying) ->
                log.warn(
                    "node={} will not join through {} again: {}, which no retry changes; retrying"
                        + " {}",
                    self,
                    seed,
                    why,
                    retrying.isEmpty() ? "the nodes that reached this one" : names(retrying)));
    Mono<Boolean> joined =
        join.attempt(
                tried -> {
                  attempts.incrementAndGet();
                  return Await.bounded(
                      node.bootstrap(tried), timeout, "joining through " + names(tried));
                })
            .retryWhen(
                Backoff.retry(
                    // Closing fails the attempt in flight: that is the end, not a failed join.
                    e -> e instanceof KadException k && k.isTransient() && !closing(),
                    (e, delay) ->
                        log.warn(
                            "node={} cannot join the network yet (attempt {}): {}; next attempt"
                                + " in {}",
                            self,
                            attempts.get(),
                            ErrorHandler.describe(e),
                            Await.human(delay)),
                    Schedulers.parallel()))
            .thenReturn(true)
            .takeUntilOther(node.onClose().onErrorComplete())
            .defaultIfEmpty(false);
    boolean ok;
    try {
      ok = joined.block();
    } catch (RuntimeException e) {
      if (Exceptions.unwrap(e) instanceof InterruptedException) {
        Thread.currentThread().interrupt(); // the embedding thread asks us to stop
        return false;
      }
      if (closing()) {
        return false;
      }
      throw e;
    }
    if (ok) {
      int contacts = node.routingTable().size();
      if (contacts == 0) {
        log.info("node={} is the first node of its network: every seed is itself", self);
      } else {
        log.info(
            "node={} joined the network at attempt {} ({} in the routing table)",
            self,
            attempts.get(),
            contacts == 1 ? "1 contact" : contacts + " contacts");
      }
    }
    return ok;
  }

  /** Saves the node's contacts in its data directory, if it has one: at once, after a join. */
  void saveContacts() {
    if (dataDir != null) {
      dataDir.saveContacts(node.routingTable());
    }
  }

  /** {@code 127.0.0.1:7000, 127.0.0.1:7001}. */
  static String names(List<Address> addresses) {
    return addresses.stream().map(Address::toString).collect(Collectors.joining(", "));
  }

  KadNode node() {
    return node;
  }

  /**
   * A refused setting, named as the command line names it: the transport's builder says {@code
   * advertisedAddress must be set when bindHost is the wildcard}, the user typed {@code --host}.
   */
  private static IllegalArgumentException withOptionNames(IllegalArgumentException e) {
    String message =
        String.valueOf(e.getMessage())
            .replace("advertisedAddress", "--advertise")
            .replace("bindHost", "--host")
            .replace("bindPort", "--port")
            .replace("maxRequestsPerSecondPerIp", "--max-requests-per-second-per-ip");
    return new IllegalArgumentException(message, e);
  }

  /** Whether the node is closing or closed (by the shutdown hook or {@link #close()}). */
  boolean closing() {
    return closing.get();
  }

  /**
   * Waits until the node is closed: by the shutdown hook (Ctrl-C) or by another thread.
   *
   * @throws InterruptedException when the waiting thread is interrupted first
   */
  void awaitClosed() throws InterruptedException {
    closed.await();
  }

  private void waitForClose() {
    try {
      // The node's close, then the store's.
      Duration bound = CLOSE_TIMEOUT.plus(FileRecordStore.CLOSE_TIMEOUT).plusSeconds(1);
      closed.await(bound.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Removes the shutdown hook (unless the JVM is already shutting down) and closes the node. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shutdownInProgress) {
      // the hook runs or ran: it closes the node
    }
    closeNode();
  }

  private void closeNode() {
    if (!closing.compareAndSet(false, true)) {
      // Closing elsewhere: the shutdown hook must not return (and let the JVM halt) before it ends.
      waitForClose();
      return;
    }
    // A pending interrupt would make block() fail at once; close first, then restore it.
    boolean interrupted = Thread.interrupted();
    try {
      savingContacts.dispose();
      if (dataDir != null) {
        dataDir.saveContacts(node.routingTable()); // the table as the running node last knew it
      }
      Await.of(node.close(), CLOSE_TIMEOUT, "closing node " + node.id().toShortHex());
    } catch (RuntimeException e) {
      log.warn(
          "node={} did not close cleanly: {}", node.id().toShortHex(), ErrorHandler.describe(e));
    } finally {
      if (store != null) {
        store.close(); // after the node: nothing stores into it any more
      }
      closed.countDown();
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
