package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.ForwardingTransport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.publisher.Mono;

/**
 * Replication reads the store at the start of its run and sends Stores after a lookup per key that
 * takes simulated time: a value that expired in between must not be sent.
 */
class ReplicationExpiryTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(4)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .replicateInterval(Duration.ofHours(1))
          .republishInterval(Duration.ofHours(1))
          .expireAfter(Duration.ofHours(10))
          .jobJitter(Duration.ZERO)
          .maintenance(false)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  /** Records every Store sent with the virtual instant it left at. */
  private static final class TimedStores extends ForwardingTransport {
    private final Supplier<Instant> clock;
    private final List<Instant> at = new ArrayList<>();
    private final List<Request.Store> stores = new ArrayList<>();

    TimedStores(Transport delegate, Supplier<Instant> clock) {
      super(delegate);
      this.clock = clock;
    }

    @Override
    public Mono<Response> send(Address to, Request request) {
      return Mono.defer(
          () -> {
            if (request instanceof Request.Store s) {
              synchronized (this) {
                at.add(clock.get());
                stores.add(s);
              }
            }
            return super.send(to, request);
          });
    }
  }

  @Test
  void aValueThatExpiresDuringTheRunIsNotSent() {
    Cluster c = clusters.grow(31, 16);
    TimedStores[] transport = new TimedStores[1];
    DefaultKadNode holder =
        (DefaultKadNode)
            c.join(
                c.builder()
                    .transport(transport[0] = new TimedStores(c.network.newTransport(), c::now)));
    Key shortLived = Key.of("expires during the run");
    Key longLived = Key.of("outlives the run");
    Instant expiry = c.now().plus(Duration.ofHours(1)).plus(Duration.ofMinutes(1));
    DefaultKadNode sender = (DefaultKadNode) c.node(1);
    for (Key key : List.of(shortLived, longLived)) {
      Instant expiresAt = key.equals(shortLived) ? expiry : expiry.plus(Duration.ofHours(5));
      Value value = Value.of(new byte[] {1}, sender.id(), 1, 1, expiresAt);
      c.await(
          sender.call(
              holder.contact(), new Request.Store(sender.contact(), key, List.of(value), false)));
    }
    assertThat(holder.store().get(shortLived, c.now())).hasSize(1);
    // Past the replication interval since the Store, a millisecond before the value expires: the
    // run reads it from the store, and its lookup takes longer than that millisecond.
    c.vts.advanceTimeBy(Duration.between(c.now(), expiry.minusMillis(1)));
    assertThat(holder.store().get(shortLived, c.now())).hasSize(1);
    c.await(new Maintenance(holder).replicate());

    List<Instant> at;
    List<Request.Store> stores;
    synchronized (transport[0]) {
      at = List.copyOf(transport[0].at);
      stores = List.copyOf(transport[0].stores);
    }
    assertThat(stores)
        .as("the long-lived value is replicated")
        .anyMatch(s -> s.key().equals(longLived));
    for (int i = 0; i < stores.size(); i++) {
      Instant sent = at.get(i);
      assertThat(stores.get(i).values())
          .as("values of the Store of %s sent at %s", stores.get(i).key(), sent)
          .noneMatch(v -> v.isExpiredAt(sent));
    }
  }
}
