package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.PutOptions;
import dev.kad.api.PutResult;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/** Every put in flight is settled however it ends: the node's {@code flying} map empties. */
class PutInFlightLeakTest {

  private static final KadConfig CONFIG = KadConfig.builder().k(5).build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private final Cluster cluster = clusters.grow(7, 6);

  private static Map<?, ?> flying(KadNode node) {
    return ((DefaultKadNode) node).putsInFlight();
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void putsThatEndInEveryWayLeaveNothingInFlight() throws Exception {
    KadNode node = cluster.node(1);
    Key key = Key.of("k");
    // Completes.
    cluster.await(node.put(key, utf8("a"), PutOptions.defaults()));
    assertThat(flying(node)).isEmpty();
    // One Mono subscribed twice at once.
    Mono<PutResult> put = node.put(key, utf8("b"), PutOptions.defaults());
    Disposable one = put.subscribe(r -> {}, e -> {});
    Disposable two = put.subscribe(r -> {}, e -> {});
    cluster.vts.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(one.isDisposed() && two.isDisposed()).isTrue();
    assertThat(flying(node)).isEmpty();
    // Cancelled in flight.
    Disposable cancelled = node.put(key, utf8("c"), PutOptions.defaults()).subscribe();
    cluster.vts.advanceTimeBy(Duration.ofMillis(15));
    cancelled.dispose();
    assertThat(flying(node)).isEmpty();
    // Refused for good: signed by another key pair than the stored value's.
    KeyPair dave = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    KeyPair wrong = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    cluster.await(node.put(key, utf8("d"), PutOptions.defaults().valueId(2).signedBy(dave)));
    node.put(key, utf8("e"), PutOptions.defaults().valueId(2).signedBy(wrong))
        .subscribe(r -> {}, e -> {});
    cluster.vts.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(flying(node)).isEmpty();
    // The node closes mid-put.
    node.put(key, utf8("f"), PutOptions.defaults()).subscribe(r -> {}, e -> {});
    cluster.vts.advanceTimeBy(Duration.ofMillis(15));
    node.close().subscribe();
    cluster.vts.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(flying(node)).isEmpty();
    // A put on a closed node.
    node.put(key, utf8("g"), PutOptions.defaults()).subscribe(r -> {}, e -> {});
    cluster.vts.advanceTimeBy(Duration.ofSeconds(30));
    assertThat(flying(node)).isEmpty();
  }
}
