package dev.kad.examples.cli;

import dev.kad.api.Address;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code HOST:PORT} options; a bad address becomes picocli's usage error (exit 2). */
final class AddressConverter implements ITypeConverter<Address> {

  @Override
  public Address convert(String value) {
    try {
      return Address.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
