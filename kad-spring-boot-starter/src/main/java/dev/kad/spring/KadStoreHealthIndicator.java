package dev.kad.spring;

import dev.kad.reactor.store.FileRecordStore;
import java.util.Objects;
import java.util.Optional;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Reports the file the node keeps its values in ({@code kad.store-file}): up while the store writes
 * it, with the file, the values held and the bytes they count against maxStoredBytes; down while it
 * cannot ({@code writeFailure} names why: a full disk, say). The node still serves from memory
 * then, but what it stores would be lost by a crash or a restart, which is what the file is for. It
 * is up again once a write succeeds.
 */
public class KadStoreHealthIndicator implements HealthIndicator {

  private final FileRecordStore store;

  /**
   * Creates the indicator.
   *
   * @param store the node's store
   */
  public KadStoreHealthIndicator(FileRecordStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  @Override
  public Health health() {
    Optional<String> failure = store.writeFailure();
    Health.Builder builder = failure.isPresent() ? Health.down() : Health.up();
    builder
        .withDetail("file", store.file().toString())
        .withDetail("values", store.size())
        .withDetail("storedBytes", store.storedBytes());
    failure.ifPresent(f -> builder.withDetail("writeFailure", f));
    return builder.build();
  }
}
