package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.Value;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A node's own value replaced by a higher seq through {@code put(Key, Value)}. */
class PreparedValueRepublishTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(4)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .refreshInterval(Duration.ofHours(1))
          .replicateInterval(Duration.ofHours(1))
          .republishInterval(Duration.ofHours(1))
          .expireAfter(Duration.ofHours(2))
          .jobJitter(Duration.ZERO)
          .build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);

  @Test
  void aValueReplacedByItsPublisherWithAHigherSeqIsNotRepublishedBackAfterTheNewOneExpires() {
    Cluster c = clusters.grow(23, 12);
    Key key = Key.of("replaced");
    KadNode publisher = c.node(4);
    // Republished (the default), value id 0, seq = the clock's millis.
    c.await(publisher.put(key, new byte[] {1}));
    Value first = c.await(c.node(10).get(key).next());
    // The publisher replaces it with a prepared value of the same identity and a higher seq,
    // which lives 30 minutes and is never republished.
    Value second =
        Value.of(
            new byte[] {2},
            publisher.id(),
            first.valueId(),
            first.seq() + 1,
            c.now().plus(Duration.ofMinutes(30)));
    c.await(publisher.put(key, second));
    assertThat(c.await(c.node(10).get(key).collectList()))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(2));
    // The replacement expired; the replaced value must not come back.
    c.vts.advanceTimeBy(Duration.ofHours(3));
    assertThat(c.await(c.node(10).get(key).collectList()))
        .as("values of key after the replacement expired")
        .noneSatisfy(v -> assertThat(v.data()).containsExactly(1));
  }
}
