package dev.kad.reactor;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.PutOptions;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.Value;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A put with options publishes a value of its own value id, ttl and signature, which the node
 * republishes, signed again, until told to stop.
 */
class PutOptionsTest {

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

  private static KeyPair ed25519() {
    try {
      return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void aSignedValueIsRepublishedSignedAgainAndOutlivesThreeExpiryPeriods() {
    Cluster c = clusters.grow(41, 12);
    Key key = Key.of("signed and kept");
    KeyPair keys = ed25519();
    KadNode publisher = c.node(4);
    PutResult put =
        c.await(
            publisher.put(key, new byte[] {5}, PutOptions.defaults().valueId(3).signedBy(keys)));
    assertThat(put.value().verifySignature(key)).isTrue();

    // Looked at every half hour: a renewal that nodes refused would leave a gap before the next.
    for (int i = 0; i < 13; i++) {
      c.vts.advanceTimeBy(Duration.ofMinutes(30));
      assertThat(c.await(c.node(10).get(key))).as("after %d minutes", 30 * (i + 1)).hasSize(1);
    }

    assertThat(c.await(c.node(10).get(key)))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.data()).containsExactly(5);
              assertThat(v.valueId()).isEqualTo(3);
              assertThat(v.publisher()).isEqualTo(publisher.id());
              assertThat(v.verifySignature(key)).isTrue();
              assertThat(v.publicKey()).isEqualTo(keys.getPublic().getEncoded());
              // Renewed, not changed: the seq of the put, with a later expiry.
              assertThat(v.seq()).isEqualTo(put.value().seq());
              assertThat(v.expiresAt()).isAfter(put.value().expiresAt());
            });
  }

  @Test
  void twoValueIdsOfOneKeyAreBothRepublishedAndStoppedOneByOneOrTogether() {
    Cluster c = clusters.grow(42, 12);
    Key key = Key.of("two of mine");
    KadNode publisher = c.node(4);
    c.await(publisher.put(key, new byte[] {1}, PutOptions.defaults().valueId(1)));
    c.await(publisher.put(key, new byte[] {2}, PutOptions.defaults().valueId(2)));
    c.await(publisher.put(key, new byte[] {0}));

    c.vts.advanceTimeBy(CONFIG.expireAfter().multipliedBy(3));
    assertThat(c.await(c.node(10).get(key)))
        .extracting(Value::valueId)
        .containsExactlyInAnyOrder(0L, 1L, 2L);

    assertThat(publisher.stopRepublishing(key, 1)).isTrue();
    assertThat(publisher.stopRepublishing(key, 1)).isFalse();
    assertThat(publisher.stopRepublishing(key, 7)).isFalse();
    c.vts.advanceTimeBy(CONFIG.expireAfter().plusMinutes(1));
    assertThat(c.await(c.node(10).get(key)))
        .extracting(Value::valueId)
        .containsExactlyInAnyOrder(0L, 2L);

    assertThat(publisher.stopRepublishing(key)).isTrue();
    assertThat(publisher.stopRepublishing(key)).isFalse();
    c.vts.advanceTimeBy(CONFIG.expireAfter().plusMinutes(1));
    assertThat(c.await(c.node(10).get(key))).isEmpty();
  }

  @Test
  void aShortTtlValueIsRepublishedBeforeItExpiresAndExpiresItsTtlAfterStopping() {
    KadConfig often = CONFIG.toBuilder().republishInterval(Duration.ofMinutes(10)).build();
    Cluster c = clusters.grow(43, often, 12);
    Key key = Key.of("short-lived but kept");
    KadNode publisher = c.node(4);
    Duration ttl = Duration.ofMinutes(20);
    c.await(publisher.put(key, new byte[] {9}, PutOptions.defaults().valueId(4).ttl(ttl)));

    // Six ttls later, still there, and never set to live longer than its ttl.
    for (int i = 0; i < 12; i++) {
      c.vts.advanceTimeBy(Duration.ofMinutes(10));
      assertThat(c.await(c.node(10).get(key)))
          .as("after %d minutes", 10 * (i + 1))
          .singleElement()
          .satisfies(v -> assertThat(v.expiresAt()).isBeforeOrEqualTo(c.now().plus(ttl)));
    }

    assertThat(publisher.stopRepublishing(key, 4)).isTrue();
    c.vts.advanceTimeBy(ttl.plusSeconds(1));
    assertThat(c.await(c.node(10).get(key))).isEmpty();
  }

  @Test
  void aValueNotRepublishedLivesItsTtlAndAPutOfItAgainAtOnceReplacesIt() {
    Cluster c = clusters.grow(44, 12);
    Key key = Key.of("once");
    KadNode publisher = c.node(4);
    PutOptions once = PutOptions.defaults().valueId(6).ttl(Duration.ofMinutes(5)).republish(false);
    PutResult first = c.await(publisher.put(key, new byte[] {1}, once));
    // Same instant of the virtual clock: the seq still goes up, so the second replaces the first.
    PutResult second = c.await(publisher.put(key, new byte[] {2}, once));
    assertThat(second.value().seq()).isGreaterThan(first.value().seq());
    assertThat(second.accepted()).hasSizeGreaterThanOrEqualTo(2);
    assertThat(publisher.stopRepublishing(key)).isFalse();
    assertThat(c.await(c.node(10).get(key)))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).containsExactly(2));

    c.vts.advanceTimeBy(Duration.ofMinutes(5).plusSeconds(1));
    assertThat(c.await(c.node(10).get(key))).isEmpty();
  }

  @Test
  void aPutWithoutRepublishingEndsTheRepublishingOfTheSameValueId() {
    Cluster c = clusters.grow(45, 12);
    Key key = Key.of("no longer kept");
    KadNode publisher = c.node(4);
    c.await(publisher.put(key, new byte[] {1}));
    c.await(publisher.put(key, new byte[] {2}, PutOptions.defaults().republish(false)));
    assertThat(publisher.stopRepublishing(key)).isFalse();
    c.vts.advanceTimeBy(CONFIG.expireAfter().plusMinutes(1));
    assertThat(c.await(c.node(10).get(key))).isEmpty();
  }

  @Test
  void optionsTheConfigurationCannotHonourAreRefusedAtCallTimeNamingTheTtl() {
    Cluster c = clusters.grow(46, 2);
    KadNode node = c.node(0);
    Key key = Key.of("refused");
    byte[] data = {1};

    assertThatThrownBy(() -> node.put(key, data, PutOptions.defaults().ttl(Duration.ofHours(3))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "ttl PT3H is longer than expireAfter PT2H: nodes refuse a value that expires later");
    // Republished every hour: a ttl under two hours could lapse between two runs.
    assertThatThrownBy(() -> node.put(key, data, PutOptions.defaults().ttl(Duration.ofMinutes(90))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "ttl PT1H30M of a republished value must be at least twice the republish period PT1H")
        .hasMessageContaining("republish(false)");
    assertThatThrownBy(() -> node.put(key, data, null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("options");
    assertThatThrownBy(() -> node.put(Key.of("wide", 256), data, PutOptions.defaults()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("key must have 160 bits");

    // Without republishing, any ttl up to expireAfter.
    Instant before = c.now();
    PutResult put =
        c.await(
            node.put(
                key, data, PutOptions.defaults().ttl(Duration.ofMinutes(90)).republish(false)));
    assertThat(put.value().expiresAt())
        .isBetween(before.plus(Duration.ofMinutes(90)), c.now().plus(Duration.ofMinutes(90)));
    assertThat(List.of(put.value().valueId(), (long) put.value().size())).containsExactly(0L, 1L);
  }

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

  /**
   * A put every node refuses for good (another key pair than the stored value's: a process that
   * made a fresh key pair after a restart) leaves the republishing of the key and value id to the
   * accepted value. It took it over: the accepted value expired, and the refused one, republished
   * meanwhile, was then accepted in its place.
   */
  @Test
  void aPutRefusedForGoodLeavesTheAcceptedValueRepublished() {
    Cluster c = clusters.grow(44, 12);
    Key key = Key.of("presence:bob");
    KeyPair bob = ed25519();
    KadNode publisher = c.node(1);
    c.await(publisher.put(key, "online".getBytes(UTF_8), PutOptions.defaults().signedBy(bob)));

    assertThatThrownBy(
            () ->
                c.await(
                    publisher.put(
                        key, "hijack".getBytes(UTF_8), PutOptions.defaults().signedBy(ed25519()))))
        .isInstanceOfSatisfying(
            StoreRejectedException.class, e -> assertThat(e.isTransient()).isFalse());
    c.vts.advanceTimeBy(CONFIG.expireAfter().plusHours(1));

    assertThat(c.await(c.node(10).get(key).collectList()))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.data()).isEqualTo("online".getBytes(UTF_8));
              assertThat(v.publicKey()).isEqualTo(bob.getPublic().getEncoded());
            });
  }

  /** The same for a prepared value of this node's, signed by another key pair. */
  @Test
  void aPreparedValueRefusedForGoodLeavesTheAcceptedValueRepublished() {
    Cluster c = clusters.grow(45, 12);
    Key key = Key.of("presence:carol");
    KadNode publisher = c.node(1);
    c.await(
        publisher.put(key, "online".getBytes(UTF_8), PutOptions.defaults().signedBy(ed25519())));
    Value stored = c.await(c.node(10).get(key).next());
    Value hijack =
        Value.of(
                "hijack".getBytes(UTF_8),
                publisher.id(),
                stored.valueId(),
                stored.seq() + 1,
                stored.expiresAt())
            .signedWith(key, ed25519());

    assertThatThrownBy(() -> c.await(publisher.put(key, hijack)))
        .isInstanceOf(StoreRejectedException.class);
    c.vts.advanceTimeBy(CONFIG.expireAfter().plusHours(1));

    assertThat(c.await(c.node(10).get(key).collectList()))
        .singleElement()
        .satisfies(v -> assertThat(v.data()).isEqualTo("online".getBytes(UTF_8)));
  }
}
