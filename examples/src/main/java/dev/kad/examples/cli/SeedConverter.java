package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.reactor.routing.Subnets;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * Parses a {@code --bootstrap} address and refuses one no node can dial (port 0, a wildcard or
 * multicast IP) as bad input, before the node binds its port or writes its data directory: the
 * engine would refuse it only once the node had started.
 */
final class SeedConverter extends ParsingConverter<Address> {

  SeedConverter() {
    super(SeedConverter::seed);
  }

  private static Address seed(String value) {
    Address address = Address.parse(value);
    if (!Subnets.dialable(address)) {
      throw new IllegalArgumentException(
          "'"
              + value
              + "' is not an address a node can dial (port 0, a wildcard and a multicast IP are"
              + " not)");
    }
    return address;
  }

  /**
   * Refuses a {@code --bootstrap} value that names no address: {@code ","} splits into nothing,
   * where {@code ""} is refused by the converter, so {@code --bootstrap "$A,$B"} with both unset
   * would otherwise start a network of its own (a node) or fail deep in the engine (a client).
   *
   * @throws ParameterException naming the value
   */
  static void requireAddresses(CommandSpec spec) {
    OptionSpec option = spec.findOption("--bootstrap");
    if (option == null) {
      return;
    }
    for (String value : option.originalStringValues()) {
      if (!value.isEmpty() && value.chars().allMatch(c -> c == ',')) {
        throw new ParameterException(
            spec.commandLine(),
            "--bootstrap must name at least one HOST:PORT but was '" + value + "'");
      }
    }
  }
}
