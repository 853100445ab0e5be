package dev.kad.reactor.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The room a watcher restarted at its address gets back: a Subscribe refused while its address
 * holds subscriptions of the key with other tokens names them for a probe, at most once per {@link
 * SubscriberRegistry#PROBE_INTERVAL} each.
 */
class SubscriberRegistryRestartTest {

  private final SplittableRandom rng = new SplittableRandom(5);
  private final Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final Key key = Key.of("watched");
  private final Duration minute = Duration.ofMinutes(1);

  /**
   * A watcher on a public address restarts there (same id, fresh token) while its old subscription
   * lives: the key's per-IP share (max(1, maxPerKey / 4), 1 with maxSubscribersPerKey below 8)
   * refuses its Subscribe, and names the old subscription for a probe; once the probe's refusal
   * ended it, the watcher's retry is granted. Before the probe it waited for the TTL.
   */
  @Test
  void aWatcherRestartedAtItsPublicAddressGetsItsPlaceBackOnceTheProbeEndsTheOldOne() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, Duration.ofMinutes(10));
    Contact watcher = new Contact(NodeId.random(rng), new Address("203.0.113.5", 4000));
    assertThat(registry.answer(key, watcher, minute, now, 7))
        .isInstanceOf(SubscriberRegistry.Grant.class);
    Instant restarted = now.plusSeconds(1);
    assertThat(registry.answer(key, watcher, minute, restarted, 8))
        .as("the restarted watcher's Subscribe, with its new token")
        .isEqualTo(new SubscriberRegistry.Refusal(SubscriberRegistry.Bound.PER_IP_PER_KEY, 1));
    List<SubscriberRegistry.Subscription> probe =
        registry.probes(key, watcher.address(), 8, restarted);
    assertThat(probe).extracting(SubscriberRegistry.Subscription::token).containsExactly(7L);
    // The watcher refused the probe (token 7 is not its own now), which ends the subscription.
    assertThat(registry.end(key, probe.get(0))).isTrue();
    assertThat(registry.answer(key, watcher, minute, restarted.plusSeconds(1), 8))
        .as("the watcher's retry")
        .isInstanceOf(SubscriberRegistry.Grant.class);
    assertThat(registry.consistent()).isTrue();
  }

  /**
   * Two stale subscriptions fill the address's two places: both are named, and then room is made.
   */
  @Test
  void bothStalePlacesOfAnAddressAreProbed() {
    SubscriberRegistry registry = new SubscriberRegistry(64, 64, Duration.ofMinutes(10));
    Contact watcher = new Contact(NodeId.random(rng), new Address("10.0.0.9", 4000));
    registry.answer(key, watcher, minute, now, 1);
    registry.answer(key, watcher, minute, now, 2);
    Instant later = now.plusSeconds(5);
    assertThat(registry.answer(key, watcher, minute, later, 3))
        .isEqualTo(
            new SubscriberRegistry.Refusal(
                SubscriberRegistry.Bound.PER_ADDRESS_PER_KEY,
                SubscriberRegistry.MAX_PER_ADDRESS_PER_KEY));
    List<SubscriberRegistry.Subscription> probe = registry.probes(key, watcher.address(), 3, later);
    assertThat(probe).extracting(SubscriberRegistry.Subscription::token).containsExactly(1L, 2L);
    probe.forEach(s -> registry.end(key, s));
    assertThat(registry.answer(key, watcher, minute, later.plusSeconds(1), 3))
        .isInstanceOf(SubscriberRegistry.Grant.class);
    assertThat(registry.consistent()).isTrue();
  }

  /**
   * Subscribes claiming one address with made-up tokens, as fast as they come, and each
   * subscription a probe ends replaced by a new one at once: the registry names at most two of the
   * key's subscriptions there per second for a probe, and one made since the last probe waits the
   * interval too.
   */
  @Test
  void subscribesClaimingAnAddressMakeAtMostTwoProbesASecond() {
    SubscriberRegistry registry = new SubscriberRegistry(64, 64, Duration.ofMinutes(10));
    Contact claimed = new Contact(NodeId.random(rng), new Address("10.0.0.9", 4000));
    registry.answer(key, claimed, minute, now, 1);
    registry.answer(key, claimed, minute, now, 2);
    Instant start = now.plusSeconds(30);
    List<Instant> probedAt = new ArrayList<>();
    long token = 100;
    // 20 seconds of a Subscribe every 10 ms: 2000 of them, half with a new token each.
    for (int i = 0; i < 2000; i++) {
      Instant t = start.plusMillis(10L * i);
      token++;
      if (registry.answer(key, claimed, minute, t, token) instanceof SubscriberRegistry.Grant) {
        continue;
      }
      for (SubscriberRegistry.Subscription s : registry.probes(key, claimed.address(), token, t)) {
        probedAt.add(t);
        // Every other probe is refused (a made-up token's subscription), which frees a place.
        if (s.token() != 1) {
          registry.end(key, s);
        }
      }
    }
    assertThat(probedAt).isNotEmpty();
    for (Instant t : probedAt) {
      long inWindow =
          probedAt.stream()
              .filter(p -> !p.isBefore(t) && p.isBefore(t.plus(SubscriberRegistry.PROBE_INTERVAL)))
              .count();
      assertThat(inWindow).as("probes in the second from %s", t).isLessThanOrEqualTo(2);
    }
    assertThat(probedAt.size()).isLessThanOrEqualTo(2 * 21);
    assertThat(registry.consistent()).isTrue();
  }
}
