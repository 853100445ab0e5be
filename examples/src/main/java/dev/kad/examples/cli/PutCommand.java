package dev.kad.examples.cli;

import dev.kad.api.Key;
import dev.kad.api.PutResult;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code kad put}: stores VALUE under KEY at the key's k closest nodes and prints how many accepted
 * it. Each run publishes as a new node, so a key collects one value per run (a Kademlia key holds a
 * set of values, one per publisher); {@code get} prints them all.
 */
@Command(
    name = "put",
    mixinStandardHelpOptions = true,
    description = "Stores VALUE under KEY at the key's k closest nodes.")
final class PutCommand extends ClientCommand {

  @Parameters(index = "1", paramLabel = "VALUE", description = "The value, UTF-8 text.")
  private String value;

  private byte[] data;

  @Override
  void check() {
    data = value.getBytes(StandardCharsets.UTF_8);
    if (data.length > config.maxValueBytes()) {
      throw new ParameterException(
          spec.commandLine(),
          "VALUE is "
              + data.length
              + " bytes but values are limited to "
              + config.maxValueBytes()
              + " bytes");
    }
  }

  @Override
  int run(RunningNode running, Key k) {
    PutResult result = Await.of(running.node().put(k, data), timeout, "put '" + key + "'");
    int asked = result.acceptedCount() + result.rejected().size() + result.failed().size();
    StringBuilder line =
        new StringBuilder("stored '")
            .append(key)
            .append("' at ")
            .append(result.acceptedCount())
            .append(" of ")
            .append(asked)
            .append(" nodes");
    if (!result.rejected().isEmpty()) {
      line.append("; refused by ").append(result.rejected().size());
      line.append(" (").append(result.rejected().get(0).reason()).append(")");
    }
    if (!result.failed().isEmpty()) {
      line.append("; ").append(result.failed().size()).append(" did not answer");
    }
    out().println(line);
    out().flush();
    return 0;
  }
}
