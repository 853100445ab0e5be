package dev.kad.reactor.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SubscriberRegistryTest {

  private final SplittableRandom rng = new SplittableRandom(5);
  private final Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final Key key = Key.of("watched");

  private Contact node(int i) {
    return new Contact(NodeId.random(rng), new Address("10.0.0." + i, 1));
  }

  @Test
  void subscriptionsLastTheirGrantedTimeClampedToTheBounds() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, Duration.ofMinutes(10));
    Contact a = node(1);
    Contact b = node(2);
    assertThat(registry.subscribe(key, a, Duration.ofHours(5), now))
        .contains(Duration.ofMinutes(10));
    assertThat(registry.subscribe(key, b, Duration.ofMillis(1), now))
        .contains(Duration.ofSeconds(1));
    assertThat(registry.subscribers(key, now.plusMillis(999))).containsExactly(a, b);
    assertThat(registry.subscribers(key, now.plusSeconds(1))).containsExactly(a);
    assertThat(registry.subscribers(key, now.plus(Duration.ofMinutes(10)))).isEmpty();
  }

  @Test
  void renewalExtendsAndUnsubscribeEnds() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, Duration.ofMinutes(10));
    Contact a = node(1);
    registry.subscribe(key, a, Duration.ofMinutes(1), now);
    registry.subscribe(key, a, Duration.ofMinutes(1), now.plusSeconds(50));
    assertThat(registry.subscribers(key, now.plusSeconds(100))).containsExactly(a);
    assertThat(registry.unsubscribe(key, a)).isTrue();
    assertThat(registry.subscribers(key, now.plusSeconds(100))).isEmpty();
    assertThat(registry.unsubscribe(key, a)).isFalse();
  }

  @Test
  void aGrantSaysWhetherItRenewedAHeldSubscriptionOrMadeANewOne() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, Duration.ofMinutes(10));
    Contact a = node(1);
    Duration minute = Duration.ofMinutes(1);
    assertThat(registry.grant(key, a, minute, now))
        .contains(new SubscriberRegistry.Grant(minute, false));
    assertThat(registry.grant(key, a, minute, now.plusSeconds(30)))
        .contains(new SubscriberRegistry.Grant(minute, true));
    // Ended by a failed push: the next Subscribe makes a new one.
    registry.end(key, registry.subscriptions(key, now.plusSeconds(40)).get(0));
    assertThat(registry.grant(key, a, minute, now.plusSeconds(50)).map(g -> g.renewed()))
        .contains(false);
    // Lapsed unrenewed, or unsubscribed: new again.
    assertThat(registry.grant(key, a, minute, now.plusSeconds(110)).map(g -> g.renewed()))
        .contains(false);
    registry.unsubscribe(key, a);
    assertThat(registry.grant(key, a, minute, now.plusSeconds(120)).map(g -> g.renewed()))
        .contains(false);
    // Another key, or the same id from another address, is a subscription of its own.
    assertThat(registry.grant(Key.of("other"), a, minute, now.plusSeconds(120)))
        .contains(new SubscriberRegistry.Grant(minute, false));
    Contact elsewhere = new Contact(a.id(), new Address("10.0.0.99", 1));
    assertThat(registry.grant(key, elsewhere, minute, now.plusSeconds(120)).map(g -> g.renewed()))
        .contains(false);
    assertThat(registry.grant(key, a, minute, now.plusSeconds(130)).map(g -> g.renewed()))
        .contains(true);
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void idsMadeUpAtOneAddressHoldOneSubscriptionOfAKeyAndTheLatestIdHoldsIt() {
    SubscriberRegistry registry = new SubscriberRegistry(2, 4, Duration.ofMinutes(10));
    Duration minute = Duration.ofMinutes(1);
    Contact first = node(1);
    // One listener at that address receives every push: a second id there is no second watcher.
    Contact sybil = at(node(0), "10.0.0.1", 1);
    Contact another = at(node(0), "10.0.0.1", 1);
    Contact honest = node(2);
    assertThat(registry.grant(key, first, minute, now))
        .contains(new SubscriberRegistry.Grant(minute, false));
    assertThat(registry.grant(key, sybil, minute, now))
        .contains(new SubscriberRegistry.Grant(minute, false));
    assertThat(registry.grant(key, another, minute, now)).isPresent();
    assertThat(registry.grant(key, honest, minute, now)).isPresent();
    assertThat(registry.subscribers(key, now)).containsExactlyInAnyOrder(another, honest);
    // An Unsubscribe speaks for the id that holds the subscription at its address only.
    assertThat(registry.unsubscribe(key, first)).isFalse();
    assertThat(registry.unsubscribe(key, another)).isTrue();
    assertThat(registry.subscribers(key, now)).containsExactly(honest);
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void idsMadeUpAtOneAddressShareItsBoundOfSubscriptions() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 2, Duration.ofMinutes(10));
    Duration minute = Duration.ofMinutes(1);
    for (int i = 0; i < 2; i++) {
      assertThat(registry.grant(Key.of("k" + i), at(node(0), "10.0.0.1", 1), minute, now))
          .isPresent();
    }
    assertThat(registry.grant(Key.of("k2"), at(node(0), "10.0.0.1", 1), minute, now)).isEmpty();
    assertThat(registry.grant(Key.of("k2"), node(2), minute, now)).isPresent();
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void endingASubscriptionLeavesARenewalOfItAlone() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, Duration.ofMinutes(10));
    Contact a = node(1);
    registry.subscribe(key, a, Duration.ofMinutes(1), now);
    SubscriberRegistry.Subscription pushedUnder = registry.subscriptions(key, now).get(0);
    // Renewed, to the very same instant, while a push sent under the first one travelled.
    registry.subscribe(key, a, Duration.ofMinutes(1), now);
    assertThat(registry.end(key, pushedUnder)).isFalse();
    assertThat(registry.subscribers(key, now)).containsExactly(a);

    SubscriberRegistry.Subscription current = registry.subscriptions(key, now).get(0);
    assertThat(registry.end(key, current)).isTrue();
    assertThat(registry.subscribers(key, now)).isEmpty();
    assertThat(registry.size()).isZero();
    assertThat(registry.end(key, current)).isFalse();
  }

  private static Contact at(Contact subscriber, String host, int port) {
    return new Contact(subscriber.id(), new Address(host, port));
  }

  @Test
  void theSameIdFromAnotherAddressNeitherRedirectsNorRenewsTheSubscription() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, Duration.ofMinutes(10));
    Contact watcher = node(1);
    Contact claimant = at(watcher, "10.0.0.66", 1);
    registry.subscribe(key, watcher, Duration.ofMinutes(1), now);
    SubscriberRegistry.Subscription first = registry.subscriptions(key, now).get(0);
    registry.subscribe(key, claimant, Duration.ofMinutes(5), now.plusSeconds(30));

    // Two subscriptions, each pushed to its own address; the first keeps its expiry.
    assertThat(registry.subscriptions(key, now.plusSeconds(30)))
        .containsExactlyInAnyOrder(
            first, new SubscriberRegistry.Subscription(claimant, now.plusSeconds(30 + 5 * 60)));
    assertThat(registry.subscribers(key, now.plusSeconds(60))).containsExactly(claimant);
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void anUnsubscribeEndsOnlyTheSubscriptionAtItsSendersAddress() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, Duration.ofMinutes(10));
    Contact watcher = node(1);
    registry.subscribe(key, watcher, Duration.ofMinutes(1), now);
    assertThat(registry.unsubscribe(key, at(watcher, "10.0.0.66", 1))).isFalse();
    assertThat(registry.unsubscribe(key, at(watcher, watcher.address().host(), 2))).isFalse();
    assertThat(registry.subscribers(key, now)).containsExactly(watcher);
    assertThat(registry.unsubscribe(key, watcher)).isTrue();
    assertThat(registry.subscribers(key, now)).isEmpty();
  }

  @Test
  void aClaimantOfTheIdElsewhereCannotUseUpTheSubscribersRoom() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 2, Duration.ofMinutes(10));
    Contact watcher = node(1);
    Contact claimant = at(watcher, "10.0.0.66", 1);
    assertThat(registry.subscribe(key, claimant, Duration.ofMinutes(1), now)).isPresent();
    assertThat(registry.subscribe(Key.of("b"), claimant, Duration.ofMinutes(1), now)).isPresent();
    // The claimant has used its own room, and only its own.
    assertThat(registry.subscribe(Key.of("c"), claimant, Duration.ofMinutes(1), now)).isEmpty();
    assertThat(registry.subscribe(key, watcher, Duration.ofMinutes(1), now)).isPresent();
    assertThat(registry.subscribe(Key.of("c"), watcher, Duration.ofMinutes(1), now)).isPresent();
    assertThat(registry.subscribe(Key.of("d"), watcher, Duration.ofMinutes(1), now)).isEmpty();
    assertThat(registry.size()).isEqualTo(4);
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void limitsPerKeyAndPerSubscriberRefuseAndFreeUpOnExpiry() {
    SubscriberRegistry registry = new SubscriberRegistry(2, 2, Duration.ofMinutes(10));
    registry.subscribe(key, node(1), Duration.ofMinutes(1), now);
    registry.subscribe(key, node(2), Duration.ofMinutes(1), now);
    assertThat(registry.subscribe(key, node(3), Duration.ofMinutes(1), now)).isEmpty();
    assertThat(registry.subscribe(key, node(3), Duration.ofMinutes(1), now.plusSeconds(60)))
        .isPresent();

    Contact greedy = node(9);
    registry.subscribe(Key.of("a"), greedy, Duration.ofMinutes(1), now);
    registry.subscribe(Key.of("b"), greedy, Duration.ofMinutes(1), now);
    assertThat(registry.subscribe(Key.of("c"), greedy, Duration.ofMinutes(1), now)).isEmpty();
    registry.unsubscribe(Key.of("a"), greedy);
    assertThat(registry.subscribe(Key.of("c"), greedy, Duration.ofMinutes(1), now)).isPresent();
  }

  @Test
  void aLapsedSubscriptionOfAnotherKeyFreesItsSubscribersSlotAtOnce() {
    // Found by SubscriberRegistryProperties: the lapsed subscription to "a", never read since,
    // still counted against maxKeysPerSubscriber until the next expiry run.
    SubscriberRegistry registry = new SubscriberRegistry(2, 1, 4, Duration.ofSeconds(1));
    Contact watcher = node(1);
    registry.subscribe(Key.of("a"), watcher, Duration.ofSeconds(1), now);
    assertThat(registry.subscribe(Key.of("b"), watcher, Duration.ofSeconds(1), now)).isEmpty();
    assertThat(registry.subscribe(Key.of("b"), watcher, Duration.ofSeconds(1), now.plusSeconds(1)))
        .contains(Duration.ofSeconds(1));
    assertThat(registry.size()).isEqualTo(1);
  }

  @Test
  void aPeerMakingUpIdsAndKeysIsBoundedByTheTotal() {
    SubscriberRegistry registry = new SubscriberRegistry(2, 2, 100, Duration.ofMinutes(10));
    int granted = 0;
    for (int i = 0; i < 1000; i++) {
      // a fresh id and a fresh key each time: neither per-key nor per-subscriber bound applies
      if (registry
          .subscribe(Key.of("k" + i), node(i % 250), Duration.ofMinutes(1), now)
          .isPresent()) {
        granted++;
      }
    }
    assertThat(granted).isEqualTo(100);
    assertThat(registry.size()).isEqualTo(100);
    // once they lapse, the room is there again, even for keys nobody read since
    assertThat(registry.subscribe(key, node(1), Duration.ofMinutes(1), now.plusSeconds(60)))
        .isPresent();
    assertThat(registry.size()).isEqualTo(1);
  }

  @Test
  void everyOperationDropsTheLapsedSubscriptionsOfEveryKey() {
    // The expiry index makes dropping what lapsed cheap, so it happens at every operation rather
    // than only at the bounds (where it was a scan of every subscription per refused Subscribe).
    SubscriberRegistry registry = new SubscriberRegistry(4, 200, 1000, Duration.ofMinutes(10));
    Contact watcher = node(1);
    for (int i = 0; i < 100; i++) {
      registry.subscribe(Key.of("k" + i), watcher, Duration.ofMinutes(i < 50 ? 1 : 2), now);
    }
    assertThat(registry.subscribe(key, node(2), Duration.ofMinutes(5), now.plusSeconds(60)))
        .isPresent();
    assertThat(registry.size()).isEqualTo(51);
    assertThat(registry.subscribers(key, now.plusSeconds(120))).hasSize(1);
    assertThat(registry.size()).isEqualTo(1);
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void aSubscribeWithAnotherTokenFromTheAddressIsASubscriptionBesideItNotARetokening() {
    SubscriberRegistry registry = new SubscriberRegistry(8, 8, Duration.ofMinutes(10));
    Contact a = node(1);
    Duration minute = Duration.ofMinutes(1);
    assertThat(registry.answer(key, a, minute, now, 7))
        .isEqualTo(new SubscriberRegistry.Grant(minute, false));
    assertThat(registry.answer(key, a, minute, now.plusSeconds(1), 7))
        .isEqualTo(new SubscriberRegistry.Grant(minute, true));
    // Another token, even in the same id: a subscription of its own, the first untouched.
    assertThat(registry.answer(key, a, minute, now.plusSeconds(2), 8))
        .isEqualTo(new SubscriberRegistry.Grant(minute, false));
    assertThat(registry.subscriptions(key, now.plusSeconds(2)))
        .extracting(SubscriberRegistry.Subscription::token)
        .containsExactly(7L, 8L);
    // At most MAX_PER_ADDRESS_PER_KEY of a key from one address: made-up tokens do not multiply
    // the pushes to it; a renewal of one held still passes.
    assertThat(registry.answer(key, a, minute, now.plusSeconds(3), 9))
        .isEqualTo(
            new SubscriberRegistry.Refusal(
                SubscriberRegistry.Bound.PER_ADDRESS_PER_KEY,
                SubscriberRegistry.MAX_PER_ADDRESS_PER_KEY));
    assertThat(registry.answer(key, a, minute, now.plusSeconds(3), 0))
        .isInstanceOf(SubscriberRegistry.Refusal.class);
    assertThat(registry.answer(key, a, minute, now.plusSeconds(4), 7))
        .isEqualTo(new SubscriberRegistry.Grant(minute, true));
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void anUnsubscribeEndsOnlyTheSubscriptionOfItsToken() {
    SubscriberRegistry registry = new SubscriberRegistry(8, 8, Duration.ofMinutes(10));
    Contact a = node(1);
    registry.answer(key, a, Duration.ofMinutes(1), now, 7);
    assertThat(registry.unsubscribe(key, a)).as("no token").isFalse();
    assertThat(registry.unsubscribe(key, a, 8)).as("another token").isFalse();
    assertThat(registry.subscribers(key, now)).containsExactly(a);
    assertThat(registry.unsubscribe(key, a, 7)).isTrue();
    assertThat(registry.subscribers(key, now)).isEmpty();
    // A subscription without a token (an earlier version's) ends as before.
    registry.subscribe(key, a, Duration.ofMinutes(1), now);
    assertThat(registry.unsubscribe(key, a, 7)).isFalse();
    assertThat(registry.unsubscribe(key, a)).isTrue();
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void endingOneTokensSubscriptionLeavesTheOtherOfTheAddress() {
    SubscriberRegistry registry = new SubscriberRegistry(8, 8, Duration.ofMinutes(10));
    Contact a = node(1);
    registry.answer(key, a, Duration.ofMinutes(1), now, 7);
    registry.answer(key, a, Duration.ofMinutes(2), now, 8);
    SubscriberRegistry.Subscription made =
        registry.subscriptions(key, now).stream().filter(s -> s.token() == 8).findFirst().get();
    assertThat(registry.end(key, made)).isTrue();
    assertThat(registry.subscriptions(key, now))
        .extracting(SubscriberRegistry.Subscription::token)
        .containsExactly(7L);
    // Both expire on their own, and free the address's places.
    registry.answer(key, a, Duration.ofMinutes(2), now, 9);
    assertThat(registry.subscriptions(key, now.plusSeconds(61)))
        .extracting(SubscriberRegistry.Subscription::token)
        .containsExactly(9L);
    assertThat(registry.consistent()).isTrue();
    assertThat(registry.size()).isEqualTo(1);
  }
}
