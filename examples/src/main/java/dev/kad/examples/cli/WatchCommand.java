package dev.kad.examples.cli;

import dev.kad.api.Key;
import dev.kad.api.Value;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import reactor.core.publisher.Flux;

/**
 * {@code kad watch}: prints the current values of KEY, then every new or replaced value as it is
 * stored, one a line, until interrupted (or {@code --count} values).
 */
@Command(
    name = "watch",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the values of KEY as they are stored, until interrupted.",
      "",
      "First the current values, then each new or replaced value, one a line, until Ctrl-C"
          + " or --count values were printed."
    })
final class WatchCommand extends ClientCommand {

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "Stop after N values (default: until interrupted).")
  private Integer count;

  @Override
  void check() {
    if (count != null && count < 1) {
      throw new ParameterException(
          spec.commandLine(), "--count must be at least 1 but was " + count);
    }
  }

  @Override
  int run(RunningNode running, Key k) {
    Flux<Value> values = running.node().watch(k);
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
      if (!running.closing()) {
        throw new CliException(
            "watch '" + key + "' failed: " + ErrorHandler.describe(e.getCause()));
      }
      // closed by Ctrl-C: the end of the watch, not a failure
    }
    return 0;
  }
}
