package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.UnreachableContactException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code kad put}: stores VALUE under KEY at the key's k closest nodes and prints how many other
 * than this client accepted it (the client's own copy ends with the command); none is a failure.
 * Each run publishes as a new node, so a key collects one value per run (a Kademlia key holds a set
 * of values, one per publisher); {@code get} prints them all. With {@code --id} every run publishes
 * as that node, and a later put replaces the earlier value (its seq, from the clock, is higher).
 */
@Command(
    name = "put",
    mixinStandardHelpOptions = true,
    versionProvider = KadCli.Version.class,
    description = {
      "Stores VALUE under KEY at the key's k closest nodes.",
      "",
      "Prints at how many of the nodes asked it is stored, this client's own short-lived copy"
          + " left out; exits with 1 when no other node stored it."
    })
final class PutCommand extends ClientCommand {

  /** How many nodes that did not answer a put names. */
  private static final int SHOWN_ADDRESSES = 5;

  @Parameters(index = "1", paramLabel = "VALUE", description = "The value, UTF-8 text.")
  private String value;

  @Option(
      names = "--id",
      paramLabel = "HEX",
      converter = NodeIdConverter.class,
      description =
          "Publish as this node id (40 hex digits): a later put with the same --id replaces the"
              + " value instead of adding one next to it. Default: a new random id per run.")
  private NodeId id;

  private byte[] data;

  @Override
  NodeId nodeId() {
    return id;
  }

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
    PutResult result;
    try {
      result = Await.of(running.node().put(k, data), timeout, "put '" + key + "'");
    } catch (StoreRejectedException | UnreachableContactException e) {
      // Nobody stored it: the engine's reason, with the key as the user typed it.
      throw new CliException("could not store '" + key + "': " + e.getMessage());
    }
    // A client node never keeps a copy itself (KadConfig.clientMode); should a result name it
    // anyway, its copy would end when the command exits, so only the other nodes are reported,
    // and a put that none of them stored fails. By contact, not id: with --id the client shares
    // the id of the node it publishes for, whose copy counts.
    Contact self = running.node().contact();
    List<Contact> stored = result.accepted().stream().filter(c -> !c.equals(self)).toList();
    List<PutResult.Rejection> refused =
        result.rejected().stream().filter(r -> !r.contact().equals(self)).toList();
    int asked = stored.size() + refused.size() + result.failed().size();
    StringBuilder problems = new StringBuilder();
    if (!refused.isEmpty()) {
      problems.append("; refused by ").append(refused.size());
      problems.append(" (").append(refused.get(0).reason()).append(")");
    }
    if (!result.failed().isEmpty()) {
      problems.append("; ").append(result.failed().size()).append(" did not answer");
      problems.append(" (").append(addresses(result.failed())).append(")");
    }
    if (stored.isEmpty()) {
      throw new CliException(
          "no node stored '"
              + key
              + "': asked "
              + asked
              + (asked == 1 ? " node" : " nodes")
              + problems);
    }
    out()
        .println("stored '" + key + "' at " + stored.size() + " of " + asked + " nodes" + problems);
    out().flush();
    return 0;
  }

  /**
   * The first few contacts' addresses, an operator's lead to which nodes are gone: each address
   * once, with how many ids there did not answer when more than one did (a node restarted at its
   * address with a new id is still listed under its old one for a while).
   */
  static String addresses(List<Contact> contacts) {
    Map<Address, Long> ids =
        contacts.stream()
            .collect(
                Collectors.groupingBy(Contact::address, LinkedHashMap::new, Collectors.counting()));
    String named =
        ids.entrySet().stream()
            .limit(SHOWN_ADDRESSES)
            .map(e -> e.getKey() + (e.getValue() > 1 ? " (" + e.getValue() + " ids)" : ""))
            .collect(Collectors.joining(", "));
    return ids.size() > SHOWN_ADDRESSES ? named + ", …" : named;
  }
}
