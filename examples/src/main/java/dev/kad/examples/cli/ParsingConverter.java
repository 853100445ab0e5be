package dev.kad.examples.cli;

import java.util.Objects;
import java.util.function.Function;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * An option converter over a kad-api parser: the parser's {@link IllegalArgumentException}, which
 * names the value, becomes picocli's usage error (exit 2).
 */
abstract class ParsingConverter<T> implements ITypeConverter<T> {

  private final Function<String, T> parse;

  ParsingConverter(Function<String, T> parse) {
    this.parse = Objects.requireNonNull(parse, "parse");
  }

  @Override
  public final T convert(String value) {
    try {
      return parse.apply(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
