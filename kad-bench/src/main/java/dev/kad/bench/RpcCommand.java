package dev.kad.bench;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.reactor.KadNodes;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import dev.kad.transport.tcp.WireFormat;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** {@code kad-bench rpc}: FindNode RPC throughput of one node over loopback TCP. */
@Command(
    name = "rpc",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    header = "FindNode RPCs per second served by one node over loopback TCP.",
    description = {
      "Starts one serving node (TcpTransport on 127.0.0.1, --server-threads event-loop",
      "threads) offered --table contacts (its k-buckets keep those that fit), and one",
      "client transport in the same JVM (--client-threads threads) that keeps --concurrency",
      "FindNode requests for random targets in flight on its one connection, which one",
      "untimed request opens: first for a warm-up of --warmup seconds, then measured for",
      "--seconds. Prints one JSON line:",
      "  rpcs_per_s   answered FindNode RPCs per second of the measured window",
      "  p50_us/p99_us  time from send to answer of one RPC (queueing included); null",
      "               when no RPC was answered",
      "  errors       RPCs that failed or timed out in the measured window",
      "",
    })
final class RpcCommand implements Callable<Integer> {

  /** Distinct targets cycled through: enough to defeat any caching, cheap to make. */
  private static final int TARGETS = 4096;

  @Spec CommandSpec spec;

  /** What the run is doing, for the one line that names a failure. */
  private String step = "starting";

  @Option(names = "--seconds", defaultValue = "10", description = "Measured seconds (default: 10).")
  int seconds;

  @Option(
      names = "--concurrency",
      defaultValue = "64",
      description = "Requests in flight (default: 64).")
  int concurrency;

  @Option(
      names = "--format",
      defaultValue = "json",
      converter = FormatConverter.class,
      description = "Wire format: json, cbor or smile (default: ${DEFAULT-VALUE}).")
  WireFormat format;

  @Option(
      names = "--warmup",
      defaultValue = "3",
      description = "Unmeasured seconds first, for the JIT (default: 3).")
  int warmup;

  @Option(
      names = "--table",
      defaultValue = "1000",
      description =
          "Contacts offered to the serving node's routing table, which keeps those its"
              + " k-buckets take (default: 1000).")
  int table;

  @Option(
      names = "--native",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = {
        "Run both nodes on Netty's native epoll transport where it is available;",
        "--no-native runs them on NIO (default: epoll where available)."
      })
  boolean nativeTransport;

  @Option(names = "--server-threads", defaultValue = "1", description = "Default: 1.")
  int serverThreads;

  @Option(names = "--client-threads", defaultValue = "1", description = "Default: 1.")
  int clientThreads;

  @Override
  public Integer call() {
    new OptionChecks(spec)
        .inRange("--seconds", seconds, 1, 3600)
        .inRange("--concurrency", concurrency, 1, 65536)
        .inRange("--warmup", warmup, 0, 600)
        .inRange("--table", table, 0, 100_000)
        .inRange("--server-threads", serverThreads, 1, 64)
        .inRange("--client-threads", clientThreads, 1, 64);
    PrintWriter out = spec.commandLine().getOut();
    String line;
    try {
      line = measure(spec.commandLine().getErr());
    } catch (RuntimeException e) {
      throw new RunFailure(step + " failed", e);
    }
    out.println(line);
    out.flush();
    return 0;
  }

  /** Latencies of one window, in microseconds, and the failures. */
  private static final class Window {
    final Samples us = new Samples();
    long errors;
    double elapsedSeconds;
  }

  private String measure(PrintWriter progress) {
    SplittableRandom random = new SplittableRandom(1);
    KadConfig config = KadConfig.builder().maintenance(false).build();
    NodeId serverId = NodeId.random(config.idBits(), random);
    TcpTransport serverTransport =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .fromConfig(config)
                .name("kad-bench-server")
                .nodeId(serverId)
                .format(format)
                .nativeTransport(nativeTransport)
                .eventLoopThreads(serverThreads)
                .build());
    NodeId clientId = NodeId.random(config.idBits(), random);
    TcpTransport client =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .fromConfig(config)
                .name("kad-bench-client")
                .nodeId(clientId)
                .format(format)
                .nativeTransport(nativeTransport)
                .eventLoopThreads(clientThreads)
                .maxConcurrentRequestsPerConnection(Math.max(256, concurrency))
                .build());
    Duration bound = Duration.ofSeconds(seconds + warmup + 60L);
    KadNode server = null;
    try {
      step = "starting the serving node";
      server =
          KadNodes.builder()
              .config(config)
              .transport(serverTransport)
              .random(random.split())
              .id(serverId)
              .start()
              .block(bound);
      List<Contact> contacts = new ArrayList<>(table);
      for (int i = 0; i < table; i++) {
        // Addresses nobody listens at: the table only has to be full for the lookups.
        contacts.add(
            new Contact(
                NodeId.random(config.idBits(), random),
                new Address(
                    "127." + (1 + i / 62_500) + "." + (i / 250 % 250) + "." + (i % 250 + 1),
                    4000)));
      }
      KadNodes.learn(server, contacts);
      // The client answers the server's pings, if any, as a node would.
      step = "starting the client";
      client
          .start(
              r ->
                  Mono.fromSupplier(
                      () -> new Response.Pong(new Contact(clientId, client.localAddress()))))
          .block(bound);
      Contact sender = new Contact(clientId, client.localAddress());
      NodeId[] targets = new NodeId[TARGETS];
      for (int i = 0; i < TARGETS; i++) {
        targets[i] = NodeId.random(config.idBits(), random);
      }
      Address to = server.contact().address();
      progress.printf(
          Locale.ROOT,
          "[rpc] server %s with %d contacts, format %s, concurrency %d%n",
          to,
          server.stats().contacts(),
          format,
          concurrency);
      progress.flush();
      // The dial, the preface exchange and the first codec use come before any window: they
      // are not an RPC's cost, and on a loaded machine they alone can outlast a short window.
      step = "connecting to the serving node";
      long dialStart = System.nanoTime();
      client.send(to, new Request.FindNode(sender, targets[0])).block(bound);
      progress.printf(
          Locale.ROOT,
          "[rpc] connected, first answer in %.1f ms%n",
          (System.nanoTime() - dialStart) / 1e6);
      progress.flush();
      step = "sending FindNode requests";
      if (warmup > 0) {
        drive(client, to, sender, targets, warmup, bound);
      }
      Window w = drive(client, to, sender, targets, seconds, bound);
      double perSecond = w.us.size() / w.elapsedSeconds;
      progress.printf(
          Locale.ROOT,
          "[rpc] %d RPCs in %.2f s, %d errors%n",
          w.us.size(),
          w.elapsedSeconds,
          w.errors);
      progress.flush();
      return new JsonLine()
          .field("scenario", "rpc")
          .field("seconds", seconds)
          .field("concurrency", concurrency)
          .field("format", format.name().toLowerCase(Locale.ROOT))
          .field("rpcs_per_s", perSecond, 1)
          .field("p50_us", w.us.percentileIfAny(0.50), 1)
          .field("p99_us", w.us.percentileIfAny(0.99), 1)
          .field("errors", w.errors)
          .toString();
    } finally {
      Mono<Void> closeServer = server == null ? serverTransport.close() : server.close();
      Mono.when(
              closeServer.onErrorResume(e -> Mono.empty()),
              client.close().onErrorResume(e -> Mono.empty()))
          .block(Duration.ofSeconds(30));
    }
  }

  /** Keeps {@code concurrency} FindNode requests in flight for {@code window} seconds. */
  private Window drive(
      TcpTransport client,
      Address to,
      Contact sender,
      NodeId[] targets,
      int window,
      Duration bound) {
    Window w = new Window();
    long start = System.nanoTime();
    Flux.range(0, Integer.MAX_VALUE)
        .flatMap(
            i ->
                Mono.defer(
                    () -> {
                      long t0 = System.nanoTime();
                      return client
                          .send(to, new Request.FindNode(sender, targets[i % TARGETS]))
                          .map(r -> r instanceof Response.NodesFound ? System.nanoTime() - t0 : -1L)
                          .onErrorReturn(-1L);
                    }),
            concurrency,
            1)
        .take(Duration.ofSeconds(window))
        .doOnNext(
            nanos -> {
              if (nanos >= 0) {
                w.us.add(nanos / 1e3);
              } else {
                w.errors++;
              }
            })
        .then()
        .block(bound);
    w.elapsedSeconds = (System.nanoTime() - start) / 1e9;
    return w;
  }

  /** Parses {@code json}, {@code cbor} or {@code smile}, either case. */
  static final class FormatConverter implements ITypeConverter<WireFormat> {
    @Override
    public WireFormat convert(String value) {
      try {
        return WireFormat.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("'" + value + "' is not json, cbor or smile");
      }
    }
  }
}
