package dev.kad.spring;

import dev.kad.api.KadNode;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import tools.jackson.databind.JacksonModule;

/**
 * Registers {@link KadJacksonModule} as a bean when Jackson 3 is on the class path, so that Spring
 * Boot's Jackson auto-configuration, which adds every {@link JacksonModule} bean to the {@code
 * JsonMapper} it builds, writes kad's types as JSON: a WebFlux or MVC controller can return {@code
 * Mono<PutResult>} or {@code Flux<LookupEvent>} as they are, and take ids and addresses in request
 * bodies, held to the node's id width when there is a node ({@code kad.id-bits}), as {@link
 * KadConverterAutoConfiguration} holds request parameters. {@code kad.jackson.enabled=false} turns
 * it off; a user bean of type {@link KadJacksonModule} replaces the one made here. It does not
 * depend on {@code kad.enabled}: an application without a node of its own may still show kad's
 * types.
 */
@AutoConfiguration
@ConditionalOnClass(JacksonModule.class)
@ConditionalOnProperty(prefix = "kad.jackson", name = "enabled", matchIfMissing = true)
@EnableConfigurationProperties(KadJacksonProperties.class)
public class KadJacksonAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean
  KadJacksonModule kadJacksonModule(ObjectProvider<KadNode> node) {
    // Read at each id read: the node is made after the mapper, and may be the application's.
    return new KadJacksonModule(
        () -> {
          KadNode kadNode = node.getIfUnique();
          return kadNode == null ? 0 : kadNode.config().idBits();
        });
  }
}
