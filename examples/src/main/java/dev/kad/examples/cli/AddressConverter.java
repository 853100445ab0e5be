package dev.kad.examples.cli;

import dev.kad.api.Address;

/** Parses {@code HOST:PORT} options; a bad address becomes picocli's usage error (exit 2). */
final class AddressConverter extends ParsingConverter<Address> {

  AddressConverter() {
    super(Address::parse);
  }
}
