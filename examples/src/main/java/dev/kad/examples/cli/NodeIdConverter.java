package dev.kad.examples.cli;

import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;

/**
 * Parses {@code --id} at the width of the command line's nodes ({@code KadConfig.defaults()}); a
 * bad id becomes picocli's usage error (exit 2) naming the digits that width needs.
 */
final class NodeIdConverter extends ParsingConverter<NodeId> {

  NodeIdConverter() {
    super(hex -> NodeId.parse(hex, KadConfig.defaults().idBits()));
  }
}
