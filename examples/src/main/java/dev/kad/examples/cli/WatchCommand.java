package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.examples.cli.SilenceMonitor.CutOff;
import dev.kad.examples.cli.SilenceMonitor.Reconnected;
import dev.kad.examples.cli.SilenceMonitor.StillCutOff;
import dev.kad.examples.cli.SilenceMonitor.Transition;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * {@code kad watch}: prints the current values of KEY, then every new or replaced value as it is
 * stored, one a line, until interrupted (or {@code --count} values).
 *
 * <p>Values go to stdout alone. When no node has answered for {@code --silence-warning}, one line
 * on stderr says so, and the client joins again through {@code --bootstrap} (with back-off) until a
 * node answers; then one line says it reconnected. The node's successful bootstrap sets the watch
 * subscribing at once at the key's closest nodes as they are now, reading the values stored while
 * it was cut off (each printed once, as always). A seed that fails the rejoin in a way no retry
 * changes (its settings no longer fit the client's) is named once on stderr and not dialed again;
 * when every seed and every node it knew fails so, the watch ends with one line naming each and
 * why, and exits 1 (nodes it knew that do not answer keep it trying).
 */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    versionProvider = KadCli.Version.class,
    description = {
      "Prints the values of KEY as they are stored, until interrupted.",
      "",
      "First the current values, then each new or replaced value, one a line, until Ctrl-C"
          + " or --count values were printed. When no node has answered for --silence-warning,"
          + " a line on stderr says so and the watch joins again through --bootstrap; another"
          + " line says when it has reconnected. When every seed and known node fails in a way no retry"
          + " changes (TLS on one side only, another wire format, an untrusted certificate),"
          + " it exits 1 naming each."
    })
final class WatchCommand extends ClientCommand {

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Stop after N values (default: until interrupted).")
  private Integer count;

  @Option(
      names = "--silence-warning",
      defaultValue = "60s",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Say on stderr when no node has answered for this long, and join again through"
              + " --bootstrap until one does (default: ${DEFAULT-VALUE}, at least 2s).")
  Duration silenceWarning;

  @Override
  void check() {
    if (count != null && count < 1) {
      throw new ParameterException(
          spec.commandLine(), "--count must be at least 1 but was " + count);
    }
    if (silenceWarning.compareTo(SilenceMonitor.MIN_THRESHOLD) < 0) {
      throw new ParameterException(
          spec.commandLine(),
          "--silence-warning must be at least 2s but was " + Await.human(silenceWarning));
    }
  }

  @Override
  int run(RunningNode running, Key k) {
    // The node runs on Reactor's parallel scheduler and reads the system clock (RunningNode sets
    // neither): the monitor uses the same, so lastHeard and now are on one clock.
    SilenceMonitor monitor =
        new SilenceMonitor(
            running.node(),
            bootstrap,
            silenceWarning,
            Schedulers.parallel(),
            Clock.systemUTC(),
            this::reportMisfit);
    Flux<Value> values =
        running
            .node()
            .watch(k)
            .mergeWith(monitor.transitions().doOnNext(this::report).thenMany(Flux.empty()));
    if (count != null) {
      values = values.take(count);
    }
    CompletableFuture<Void> done =
        values
            .doOnNext(
                v -> {
                  out().println(text(v));
                  out().flush();
                })
            .then()
            .toFuture();
    try {
      done.get();
    } catch (InterruptedException e) {
      // stopped by the embedding thread: cancel, close (try-with-resources) and exit 0
      done.cancel(true);
      Thread.currentThread().interrupt();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof CliException noSeedFits && !running.closing()) {
        throw noSeedFits; // every seed failed the rejoin in a way no retry changes
      }
      if (!running.closing()) {
        throw new CliException(
            "watch '" + key + "' failed: " + ErrorHandler.describe(e.getCause()));
      }
      // closed by Ctrl-C: the end of the watch, not a failure
    }
    return 0;
  }

  /**
   * One line on stderr for a seed dropped from the rejoin, which no retry changes, as {@code kad
   * node --retry-join} logs it: kad's WARN lines are off unless {@code -v}.
   */
  private void reportMisfit(Address seed, String why, List<Address> retrying) {
    print(
        "will not join through "
            + seed
            + " again: "
            + why
            + ", which no retry changes; retrying "
            + (retrying.isEmpty() ? "the nodes it knew" : RunningNode.names(retrying)));
  }

  /** One line on stderr per transition; stdout carries values only. */
  private void report(Transition t) {
    String line;
    if (t instanceof CutOff) {
      line =
          "no node has answered for "
              + Await.human(silenceWarning)
              + "; still watching '"
              + key
              + "', joining again through "
              + RunningNode.names(bootstrap);
    } else if (t instanceof StillCutOff still) {
      line =
          "still no node has answered, for "
              + Await.human(still.silence())
              + "; still joining again through "
              + RunningNode.names(bootstrap)
              + " and the nodes it knew";
    } else {
      int n = ((Reconnected) t).contacts();
      line =
          // Known, not alive: dead contacts stay in the table until failures count against them.
          "reconnected ("
              + n
              + (n == 1 ? " node" : " nodes")
              + " known); watching '"
              + key
              + "' again";
    }
    print(line);
  }

  private void print(String line) {
    PrintWriter err = spec.commandLine().getErr();
    err.println(spec.qualifiedName() + ": " + line);
    err.flush();
  }
}
