package dev.kad.examples.cli;

import dev.kad.api.NodeId;

/** Parses {@code --id}; a bad id becomes picocli's usage error (exit 2). */
final class NodeIdConverter extends ParsingConverter<NodeId> {

  NodeIdConverter() {
    super(NodeId::parse);
  }
}
