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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import reactor.core.publisher.Flux;

/**
 * An honest network against a model: each update of a value is pushed by every one of the key's k
 * storage nodes, each push arriving within a few events of the update, in any order, and reads
 * bring values too. A fast subscriber sees each identity's seqs strictly rising (never one twice,
 * never a lower after a higher) and ends at the highest seq of each, however long the watch runs.
 */
class WatchSessionHonestNetworkProperties {

  private static final Instant EXPIRY = Instant.parse("2030-01-01T00:00:00Z");

  private record Push(int due, Value value, Contact from) {}

  @Property(tries = 300)
  void anHonestNetworkDeliversEachSeqOnceInOrderAndTheLatestOfEach(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 6) int maxPending,
      @ForAll @IntRange(min = 1, max = 5) int k,
      @ForAll @IntRange(min = 1, max = 150) int identities,
      @ForAll @IntRange(min = 1, max = 600) int updates,
      @ForAll @IntRange(min = 0, max = 8) int spread) {
    // One update per event, so pushes arrive within a few deliveries of the first one: well
    // inside the delivered memory (16 × maxPending).
    int window = Math.min(spread, 4 * maxPending);
    SplittableRandom rng = new SplittableRandom(seed);
    Contact[] nodes = new Contact[k];
    for (int i = 0; i < k; i++) {
      nodes[i] = new Contact(NodeId.random(rng), new Address("10.0.1." + i, 4000));
    }
    NodeId[] publishers = new NodeId[identities];
    for (int i = 0; i < identities; i++) {
      publishers[i] = NodeId.random(rng);
    }
    WatchSession session = new WatchSession(Key.of("k"), maxPending, Duration.ofMinutes(2));
    List<Value> got = new ArrayList<>();
    Flux.<Value>create(session::attach).subscribe(got::add);
    Map<NodeId, Long> latest = new HashMap<>();
    List<Push> queue = new ArrayList<>();
    int t = 0;
    for (int u = 0; u < updates || !queue.isEmpty(); t++) {
      if (u < updates) {
        NodeId p = publishers[rng.nextInt(identities)];
        long seq = latest.merge(p, 1L, Long::sum);
        Value v = Value.of(new byte[] {(byte) seq}, p, 1, seq, EXPIRY);
        for (Contact node : nodes) {
          queue.add(new Push(t + rng.nextInt(window + 1), v, node));
        }
        if (rng.nextInt(4) == 0) {
          queue.add(new Push(t + rng.nextInt(window + 1), v, null)); // a read
        }
        u++;
      }
      int now = t;
      List<Push> due = new ArrayList<>(queue.stream().filter(x -> x.due() <= now).toList());
      queue.removeAll(due);
      java.util.Collections.shuffle(due, new java.util.Random(rng.nextLong()));
      for (Push push : due) {
        session.offer(List.of(push.value()), push.from());
      }
    }
    Map<NodeId, Long> last = new HashMap<>();
    for (Value v : got) {
      Long before = last.put(v.publisher(), v.seq());
      assertThat(before == null || before < v.seq())
          .as("seq %s of %s after %s", v.seq(), v.publisher(), before)
          .isTrue();
    }
    assertThat(last).isEqualTo(latest);
  }
}
