package dev.kad.examples.cli;

import dev.kad.api.Key;
import picocli.CommandLine.Command;

/**
 * {@code kad get}: prints the values stored under KEY, one a line, as they arrive; exits with 1 and
 * a line on stderr when no node holds a value, or when no node answered the get.
 */
@Command(
    name = "get",
    mixinStandardHelpOptions = true,
    versionProvider = KadCli.Version.class,
    description = {
      "Prints the values stored under KEY, one a line.",
      "",
      "A key holds one value per publisher (each `kad put` run publishes as a new node)."
          + " Exits with 1 when no node holds a value for KEY, or when no node answered (this"
          + " node may be cut off)."
    })
final class GetCommand extends ClientCommand {

  @Override
  int run(RunningNode running, Key k) {
    Long found =
        Await.of(
            running
                .node()
                .get(k)
                .doOnNext(
                    v -> {
                      out().println(text(v));
                      out().flush();
                    })
                .count(),
            timeout,
            "get '" + key + "'");
    if (found == null || found == 0) {
      throw new CliException("no value found for key '" + key + "'");
    }
    return 0;
  }
}
