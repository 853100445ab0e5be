package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NodeId;
import dev.kad.reactor.store.FileRecordStore;
import dev.kad.transport.tcp.TcpTls;
import dev.kad.transport.tcp.TcpTransportOptions;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code kad node}: runs one node until interrupted. Prints its id and address on stdout (for a
 * second node's {@code --bootstrap}), logs lifecycle at INFO on stderr; Ctrl-C closes it gracefully
 * through the shutdown hook.
 */
@Command(
    name = "node",
    mixinStandardHelpOptions = true,
    versionProvider = KadCli.Version.class,
    description = {
      "Runs one kad node until interrupted (Ctrl-C closes it gracefully).",
      "",
      "Prints its id and address on stdout and logs its lifecycle on stderr. Without"
          + " --bootstrap it starts a new network that others join through its address;"
          + " so does a --bootstrap naming only its own address (every node given the same"
          + " address list). With --retry-join a node whose seeds do not answer yet keeps"
          + " trying them rather than exiting, for a cluster whose nodes start together."
    })
final class NodeCommand implements Callable<Integer> {

  private static final Logger log = LoggerFactory.getLogger(NodeCommand.class);

  @Spec private CommandSpec spec;

  @Option(
      names = "--port",
      required = true,
      paramLabel = "PORT",
      description = "Port to listen on; 0 picks a free one.")
  private int port;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      paramLabel = "HOST",
      description =
          "Interface to listen on (default: ${DEFAULT-VALUE}); 0.0.0.0 needs --advertise.")
  private String host;

  @Option(
      names = "--advertise",
      paramLabel = "HOST:PORT",
      converter = AddressConverter.class,
      description =
          "Address other nodes dial, when it differs from the bound one (port 0: the bound port).")
  private Address advertise;

  @Option(
      names = "--id",
      paramLabel = "HEX",
      converter = NodeIdConverter.class,
      description =
          "The node's id, 40 hex digits: the same place in the key space after a restart"
              + " (default: a random one).")
  private NodeId id;

  @Option(
      names = "--bootstrap",
      paramLabel = "HOST:PORT",
      split = ",",
      converter = SeedConverter.class,
      description = "A node of the network to join through; repeat for more.")
  private List<Address> bootstrap = new ArrayList<>();

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description =
          "Directory (created when missing) where the node keeps what a restart should not lose:"
              + " its id, the values it stores for the network, and contacts to rejoin through"
              + " without --bootstrap. One node per directory.")
  private Path dataDir;

  @Option(
      names = "--timeout",
      defaultValue = "30s",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Bound on starting and on joining, on each attempt with --retry-join (default:"
              + " ${DEFAULT-VALUE}).")
  private Duration timeout;

  @Option(
      names = "--retry-join",
      description =
          "When no --bootstrap node answers, keep running (answering other nodes) and try again"
              + " with back-off, 1s doubling up to 30s, until one does, instead of exiting 1;"
              + " --timeout then bounds each attempt. A seed whose settings do not fit this"
              + " node's (TLS on one side only, another wire format or id width, an untrusted"
              + " certificate) is not tried again, and when no seed fits it exits 1.")
  private boolean retryJoin;

  @Option(
      names = "--max-requests-per-second-per-ip",
      paramLabel = "N",
      description =
          "Requests a second one IPv4 address or IPv6 /64 may send this node, with a burst of one"
              + " second's worth; more are answered RATE_LIMITED (default: 1000; 0: no limit)."
              + " Peers on this host are not counted.")
  private Integer maxRequestsPerSecondPerIp;

  @Option(
      names = "--max-per-ip",
      paramLabel = "N",
      description =
          "Contacts of one public IP address (an IPv4 address or IPv6 /64) a routing-table bucket"
              + " keeps (default: 2; 0: no limit). Loopback, private and link-local addresses are"
              + " not counted. Raise it when more than two nodes share one public IP.")
  private Integer maxPerIp;

  @Option(
      names = "--check-sender-address",
      description =
          "Refuse requests whose sender claims an address on another host than the one its"
              + " connection comes from. Leave it off behind NAT or Docker port mapping, where an"
              + " honest peer's address may not match.")
  private boolean checkSenderAddress;

  @Mixin private TlsOptions tlsOptions;

  @Mixin private ConnectOptions connectOptions;

  @Override
  public Integer call() {
    SeedConverter.requireAddresses(spec);
    PrintWriter out = spec.commandLine().getOut();
    KadConfig config = config();
    SplittableRandom random = new SplittableRandom();
    if (dataDir != null && dataDir.toString().isBlank()) {
      throw new ParameterException(
          spec.commandLine(), "--data-dir must name a directory but was '" + dataDir + "'");
    }
    TcpTls tls = tlsOptions.tls(); // bad input first, before anything is opened or written
    DataDir dir = dataDir == null ? null : DataDir.open(dataDir);
    // Opened first: its lock keeps a second node off the directory before either writes an id.
    FileRecordStore store = dir == null ? null : dir.openStore(config, Instant.now());
    NodeId nodeId;
    List<Address> saved;
    boolean restarted;
    try {
      saved = dir == null ? List.of() : dir.contacts();
      if (retryJoin && bootstrap.isEmpty() && saved.isEmpty()) {
        throw new ParameterException(
            spec.commandLine(),
            "--retry-join retries joining through --bootstrap, but no --bootstrap address was"
                + " given"
                + (dir == null ? "" : " and " + dir.contactsFile() + " holds none"));
      }
      restarted = dir != null && dir.hasId();
      // Written last: a start refused as bad usage leaves no id that a corrected --id would meet.
      nodeId = dir == null ? id : dir.id(id, config.idBits(), () -> NodeId.random(random));
    } catch (RuntimeException e) {
      if (store != null) {
        store.close();
      }
      throw e;
    }
    try (RunningNode running =
        RunningNode.start(
            config,
            nodeId,
            host,
            port,
            advertise,
            tls,
            this::transportSettings,
            random,
            timeout,
            dir,
            store)) {
      KadNode node = running.node();
      out.println("kad node " + node.id().toHex() + " listening on " + listening(node));
      out.flush();
      List<Address> seeds = seeds(saved);
      if (seeds.isEmpty() && restarted) {
        String line =
            (Files.exists(dir.contactsFile())
                    ? "no usable contact saved in "
                    : "no contacts saved in ")
                + dir.contactsFile()
                + ": running as the first node of its network; give --bootstrap HOST:PORT of a"
                + " running node to join one";
        out.println(line);
        log.warn("node={} {}", nodeId.toShortHex(), line);
      }
      if (!seeds.isEmpty()) {
        try {
          if (!join(running, seeds, out)) {
            // closed by Ctrl-C, or stopped by the embedding thread (exit 0, as while running)
            return running.closing() ? ClientCommand.INTERRUPTED : 0;
          }
        } catch (RuntimeException e) {
          if (running.closing()) {
            return ClientCommand.INTERRUPTED; // Ctrl-C while joining
          }
          throw e;
        }
      }
      out.println("running; press Ctrl-C to stop");
      out.flush();
      log.info("node={} running at {}", node.id().toShortHex(), node.contact().address());
      awaitStop(running);
    }
    return 0;
  }

  /** The --bootstrap addresses, then the saved ones it does not name. */
  private List<Address> seeds(List<Address> saved) {
    Set<Address> seeds = new LinkedHashSet<>(bootstrap);
    seeds.addAll(saved);
    return List.copyOf(seeds);
  }

  /**
   * Joins through {@code seeds} and says how it went. Without --bootstrap the seeds are only the
   * contacts saved by an earlier run: when none of them answers (the network restarts too, and this
   * node is up first) the node runs on as the first of its network, which the others rejoin
   * through, since they saved its address too.
   *
   * @return false when the node closed while joining
   */
  private boolean join(RunningNode running, List<Address> seeds, PrintWriter out) {
    KadNode node = running.node();
    try {
      if (!retryJoin) {
        RunningNode.join(node, seeds, timeout);
      } else if (!running.joinRetrying(seeds, timeout)) {
        return false;
      }
    } catch (RuntimeException e) {
      if (running.closing() || !onlySavedContactsFailed(e)) {
        throw e;
      }
      String line =
          "no saved contact answered ("
              + ErrorHandler.describe(e)
              + "); running as the first node of its network until others join (if the network"
              + " moved to other addresses, give --bootstrap HOST:PORT of a running node)";
      out.println(line);
      log.warn("node={} {}", node.id().toShortHex(), line);
      return true;
    }
    running.saveContacts(); // now, not at the next periodic look: a crash then still leaves them
    int contacts = node.routingTable().size();
    if (contacts == 0) {
      // The engine completes with no contact only when every address was this node's own.
      out.println(
          "first node of its network: every "
              + (bootstrap.isEmpty() ? "saved contact" : "bootstrap address")
              + " is this node itself");
    } else {
      out.println(
          "joined the network: "
              + contacts
              + (contacts == 1 ? " contact" : " contacts")
              + " in the routing table"
              + (bootstrap.isEmpty() ? " (through the contacts saved in " + dataDir + ")" : ""));
    }
    return true;
  }

  /**
   * Whether the seeds that failed the join were only saved contacts: there is no --bootstrap, or
   * every --bootstrap address is this node's own (every node of a cluster given the same list).
   * Such a node was the first of its network before, and is again when its saved peers are gone.
   */
  private boolean onlySavedContactsFailed(RuntimeException failure) {
    if (bootstrap.isEmpty()) {
      return true;
    }
    for (Throwable e = failure; e != null; e = e.getCause()) {
      if (e instanceof NoSeedAnsweredException n) {
        return n.selfSeeds().containsAll(bootstrap);
      }
    }
    return false;
  }

  /** The node's settings: the defaults and what the options change. */
  KadConfig config() {
    KadConfig.Builder config = KadConfig.defaults().toBuilder();
    if (maxPerIp != null) {
      try {
        config.maxPerIp(maxPerIp);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(
            spec.commandLine(), String.valueOf(e.getMessage()).replace("maxPerIp", "--max-per-ip"));
      }
    }
    return config.build();
  }

  private void transportSettings(TcpTransportOptions.Builder transport) {
    connectOptions.applyTo(transport);
    if (maxRequestsPerSecondPerIp != null) {
      transport.maxRequestsPerSecondPerIp(maxRequestsPerSecondPerIp);
    }
    transport.checkSenderAddress(checkSenderAddress);
  }

  /**
   * Where the node listens and, when it differs, the address it advertises: {@code 0.0.0.0:7000,
   * advertised as node1.example.com:7000}. The node's contact names only the advertised address, so
   * the line used to show it as the listening one. The transport does not expose its bound port, so
   * with {@code --port 0} and an advertised port of its own it is named as a free one.
   */
  private String listening(KadNode node) {
    Address advertised = node.contact().address();
    if (advertise == null) {
      return advertised.toString(); // the bound host and port
    }
    int boundPort = port != 0 ? port : advertise.port() == 0 ? advertised.port() : 0;
    String bound =
        boundPort != 0 ? new Address(host, boundPort).toString() : host + " (a free port)";
    return bound.equals(advertised.toString()) ? bound : bound + ", advertised as " + advertised;
  }

  /** Returns once the shutdown hook has closed the node, or the thread is interrupted. */
  private static void awaitStop(RunningNode running) {
    try {
      running.awaitClosed();
    } catch (InterruptedException e) {
      // the embedding thread asks us to stop: RunningNode.close() closes the node
      Thread.currentThread().interrupt();
    }
  }
}
