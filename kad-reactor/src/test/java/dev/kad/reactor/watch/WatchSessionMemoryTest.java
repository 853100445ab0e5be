package dev.kad.reactor.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

class WatchSessionMemoryTest {

  private final SplittableRandom rng = new SplittableRandom(11);
  private final Instant expiry = Instant.parse("2030-01-01T00:00:00Z");
  private final Contact a = new Contact(NodeId.random(rng), new Address("10.0.0.1", 1));
  private final Contact b = new Contact(NodeId.random(rng), new Address("10.0.0.2", 1));
  private final Contact c = new Contact(NodeId.random(rng), new Address("10.0.0.3", 1));

  private Value value(NodeId publisher, long seq) {
    return Value.of(new byte[] {1}, publisher, 1, seq, expiry);
  }

  /**
   * An honest network: every value is pushed by each of the key's storage nodes in turn, to a fast
   * subscriber. Once the delivered memory is full of vouched identities, the one just delivered
   * (pushed by one node so far) is the only single-sender entry, is forgotten at once, and the
   * second node's push of the same seq is delivered again.
   */
  @Test
  void anHonestNetworkNeverDeliversAValueTwiceOnceTheDeliveredMemoryIsFull() {
    int maxPending = 4;
    WatchSession session = new WatchSession(Key.of("k"), maxPending, Duration.ofMinutes(2));
    List<Value> got = new ArrayList<>();
    Flux.<Value>create(session::attach).subscribe(got::add);
    int identities = 16 * maxPending + 8;
    for (int i = 0; i < identities; i++) {
      Value v = value(NodeId.random(rng), 1);
      session.offer(List.of(v), a);
      session.offer(List.of(v), b);
      session.offer(List.of(v), c);
    }
    assertThat(got).hasSize(identities).doesNotHaveDuplicates();
  }
}
