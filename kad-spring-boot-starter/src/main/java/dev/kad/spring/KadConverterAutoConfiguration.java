package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.NodeId;
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
 * names the value), not 500.
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
  Converter<String, NodeId> kadNodeIdConverter() {
    return new NodeIdConverter();
  }

  @Bean
  @ConditionalOnMissingBean(name = "kadAddressConverter")
  Converter<String, Address> kadAddressConverter() {
    return new AddressConverter();
  }

  /** A class, not a lambda: the conversion service reads the source and target types from it. */
  private static final class NodeIdConverter implements Converter<String, NodeId> {

    @Override
    public NodeId convert(String hex) {
      return NodeId.parse(hex);
    }
  }

  /** A class, not a lambda: the conversion service reads the source and target types from it. */
  private static final class AddressConverter implements Converter<String, Address> {

    @Override
    public Address convert(String text) {
      return Address.parse(text);
    }
  }
}
