package dev.kad.reactor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.PutOptions;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.Value;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import reactor.core.Disposable;

/**
 * Giving the republishing back after a put refused for good: the refused value must never end up
 * registered in place of the accepted one, whatever else touched the registration while the refused
 * put was in flight; and a first put, with nothing accepted to give back to, keeps its
 * registration.
 */
class RefusedPutRepublishTest {

  /** One value per key, so that a key fills; republished hourly, so that a refusal is retried. */
  private static final KadConfig CONFIG =
      KadConfig.builder().k(5).maxValuesPerKey(1).republishInterval(Duration.ofHours(1)).build();

  @RegisterExtension final Cluster.PerTest clusters = new Cluster.PerTest(CONFIG);
  private final Cluster cluster = clusters.grow(42, 8);

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static KeyPair keyPair() throws Exception {
    return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
  }

  /** The values of {@code key} a day and more later, read from another node. */
  private List<String> dataAfterADay(Key key) {
    cluster.vts.advanceTimeBy(Duration.ofHours(25));
    return cluster.await(cluster.node(6).get(key).collectList()).stream()
        .map((Value v) -> new String(v.data(), StandardCharsets.UTF_8))
        .toList();
  }

  /**
   * Two puts of one key and value id at once, both refused for good, the first one's refusal
   * arriving first: its give-back finds the second registered and leaves it; the second's then
   * gives the registration back to the first, a refused value, and the accepted one is no longer
   * republished.
   */
  @Test
  void twoRefusedPutsAtOnceLeaveTheAcceptedValueRepublished() throws Exception {
    Key key = Key.of("presence:dave");
    KeyPair dave = keyPair();
    KeyPair wrong = keyPair();
    KadNode publisher = cluster.node(1);
    cluster.await(publisher.put(key, utf8("online"), PutOptions.defaults().signedBy(dave)));

    List<String> refusedInOrder = new CopyOnWriteArrayList<>();
    Disposable first =
        publisher
            .put(key, utf8("hijack-1"), PutOptions.defaults().signedBy(wrong))
            .subscribe(
                r -> refusedInOrder.add("accepted-1"),
                e ->
                    refusedInOrder.add(
                        e instanceof StoreRejectedException ? "refused-1" : "1:" + e));
    // The second starts later, so that the first settles first.
    cluster.vts.advanceTimeBy(Duration.ofMillis(30));
    Disposable second =
        publisher
            .put(key, utf8("hijack-2"), PutOptions.defaults().signedBy(wrong))
            .subscribe(
                r -> refusedInOrder.add("accepted-2"),
                e ->
                    refusedInOrder.add(
                        e instanceof StoreRejectedException ? "refused-2" : "2:" + e));
    cluster.vts.advanceTimeBy(Duration.ofSeconds(30));
    first.dispose();
    second.dispose();
    assertThat(refusedInOrder).as("precondition").containsExactly("refused-1", "refused-2");

    assertThat(dataAfterADay(key)).containsExactly("online");
  }

  /**
   * A republish run that renews the registration of a put still in flight replaces it with an
   * equal-but-renewed one: the put's refusal then finds no registration identical to its own and
   * leaves the refused value registered.
   */
  @Test
  void aRepublishRunDuringARefusedPutLeavesTheAcceptedValueRepublished() throws Exception {
    Key key = Key.of("presence:erin");
    KeyPair erin = keyPair();
    KeyPair wrong = keyPair();
    KadNode publisher = cluster.node(1);
    cluster.await(publisher.put(key, utf8("online"), PutOptions.defaults().signedBy(erin)));

    List<String> outcome = new CopyOnWriteArrayList<>();
    Disposable put =
        publisher
            .put(key, utf8("hijack"), PutOptions.defaults().signedBy(wrong))
            .subscribe(
                r -> outcome.add("accepted"),
                e -> outcome.add(e instanceof StoreRejectedException ? "refused" : e.toString()));
    // The republish job runs while the put is in flight (a run over many values lasts long), a
    // few milliseconds later: the renewal expires later than the put's value.
    cluster.vts.advanceTimeBy(Duration.ofMillis(5));
    Disposable run = ((DefaultKadNode) publisher).republishAll().subscribe(v -> {}, e -> {});
    cluster.vts.advanceTimeBy(Duration.ofSeconds(30));
    put.dispose();
    run.dispose();
    assertThat(outcome).as("precondition").containsExactly("refused");

    assertThat(dataAfterADay(key)).containsExactly("online");
  }

  /** A stop of the republishing while the refused put is in flight stays a stop. */
  @Test
  void aStopDuringARefusedPutIsKept() throws Exception {
    Key key = Key.of("presence:frank");
    KeyPair frank = keyPair();
    KeyPair wrong = keyPair();
    KadNode publisher = cluster.node(1);
    cluster.await(publisher.put(key, utf8("online"), PutOptions.defaults().signedBy(frank)));

    List<String> outcome = new CopyOnWriteArrayList<>();
    Disposable put =
        publisher
            .put(key, utf8("hijack"), PutOptions.defaults().signedBy(wrong))
            .subscribe(
                r -> outcome.add("accepted"),
                e -> outcome.add(e instanceof StoreRejectedException ? "refused" : e.toString()));
    assertThat(publisher.stopRepublishing(key)).isTrue();
    cluster.vts.advanceTimeBy(Duration.ofSeconds(30));
    put.dispose();
    assertThat(outcome).as("precondition").containsExactly("refused");

    assertThat(dataAfterADay(key)).isEmpty();
  }

  /**
   * A first put of a key refused because the key is full at every node keeps its registration: the
   * next republish after the room freed stores it.
   */
  @Test
  void aPutRefusedForAFullKeyLandsOnceTheKeyHasRoom() {
    Key key = Key.of("full");
    KadNode occupier = cluster.node(2);
    KadNode publisher = cluster.node(1);
    cluster.await(
        occupier.put(
            key,
            "first".getBytes(StandardCharsets.UTF_8),
            PutOptions.defaults().ttl(Duration.ofMinutes(30)).republish(false)));

    Throwable refused = null;
    try {
      cluster.await(publisher.put(key, "second".getBytes(StandardCharsets.UTF_8)));
    } catch (RuntimeException e) {
      refused = e;
    }
    assertThat(refused).as("precondition").isInstanceOf(StoreRejectedException.class);
    assertThat(((KadException) refused).isTransient()).isFalse();

    // The occupier's value expires after 30 minutes; the publisher's republish runs every hour.
    cluster.vts.advanceTimeBy(Duration.ofHours(3));

    assertThat(cluster.await(cluster.node(6).get(key).collectList()))
        .extracting((Value v) -> new String(v.data(), StandardCharsets.UTF_8))
        .containsExactly("second");
  }
}
