package dev.kad.reactor.watch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.reactor.watch.SubscriberRegistry.Bound;
import dev.kad.reactor.watch.SubscriberRegistry.Grant;
import dev.kad.reactor.watch.SubscriberRegistry.Refusal;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * One host against a storage node's registry. Counted per address (host and port), a host claiming
 * its own ports, which even {@code checkSenderAddress} allows ("This stops one host from claiming
 * other hosts' addresses, not other ports on its own host"), was as many subscribers as it has
 * ports: the routing table bounds such a host by {@code maxPerIp}, and the registry now counts a
 * public IP (an IPv4 address or an IPv6 /64) the same way, leaving private and loopback addresses
 * counted per address as before.
 */
class SubscriberRegistryPerIpTest {

  private final SplittableRandom rng = new SplittableRandom(7);
  private final Instant now = Instant.parse("2026-01-01T00:00:00Z");
  private final Duration ttl = Duration.ofMinutes(10);

  private Contact at(String host, int port) {
    return new Contact(NodeId.random(rng), new Address(host, port));
  }

  @Test
  void madeUpPortsOfOnePublicIpDoNotTakeEveryPlaceOfAKey() {
    SubscriberRegistry registry = new SubscriberRegistry(64, 1024, ttl);
    Key key = Key.of("popular");
    for (int port = 20_000; port < 20_064; port++) {
      registry.subscribe(key, at("203.0.113.7", port), ttl, now);
    }

    assertThat(registry.subscribe(key, at("198.51.100.9", 7000), ttl, now)).isPresent();
  }

  @Test
  void madeUpPortsOfOnePublicIpDoNotFillTheRegistry() {
    SubscriberRegistry registry = new SubscriberRegistry(64, 1024, ttl);
    // 64 ports of one host, 1,024 keys each: 65,536 subscriptions, the registry's total.
    for (int port = 20_000; port < 20_064; port++) {
      Contact c = at("203.0.113.7", port);
      for (int k = 0; k < 1024; k++) {
        registry.subscribe(Key.of("junk-" + port + "-" + k), c, ttl, now);
      }
    }

    assertThat(registry.subscribe(Key.of("honest"), at("198.51.100.9", 7000), ttl, now))
        .isPresent();
    assertThat(registry.size()).isEqualTo(1024 + 1);
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void onePublicIpHoldsAQuarterOfAKeysPlacesAndKeepsRenewingThem() {
    SubscriberRegistry registry = new SubscriberRegistry(64, 1024, ttl);
    Key key = Key.of("popular");
    List<Contact> ports = new ArrayList<>();
    for (int port = 20_000; port < 20_016; port++) {
      Contact c = at("203.0.113.7", port);
      ports.add(c);
      assertThat(registry.answer(key, c, ttl, now)).isEqualTo(new Grant(ttl, false));
    }

    assertThat(registry.answer(key, at("203.0.113.7", 20_016), ttl, now))
        .isEqualTo(new Refusal(Bound.PER_IP_PER_KEY, 16));
    // Its own places stay its own: renewed, or taken over by another id at the same address.
    assertThat(registry.answer(key, ports.get(0), ttl, now.plusSeconds(60)))
        .isEqualTo(new Grant(ttl, true));
    assertThat(registry.answer(key, at("203.0.113.7", 20_001), ttl, now.plusSeconds(60)))
        .isEqualTo(new Grant(ttl, false));
    // Another key, and another IP, are not this key's share.
    assertThat(registry.subscribe(Key.of("other"), at("203.0.113.7", 20_016), ttl, now))
        .isPresent();
    assertThat(registry.subscribe(key, at("203.0.113.8", 20_016), ttl, now)).isPresent();
    // An Unsubscribe gives the place back to the IP at once.
    assertThat(registry.unsubscribe(key, ports.get(2))).isTrue();
    assertThat(registry.subscribe(key, at("203.0.113.7", 20_016), ttl, now)).isPresent();
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void theShareIsAtLeastOnePlace() {
    for (int maxPerKey = 1; maxPerKey <= 8; maxPerKey++) {
      SubscriberRegistry registry = new SubscriberRegistry(maxPerKey, 1024, ttl);
      Key key = Key.of("k");
      int granted = 0;
      for (int port = 1; port <= 10; port++) {
        if (registry.subscribe(key, at("203.0.113.7", port), ttl, now).isPresent()) {
          granted++;
        }
      }
      assertThat(granted)
          .as("share of maxPerKey %s", maxPerKey)
          .isEqualTo(Math.max(1, maxPerKey / 4));
    }
  }

  @Test
  void theSubscriberBoundCountsEveryPortOfAPublicIpTogether() {
    SubscriberRegistry registry = new SubscriberRegistry(64, 3, ttl);
    Contact first = at("203.0.113.7", 1);
    registry.subscribe(Key.of("a"), first, ttl, now);
    registry.subscribe(Key.of("b"), at("203.0.113.7", 2), ttl, now);
    registry.subscribe(Key.of("c"), at("203.0.113.7", 3), ttl, now);

    assertThat(registry.answer(Key.of("d"), at("203.0.113.7", 4), ttl, now))
        .isEqualTo(new Refusal(Bound.PER_SUBSCRIBER, 3));
    assertThat(registry.answer(Key.of("d"), first, ttl, now))
        .isEqualTo(new Refusal(Bound.PER_SUBSCRIBER, 3));
    assertThat(registry.answer(Key.of("a"), first, ttl, now.plusSeconds(1)))
        .as("a renewal at the bound")
        .isEqualTo(new Grant(ttl, true));
    assertThat(registry.subscribe(Key.of("d"), at("198.51.100.9", 4), ttl, now)).isPresent();
    // Expiry gives the IP its room back.
    assertThat(registry.subscribe(Key.of("d"), at("203.0.113.7", 4), ttl, now.plus(ttl)))
        .isPresent();
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void anIpv6Slash64IsOneIp() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 1024, ttl);
    Key key = Key.of("k");
    assertThat(registry.subscribe(key, at("2001:db8:1:2::1", 1), ttl, now)).isPresent();
    assertThat(registry.answer(key, at("2001:db8:1:2:ffff::9", 2), ttl, now))
        .isEqualTo(new Refusal(Bound.PER_IP_PER_KEY, 1));
    assertThat(registry.subscribe(key, at("2001:db8:1:3::1", 1), ttl, now)).isPresent();
    assertThat(registry.consistent()).isTrue();
  }

  @Test
  void privateAndLoopbackAddressesAreCountedPerAddressAsBefore() {
    for (String host : new String[] {"10.0.0.1", "127.0.0.1", "192.168.1.1", "::1", "kad-7"}) {
      SubscriberRegistry registry = new SubscriberRegistry(8, 2, ttl);
      Key key = Key.of("k");
      for (int port = 1; port <= 8; port++) {
        assertThat(registry.subscribe(key, at(host, port), ttl, now))
            .as("port %s of %s", port, host)
            .isPresent();
      }
      assertThat(registry.answer(key, at(host, 9), ttl, now))
          .isEqualTo(new Refusal(Bound.PER_KEY, 8));
      // Each port has its own room for maxKeysPerSubscriber keys.
      assertThat(registry.subscribe(Key.of("b"), at(host, 1), ttl, now)).isPresent();
      assertThat(registry.subscribe(Key.of("b"), at(host, 2), ttl, now)).isPresent();
      assertThat(registry.answer(Key.of("c"), at(host, 1), ttl, now))
          .isEqualTo(new Refusal(Bound.PER_SUBSCRIBER, 2));
      assertThat(registry.consistent()).isTrue();
    }
  }

  @Test
  void theTotalRefusesFirst() {
    SubscriberRegistry registry = new SubscriberRegistry(4, 4, 1, ttl);
    registry.subscribe(Key.of("a"), at("203.0.113.7", 1), ttl, now);
    assertThat(registry.answer(Key.of("a"), at("203.0.113.7", 2), ttl, now))
        .isEqualTo(new Refusal(Bound.TOTAL, 1));
  }
}
