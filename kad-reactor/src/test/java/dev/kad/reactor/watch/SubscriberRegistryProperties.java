package dev.kad.reactor.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link SubscriberRegistry} against a model under random subscribes, renewals, unsubscribes,
 * reads, expiry runs and a clock moving forward: the bounds per key, per public IP within a key,
 * per subscriber and in total hold, a limit refuses only when live subscriptions reach it (a lapsed
 * one makes room at once, as it is never returned) and says which, lapsed subscriptions are never
 * returned, and the expiry index and the counts agree with the subscriptions held after every step.
 * A subscription is its subscriber's id and address: the same id from another address neither
 * renews nor ends it but is a subscription of its own. The per-subscriber bound counts a private
 * address (10.x) on its own, whatever its ids, and a public IP (203.0.113.x) from all its ports
 * together; a public IP holds at most max(1, maxPerKey / 4) places of a key, and renews them at any
 * bound.
 */
class SubscriberRegistryProperties {

  private static final Instant START = Instant.parse("2026-01-01T00:00:00Z");

  @Property(tries = 200)
  void boundsHoldAndOnlyLiveSubscriptionsCount(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 300) int steps,
      @ForAll @IntRange(min = 1, max = 8) int maxPerKey,
      @ForAll @IntRange(min = 1, max = 4) int maxKeysPerSubscriber,
      @ForAll @IntRange(min = 1, max = 10) int maxTotal,
      @ForAll @IntRange(min = 0, max = 15_000) int maxTtlMillis) {
    SplittableRandom rng = new SplittableRandom(seed);
    Duration maxTtl = Duration.ofMillis(maxTtlMillis);
    SubscriberRegistry registry =
        new SubscriberRegistry(maxPerKey, maxKeysPerSubscriber, maxTotal, maxTtl);
    Duration longest =
        maxTtl.compareTo(SubscriberRegistry.MIN_TTL) < 0 ? SubscriberRegistry.MIN_TTL : maxTtl;
    Key[] keys = {Key.of("a"), Key.of("b"), Key.of("c"), Key.of("d")};
    NodeId[] ids = new NodeId[5];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = NodeId.random(rng);
    }
    // The model: every subscription granted and not ended, lapsed ones included; one per key and
    // address, the one the id that asked there last holds.
    Map<Key, Map<Address, SubscriberRegistry.Subscription>> model = new HashMap<>();
    Instant now = START;
    for (int step = 0; step < steps; step++) {
      Key key = keys[rng.nextInt(keys.length)];
      NodeId id = ids[rng.nextInt(ids.length)];
      // The same id may come from another address (another host or another port), private or
      // public.
      String host = (rng.nextBoolean() ? "10.0.0." : "203.0.113.") + rng.nextInt(2);
      Contact subscriber = new Contact(id, new Address(host, 4000 + rng.nextInt(3)));
      int op = rng.nextInt(10);
      if (op < 5) {
        Duration ttl = Duration.ofMillis(rng.nextInt(20_000));
        Map<Address, SubscriberRegistry.Subscription> subs =
            model.computeIfAbsent(key, k -> new HashMap<>());
        // A live subscription at the address is renewed, or taken over by another id there.
        boolean held = live(subs.get(subscriber.address()), now);
        SubscriberRegistry.Refusal full = null;
        Object source = source(subscriber.address());
        if (!held) {
          int share = Math.max(1, maxPerKey / 4);
          if (live(model, now, null, null) >= maxTotal) {
            full = new SubscriberRegistry.Refusal(SubscriberRegistry.Bound.TOTAL, maxTotal);
          } else if (live(model, now, key, null) >= maxPerKey) {
            full = new SubscriberRegistry.Refusal(SubscriberRegistry.Bound.PER_KEY, maxPerKey);
          } else if (source instanceof String && live(model, now, key, source) >= share) {
            full = new SubscriberRegistry.Refusal(SubscriberRegistry.Bound.PER_IP_PER_KEY, share);
          } else if (live(model, now, null, source) >= maxKeysPerSubscriber) {
            full =
                new SubscriberRegistry.Refusal(
                    SubscriberRegistry.Bound.PER_SUBSCRIBER, maxKeysPerSubscriber);
          }
        }
        SubscriberRegistry.Answer answer = registry.answer(key, subscriber, ttl, now);
        Optional<SubscriberRegistry.Grant> grant =
            answer instanceof SubscriberRegistry.Grant g ? Optional.of(g) : Optional.empty();
        Optional<Duration> granted = grant.map(SubscriberRegistry.Grant::ttl);
        if (full != null) {
          assertThat(answer).as("refused by %s at %s", full.bound(), now).isEqualTo(full);
        } else {
          Duration expected =
              ttl.compareTo(SubscriberRegistry.MIN_TTL) < 0
                  ? SubscriberRegistry.MIN_TTL
                  : ttl.compareTo(longest) > 0 ? longest : ttl;
          assertThat(granted)
              .as("%s of %s at %s: live subscriptions are under every bound", key, id, now)
              .contains(expected);
          // A renewal only when the same id held it; a takeover by another id is not one.
          assertThat(grant.get().renewed())
              .as("renewed flag of %s at %s", subscriber, now)
              .isEqualTo(held && subs.get(subscriber.address()).subscriber().equals(subscriber));
          subs.put(
              subscriber.address(),
              new SubscriberRegistry.Subscription(subscriber, now.plus(expected)));
        }
      } else if (op < 6) {
        Map<Address, SubscriberRegistry.Subscription> subs =
            model.computeIfAbsent(key, k -> new HashMap<>());
        SubscriberRegistry.Subscription held = subs.get(subscriber.address());
        // Ends the subscription at the sender's address only, and only when its id holds it.
        boolean ended = registry.unsubscribe(key, subscriber);
        if (held == null || !held.subscriber().equals(subscriber)) {
          assertThat(ended).as("nothing of %s to end", subscriber).isFalse();
        } else {
          if (live(held, now)) {
            assertThat(ended).as("ends a live subscription").isTrue();
          }
          subs.remove(subscriber.address());
        }
      } else if (op < 8) {
        now = later(model, now, rng);
      } else if (op < 9) {
        registry.expire(now);
        assertThat(registry.size()).as("size after expiry").isEqualTo(live(model, now, null, null));
      } else {
        // Reading purges the key's lapsed subscriptions, so reads are steps of their own: the
        // others see lapsed subscriptions left in place.
        List<Contact> expected = new ArrayList<>();
        for (SubscriberRegistry.Subscription s : model.getOrDefault(key, Map.of()).values()) {
          if (live(s, now)) {
            expected.add(s.subscriber());
          }
        }
        // Equal to the model's, which grants only under the bounds: so the registry's keep them.
        assertThat(registry.subscribers(key, now))
            .as("live subscribers of %s at %s", key, now)
            .containsExactlyInAnyOrderElementsOf(expected)
            .hasSizeLessThanOrEqualTo(maxPerKey);
        Map<Object, Integer> perIp = new HashMap<>();
        for (Contact c : expected) {
          if (source(c.address()) instanceof String ip) {
            perIp.merge(ip, 1, Integer::sum);
          }
        }
        assertThat(perIp.values())
            .as("places of %s per public IP", key)
            .allMatch(n -> n <= Math.max(1, maxPerKey / 4));
      }
      assertThat(registry.consistent())
          .as("the expiry index and the counts agree with the subscriptions held")
          .isTrue();
      assertThat(registry.size())
          .as("size counts the live and maybe lapsed ones, within maxTotal")
          .isBetween(live(model, now, null, null), Math.min(maxTotal, all(model)));
    }
  }

  /** A later instant: often the very end of a subscription, where it lapses. */
  private static Instant later(
      Map<Key, Map<Address, SubscriberRegistry.Subscription>> model,
      Instant now,
      SplittableRandom rng) {
    List<Instant> ends = new ArrayList<>();
    for (Map<Address, SubscriberRegistry.Subscription> subs : model.values()) {
      for (SubscriberRegistry.Subscription s : subs.values()) {
        if (s.expiresAt().isAfter(now)) {
          ends.add(s.expiresAt());
        }
      }
    }
    return ends.isEmpty() || rng.nextBoolean()
        ? now.plusMillis(rng.nextInt(5000))
        : ends.get(rng.nextInt(ends.size()));
  }

  private static boolean live(SubscriberRegistry.Subscription s, Instant now) {
    return s != null && now.isBefore(s.expiresAt());
  }

  /**
   * What the bounds count an address as: its IP when public (here 203.0.113.x), the address itself
   * when private (10.x).
   */
  private static Object source(Address address) {
    return address.host().startsWith("203.") ? address.host() : address;
  }

  /** Live subscriptions, of one key and/or one {@linkplain #source source} when given. */
  private static int live(
      Map<Key, Map<Address, SubscriberRegistry.Subscription>> model,
      Instant now,
      Key key,
      Object subscriber) {
    int n = 0;
    for (Map.Entry<Key, Map<Address, SubscriberRegistry.Subscription>> e : model.entrySet()) {
      if (key != null && !key.equals(e.getKey())) {
        continue;
      }
      for (Map.Entry<Address, SubscriberRegistry.Subscription> s : e.getValue().entrySet()) {
        if ((subscriber == null || subscriber.equals(source(s.getKey())))
            && live(s.getValue(), now)) {
          n++;
        }
      }
    }
    return n;
  }

  private static int all(Map<Key, Map<Address, SubscriberRegistry.Subscription>> model) {
    return model.values().stream().mapToInt(Map::size).sum();
  }
}
