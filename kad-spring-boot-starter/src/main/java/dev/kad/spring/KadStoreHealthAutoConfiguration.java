package dev.kad.spring;

import dev.kad.reactor.store.FileRecordStore;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * The {@code kadStore} health indicator ({@link KadStoreHealthIndicator}) for a node that keeps its
 * values in a {@link FileRecordStore} bean: the starter's ({@code kad.store-file}), or an
 * application's bean declared as a {@code FileRecordStore} (one declared as a {@code RecordStore}
 * is not looked into). After {@link KadAutoConfiguration}, which makes the starter's, so that the
 * condition sees it; on and off with the kad indicator ({@code management.health.kad.enabled}).
 */
@AutoConfiguration(after = KadAutoConfiguration.class)
@ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
@ConditionalOnEnabledHealthIndicator("kad")
@ConditionalOnBean(FileRecordStore.class)
public class KadStoreHealthAutoConfiguration {

  @Bean
  @ConditionalOnMissingBean(name = "kadStoreHealthIndicator")
  KadStoreHealthIndicator kadStoreHealthIndicator(FileRecordStore store) {
    return new KadStoreHealthIndicator(store);
  }
}
