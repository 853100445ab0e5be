package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.reactor.watch.WatchSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

/**
 * Watches whose Subscribes the storage nodes refuse (at {@code maxSubscriptionsPerPeer} or {@code
 * maxSubscribersPerKey}): the watch reads the key's values at each retry round until a node grants
 * a subscription, so changes still arrive, and a subscribed watch reads nothing more.
 */
class RefusedWatchTest {

  private static final KadConfig CONFIG =
      KadConfig.builder()
          .k(6)
          .softTimeout(Duration.ofMillis(300))
          .hardTimeout(Duration.ofSeconds(2))
          .subscriptionTtl(Duration.ofMinutes(2))
          .maintenance(false)
          .build();

  /** Storage nodes that keep one subscription per subscribing node. */
  private static final KadConfig ONE_PER_PEER =
      CONFIG.toBuilder().maxSubscriptionsPerPeer(1).build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private final List<Disposable> watches = new ArrayList<>();

  @AfterEach
  void disposeWatches() {
    watches.forEach(Disposable::dispose);
  }

  /**
   * {@code k} storage nodes with {@code config}, so they are the k closest of every key (a small
   * network), and a gateway: a client whose sent and received requests {@code recorder} records.
   */
  private static KadNode gateway(Cluster c, RecordingTransport[] recorder) {
    recorder[0] = new RecordingTransport(c.network.newTransport());
    return c.join(
        c.builder().config(c.config.toBuilder().clientMode(true).build()).transport(recorder[0]));
  }

  private Disposable watch(Cluster c, KadNode node, Key key, List<Value> seen) {
    Disposable watch = node.watch(key).subscribe(seen::add);
    watches.add(watch);
    c.vts.advanceTimeBy(Duration.ofSeconds(10));
    return watch;
  }

  /** How many storage nodes hold a subscription of {@code key} pushed to {@code at}. */
  private static long subscriptionsPushedTo(Cluster c, Key key, Contact at) {
    return c.nodes.stream()
        .filter(n -> ((DefaultKadNode) n).subscribers().subscribers(key, c.now()).contains(at))
        .count();
  }

  private static long sent(RecordingTransport recorder, Class<? extends Request> type, Key key) {
    return recorder.sent().stream()
        .filter(type::isInstance)
        .filter(
            r ->
                r instanceof Request.FindValue f
                    ? f.key().equals(key)
                    : r instanceof Request.Subscribe s && s.key().equals(key))
        .count();
  }

  @Test
  void aWatchRefusedByEveryStorageNodeStillSeesAValuePutLaterWithinTheRetryCadence() {
    Cluster c = clusters.grow(61, ONE_PER_PEER, CONFIG.k());
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode gateway = gateway(c, recorder);
    Key first = Key.of("first");
    Key second = Key.of("second");
    List<Value> firstSeen = new CopyOnWriteArrayList<>();
    List<Value> secondSeen = new CopyOnWriteArrayList<>();
    watch(c, gateway, first, firstSeen);
    watch(c, gateway, second, secondSeen);
    assertThat(subscriptionsPushedTo(c, first, gateway.contact())).isEqualTo(CONFIG.k());
    assertThat(subscriptionsPushedTo(c, second, gateway.contact())).isZero();

    // Long after the watch began, when its retries have backed off to their longest.
    c.vts.advanceTimeBy(Duration.ofMinutes(10));
    c.await(c.node(1).put(second, new byte[] {7}));
    c.vts.advanceTimeBy(WatchSession.MAX_RETRY.plusSeconds(5));

    assertThat(Cluster.firstBytes(secondSeen)).as("read at a retry round").containsExactly(7);
    assertThat(gateway.stats().pollingWatches()).isEqualTo(1);
    // The subscribed watch is pushed to as before.
    c.await(c.node(2).put(first, new byte[] {1}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(firstSeen)).containsExactly(1);
  }

  @Test
  void aWatchStopsReadingOnceAStorageNodeGrantsItASubscription() {
    Cluster c = clusters.grow(62, ONE_PER_PEER, CONFIG.k());
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode gateway = gateway(c, recorder);
    Key first = Key.of("first");
    Key second = Key.of("second");
    Disposable firstWatch = watch(c, gateway, first, new CopyOnWriteArrayList<>());
    List<Value> secondSeen = new CopyOnWriteArrayList<>();
    watch(c, gateway, second, secondSeen);
    assertThat(gateway.stats().pollingWatches()).isEqualTo(1);

    // The first watch ends and gives its room back at every storage node: the second's next
    // retry is granted.
    firstWatch.dispose();
    c.vts.advanceTimeBy(WatchSession.MAX_RETRY.plusSeconds(5));
    assertThat(subscriptionsPushedTo(c, second, gateway.contact())).isEqualTo(CONFIG.k());
    assertThat(gateway.stats().pollingWatches()).isZero();

    recorder[0].clear();
    c.vts.advanceTimeBy(Duration.ofMinutes(10));
    assertThat(sent(recorder[0], Request.Subscribe.class, second)).as("renewed").isPositive();
    assertThat(sent(recorder[0], Request.FindValue.class, second)).as("read").isZero();
    c.await(c.node(1).put(second, new byte[] {9}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(recorder[0].received()).anyMatch(Request.Notify.class::isInstance);
    assertThat(Cluster.firstBytes(secondSeen)).containsExactly(9);
  }

  @Test
  void aSubscribedWatchReadsOnlyAtItsStart() {
    Cluster c = clusters.grow(63, CONFIG, CONFIG.k());
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode gateway = gateway(c, recorder);
    Key key = Key.of("quiet");
    watch(c, gateway, key, new CopyOnWriteArrayList<>());
    assertThat(sent(recorder[0], Request.FindValue.class, key)).isPositive();

    recorder[0].clear();
    // Ten renewals (at half the 2 min granted).
    c.vts.advanceTimeBy(Duration.ofMinutes(10).plusSeconds(5));
    assertThat(sent(recorder[0], Request.FindValue.class, key)).isZero();
    assertThat(sent(recorder[0], Request.Subscribe.class, key)).isEqualTo(10L * CONFIG.k());
    assertThat(gateway.stats().pollingWatches()).isZero();
  }

  @Test
  void aWatchGrantedBySomeStorageNodesAndRefusedByOthersReadsOnlyAtItsStart() {
    // Five storage nodes keep one subscription per subscriber, one keeps more: the second key's
    // watch is granted by that one only, whose pushes suffice.
    Cluster c = clusters.grow(64, ONE_PER_PEER, CONFIG.k() - 1);
    c.join(c.builder().config(CONFIG));
    RecordingTransport[] recorder = new RecordingTransport[1];
    KadNode gateway = gateway(c, recorder);
    Key first = Key.of("first");
    Key second = Key.of("second");
    watch(c, gateway, first, new CopyOnWriteArrayList<>());
    List<Value> secondSeen = new CopyOnWriteArrayList<>();
    watch(c, gateway, second, secondSeen);
    assertThat(subscriptionsPushedTo(c, second, gateway.contact())).isEqualTo(1);

    recorder[0].clear();
    c.vts.advanceTimeBy(Duration.ofMinutes(10));
    assertThat(sent(recorder[0], Request.FindValue.class, second)).isZero();
    assertThat(gateway.stats().pollingWatches()).isZero();
    c.await(c.node(1).put(second, new byte[] {3}));
    c.vts.advanceTimeBy(Duration.ofSeconds(5));
    assertThat(Cluster.firstBytes(secondSeen)).containsExactly(3);
  }
}
