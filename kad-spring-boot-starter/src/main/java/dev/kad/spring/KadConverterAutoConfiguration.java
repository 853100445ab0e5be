package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.KadId;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.convert.converter.Converter;

/**
 * Registers {@link Converter} beans from text to {@link NodeId} ({@link NodeId#parse(String)}: 40
 * or 64 hex digits) and to {@link Address} ({@link Address#parse(String)}: {@code host:port},
 * {@code [ipv6]:port}). Spring Boot adds every converter bean to the conversion service of WebFlux
 * and MVC, so a controller can take {@code @PathVariable NodeId id} or {@code @RequestParam Address
 * seed}; a bad value fails the request with 400 (a {@code TypeMismatchException} whose message
 * names the value), not 500. With a {@link KadNode} bean, an id of the other width than the node's
 * ({@code kad.id-bits}) is a bad value too: no call of the node takes it.
 *
 * <p>There is none for {@code Key}: Spring already binds a {@code Key} parameter through {@code
 * Key.of(String)}, which hashes the text as a name. To take a key's hex, take a {@code String} and
 * call {@code Key.parse}.
 *
 * <p>A user bean named {@code kadNodeIdConverter} or {@code kadAddressConverter} replaces the one
 * made here. It does not depend on {@code kad.enabled}: an application without a node of its own
 * may still take kad's types.
 */
@AutoConfiguration
public class KadConverterAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "kadNodeIdConverter")
  Converter<String, NodeId> kadNodeIdConverter(ObjectProvider<KadNode> node) {
    return new NodeIdConverter(node);
  }

  @Bean
  @ConditionalOnMissingBean(name = "kadAddressConverter")
  Converter<String, Address> kadAddressConverter() {
    return new AddressConverter();
  }

  /** A class, not a lambda: the conversion service reads the source and target types from it. */
  private static final class NodeIdConverter implements Converter<String, NodeId> {

    private final ObjectProvider<KadNode> node;

    NodeIdConverter(ObjectProvider<KadNode> node) {
      this.node = node;
    }

    @Override
    public NodeId convert(String hex) {
      NodeId id = NodeId.parse(hex);
      // Read at each request: the node is made after the converters, and may be the application's.
      KadNode kadNode = node.getIfUnique();
      int bits = kadNode == null ? id.bits() : kadNode.config().idBits();
      if (id.bits() != bits) {
        throw new IllegalArgumentException(otherWidth("node id", bits, id));
      }
      return id;
    }
  }

  /**
   * The refusal of an id of the other width than the node's, in a request parameter or a JSON body
   * ({@link KadJacksonModule}).
   */
  static String otherWidth(String what, int bits, KadId id) {
    return what
        + " must be "
        + bits / 4
        + " hex digits for this node (kad.id-bits "
        + bits
        + ") but had "
        + id.bits() / 4;
  }

  /** A class, not a lambda: the conversion service reads the source and target types from it. */
  private static final class AddressConverter implements Converter<String, Address> {

    @Override
    public Address convert(String text) {
      return Address.parse(text);
    }
  }
}
