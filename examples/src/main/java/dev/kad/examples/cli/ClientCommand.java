package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.transport.tcp.TcpTls;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The shared part of {@code kad put|get|watch}: a short-lived node on a free port of {@code --host}
 * joins the network through {@code --bootstrap}, does one operation and closes. Keys are hashed
 * from their text ({@link Key#of(String)}); values are UTF-8 text.
 *
 * <p>The node is a client ({@link KadConfig#clientMode()}): the nodes it talks to answer it but do
 * not add it to their routing tables, so after it exits their lookups are not sent to its closed
 * port.
 */
abstract class ClientCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--bootstrap",
      required = true,
      paramLabel = "HOST:PORT",
      split = ",",
      converter = SeedConverter.class,
      description = "A node of the network to join through (e.g. a `kad node`); repeat for more.")
  List<Address> bootstrap;

  @Option(
      names = "--host",
      defaultValue = "127.0.0.1",
      paramLabel = "HOST",
      description = "Interface this client node listens on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(
      names = "--port",
      defaultValue = "0",
      paramLabel = "PORT",
      description = "Port this client node listens on (default: a free one).")
  int port;

  @Option(
      names = "--advertise",
      paramLabel = "HOST:PORT",
      converter = AddressConverter.class,
      description =
          "Address other nodes dial to reach this client, when it differs from the bound one.")
  Address advertise;

  @Option(
      names = "--timeout",
      defaultValue = "30s",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Bound on starting this client node, on joining and on a put or get (default:"
              + " ${DEFAULT-VALUE}); a watch runs until Ctrl-C or --count.")
  Duration timeout;

  @Option(
      names = {"-v", "--verbose"},
      description = "Log the node's lifecycle and warnings on stderr.")
  boolean verbose;

  @Mixin TlsOptions tlsOptions;

  @Mixin ConnectOptions connectOptions;

  @Parameters(index = "0", paramLabel = "KEY", description = "The key, any text (hashed to an id).")
  String key;

  /** The exit code when Ctrl-C stops an operation, as a shell reports SIGINT. */
  static final int INTERRUPTED = 130;

  final KadConfig config = KadConfig.builder().clientMode(true).build();

  @Override
  public final Integer call() {
    SeedConverter.requireAddresses(spec);
    check();
    TcpTls tls = tlsOptions.tls();
    Logging.quietUnless(verbose);
    try (RunningNode running =
        RunningNode.start(
            config,
            nodeId(),
            host,
            port,
            advertise,
            tls,
            connectOptions::applyTo,
            new SplittableRandom(),
            timeout,
            null,
            null)) {
      try {
        RunningNode.join(running.node(), bootstrap, timeout);
        return run(running, Key.of(key));
      } catch (RuntimeException e) {
        if (running.closing()) {
          return INTERRUPTED; // Ctrl-C closed the node mid-operation: nothing more to say
        }
        throw e;
      }
    }
  }

  /** The client node's id, or null for a random one (every run a new node). */
  NodeId nodeId() {
    return null;
  }

  /** Checks the arguments before any node starts; throws a {@code ParameterException}. */
  void check() {}

  /** Does the operation on the joined node; returns the exit code. */
  abstract int run(RunningNode running, Key key);

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** A value as the commands print it: its data as UTF-8 text. */
  static String text(Value value) {
    return new String(value.data(), StandardCharsets.UTF_8);
  }
}
