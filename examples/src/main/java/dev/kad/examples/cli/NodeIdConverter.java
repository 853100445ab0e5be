package dev.kad.examples.cli;

import dev.kad.api.NodeId;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Parses {@code --id}; a bad id becomes picocli's usage error (exit 2). */
final class NodeIdConverter implements ITypeConverter<NodeId> {

  @Override
  public NodeId convert(String value) {
    try {
      return NodeId.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
