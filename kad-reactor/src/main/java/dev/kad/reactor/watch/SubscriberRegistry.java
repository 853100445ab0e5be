package dev.kad.reactor.watch;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The storage side of live streams: which nodes subscribed to which keys, until when. Bounded per
 * key, per subscriber and in total (ids cost a peer nothing, so the per-subscriber bound alone does
 * not bound the registry); expired subscriptions are never returned and make room under every bound
 * at once. Thread-safe, one short lock, no I/O.
 *
 * <p>A subscription belongs to the subscriber's id <em>and</em> the address it was made from, as a
 * routing-table contact keeps its first address: a Subscribe or Unsubscribe claiming the id from
 * another address neither redirects, renews nor ends it (anyone can claim an id), and a Subscribe
 * from the new address is a subscription of its own; another id at the same address takes it over.
 * A key has at most one subscription per address, which the id that subscribed there last holds:
 * one node listens at an address and every push goes to it, so more ids there are no more watchers,
 * and ids made up at one address took every place of a key (and multiplied each of its pushes to
 * that address). The per-subscriber bound counts an address, whatever ids subscribed from it:
 * counted per id, a peer claiming a watcher's id from other addresses used up that watcher's room,
 * and made-up ids escaped it.
 *
 * <p>Subscriptions are indexed by the instant they lapse, so every operation first drops what has
 * lapsed in O(log n) per subscription dropped, and in O(log n) when nothing has: a Subscribe
 * refused at a bound, however often a peer sends one, never scans the registry.
 */
public final class SubscriberRegistry {

  /** The shortest subscription granted, so a renewal storm cannot be requested. */
  public static final Duration MIN_TTL = Duration.ofSeconds(1);

  /** The most subscriptions a registry holds unless told otherwise, a few megabytes. */
  public static final int DEFAULT_MAX_TOTAL = 65_536;

  private final int maxPerKey;
  private final int maxKeysPerSubscriber;
  private final int maxTotal;
  private int total;
  private final Duration maxTtl;
  private final Map<Key, Map<Address, Subscription>> byKey = new HashMap<>();
  private final Map<Address, Integer> keysPerSubscriber = new HashMap<>();
  private final TreeSet<Due> byExpiry = new TreeSet<>();

  /**
   * A subscription as the registry holds it.
   *
   * @param subscriber the watching node
   * @param expiresAt when it lapses unless renewed
   */
  public record Subscription(Contact subscriber, Instant expiresAt) {}

  /**
   * A subscription granted.
   *
   * @param ttl the time granted
   * @param renewed true when the subscription was still held and is extended, false when it is new
   *     (never held, or ended, expired or unsubscribed since)
   */
  public record Grant(Duration ttl, boolean renewed) {}

  /** When a subscription lapses, and which one it is: an entry of the expiry index. */
  private record Due(Instant at, Key key, Contact subscriber) implements Comparable<Due> {
    static Due of(Key key, Subscription s) {
      return new Due(s.expiresAt(), key, s.subscriber());
    }

    @Override
    public int compareTo(Due other) {
      int c = at.compareTo(other.at);
      if (c == 0) {
        c = key.compareTo(other.key);
      }
      if (c == 0) {
        c = subscriber.id().compareTo(other.subscriber.id());
      }
      if (c == 0) {
        c = subscriber.address().host().compareTo(other.subscriber.address().host());
      }
      return c != 0
          ? c
          : Integer.compare(subscriber.address().port(), other.subscriber.address().port());
    }
  }

  /**
   * Creates an empty registry.
   *
   * @param maxPerKey the most subscribers of one key
   * @param maxKeysPerSubscriber the most subscriptions of one subscriber address, whatever its ids
   * @param maxTtl the longest subscription granted; longer requests are shortened
   */
  public SubscriberRegistry(int maxPerKey, int maxKeysPerSubscriber, Duration maxTtl) {
    this(maxPerKey, maxKeysPerSubscriber, DEFAULT_MAX_TOTAL, maxTtl);
  }

  /**
   * Creates an empty registry with a bound on all subscriptions together.
   *
   * @param maxPerKey the most subscribers of one key
   * @param maxKeysPerSubscriber the most subscriptions of one subscriber address, whatever its ids
   * @param maxTotal the most subscriptions of all keys together
   * @param maxTtl the longest subscription granted; longer requests are shortened
   */
  public SubscriberRegistry(
      int maxPerKey, int maxKeysPerSubscriber, int maxTotal, Duration maxTtl) {
    if (maxTotal < 1) {
      throw new IllegalArgumentException("maxTotal must be at least 1 but was " + maxTotal);
    }
    this.maxTotal = maxTotal;
    if (maxPerKey < 1) {
      throw new IllegalArgumentException("maxPerKey must be at least 1 but was " + maxPerKey);
    }
    if (maxKeysPerSubscriber < 1) {
      throw new IllegalArgumentException(
          "maxKeysPerSubscriber must be at least 1 but was " + maxKeysPerSubscriber);
    }
    this.maxPerKey = maxPerKey;
    this.maxKeysPerSubscriber = maxKeysPerSubscriber;
    this.maxTtl = maxTtl.compareTo(MIN_TTL) < 0 ? MIN_TTL : maxTtl;
  }

  /**
   * Adds, renews or takes over a subscription. A Subscribe from the id holding the key's
   * subscription at its address renews it; one from another id at that address extends it and takes
   * it over (not a renewal: {@link Grant#renewed()} is false); one from the same id at another
   * address is another subscription, pushed to that address, and leaves the first as it was.
   *
   * @param key the watched key
   * @param subscriber the watching node, at the address it sent from
   * @param ttl the time asked for, clamped to [{@link #MIN_TTL}, maxTtl]
   * @param now the current instant
   * @return the time granted, or empty when a limit refuses the subscription
   */
  public Optional<Duration> subscribe(Key key, Contact subscriber, Duration ttl, Instant now) {
    return grant(key, subscriber, ttl, now).map(Grant::ttl);
  }

  /**
   * Adds or renews a subscription, as {@link #subscribe}, and says which: the subscriber learns
   * from it whether the subscription it counted on had lapsed (a push to it failed while it was cut
   * off, unnoticed), and so whether it missed pushes.
   *
   * @param key the watched key
   * @param subscriber the watching node, at the address it sent from
   * @param ttl the time asked for, clamped to [{@link #MIN_TTL}, maxTtl]
   * @param now the current instant
   * @return the time granted and whether a live subscription was renewed, or empty when a limit
   *     refuses the subscription
   */
  public synchronized Optional<Grant> grant(
      Key key, Contact subscriber, Duration ttl, Instant now) {
    Duration granted =
        ttl.compareTo(MIN_TTL) < 0 ? MIN_TTL : ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
    expire(now);
    Address at = subscriber.address();
    Map<Address, Subscription> subs = byKey.get(key);
    Subscription held = subs == null ? null : subs.get(at);
    if (held == null) {
      if (total >= maxTotal
          || (subs != null && subs.size() >= maxPerKey)
          || keysPerSubscriber.getOrDefault(at, 0) >= maxKeysPerSubscriber) {
        return Optional.empty();
      }
      if (subs == null) {
        subs = new LinkedHashMap<>();
        byKey.put(key, subs);
      }
      keysPerSubscriber.merge(at, 1, Integer::sum);
      total++;
    } else {
      // Another id at the address takes the subscription over: one node listens there, the one
      // that asked last (a node restarted there with a new id), and pushes go to the address.
      byExpiry.remove(Due.of(key, held));
    }
    Subscription renewed = new Subscription(subscriber, now.plus(granted));
    subs.put(at, renewed);
    byExpiry.add(Due.of(key, renewed));
    return Optional.of(new Grant(granted, held != null && held.subscriber().equals(subscriber)));
  }

  /**
   * Ends the subscription made from {@code subscriber}'s address; one of the same id at another
   * address stays (anyone can claim an id, so an Unsubscribe speaks only for where it came from).
   *
   * @param key the watched key
   * @param subscriber the watching node, at the address it sent from
   * @return true when there was one
   */
  public synchronized boolean unsubscribe(Key key, Contact subscriber) {
    Map<Address, Subscription> subs = byKey.get(key);
    Subscription held = subs == null ? null : subs.get(subscriber.address());
    if (held == null || !held.subscriber().equals(subscriber)) {
      return false;
    }
    subs.remove(subscriber.address());
    byExpiry.remove(Due.of(key, held));
    release(subscriber);
    if (subs.isEmpty()) {
      byKey.remove(key);
    }
    return true;
  }

  /**
   * Ends one subscription, unless it was renewed since it was read: a push refused or failed ends
   * the subscription it was sent under, not a renewal that arrived while the push travelled (that
   * renewal is newer than whatever the push's answer says).
   *
   * @param key the watched key
   * @param subscription a subscription {@link #subscriptions} returned; compared by identity, so a
   *     renewal, even to the same instant, is never this subscription
   * @return true when it was still held, and is now ended
   */
  public synchronized boolean end(Key key, Subscription subscription) {
    Map<Address, Subscription> subs = byKey.get(key);
    Contact subscriber = subscription.subscriber();
    if (subs == null || subs.get(subscriber.address()) != subscription) {
      return false;
    }
    subs.remove(subscriber.address());
    byExpiry.remove(Due.of(key, subscription));
    release(subscriber);
    if (subs.isEmpty()) {
      byKey.remove(key);
    }
    return true;
  }

  /**
   * The live subscriptions of {@code key}.
   *
   * @param key the key
   * @param now the current instant
   * @return the subscriptions that have not lapsed
   */
  public synchronized List<Subscription> subscriptions(Key key, Instant now) {
    expire(now);
    Map<Address, Subscription> subs = byKey.get(key);
    return subs == null ? List.of() : List.copyOf(subs.values());
  }

  /**
   * The live subscribers of {@code key}.
   *
   * @param key the key
   * @param now the current instant
   * @return the subscribers whose subscription has not lapsed
   */
  public synchronized List<Contact> subscribers(Key key, Instant now) {
    expire(now);
    Map<Address, Subscription> subs = byKey.get(key);
    if (subs == null) {
      return List.of();
    }
    List<Contact> out = new ArrayList<>(subs.size());
    for (Subscription s : subs.values()) {
      out.add(s.subscriber());
    }
    return out;
  }

  /**
   * Drops every lapsed subscription: O(log n) for each one dropped, and O(log n) when none is.
   *
   * @param now the current instant
   */
  public synchronized void expire(Instant now) {
    while (!byExpiry.isEmpty() && !now.isBefore(byExpiry.first().at())) {
      Due due = byExpiry.pollFirst();
      Map<Address, Subscription> subs = byKey.get(due.key());
      subs.remove(due.subscriber().address());
      release(due.subscriber());
      if (subs.isEmpty()) {
        byKey.remove(due.key());
      }
    }
  }

  /**
   * The number of live and lapsed-but-not-purged subscriptions.
   *
   * @return the count
   */
  public synchronized int size() {
    return total;
  }

  /**
   * Whether the expiry index, the per-subscriber counts and the total agree with the subscriptions
   * held: for tests.
   *
   * @return true when every subscription held is indexed under its expiry and counted once
   */
  synchronized boolean consistent() {
    int held = 0;
    Map<Address, Integer> perSubscriber = new HashMap<>();
    for (Map.Entry<Key, Map<Address, Subscription>> e : byKey.entrySet()) {
      if (e.getValue().isEmpty()) {
        return false;
      }
      for (Map.Entry<Address, Subscription> s : e.getValue().entrySet()) {
        if (!s.getKey().equals(s.getValue().subscriber().address())
            || !byExpiry.contains(Due.of(e.getKey(), s.getValue()))) {
          return false;
        }
        perSubscriber.merge(s.getKey(), 1, Integer::sum);
        held++;
      }
    }
    return held == total && byExpiry.size() == total && perSubscriber.equals(keysPerSubscriber);
  }

  private void release(Contact subscriber) {
    total--;
    keysPerSubscriber.computeIfPresent(subscriber.address(), (c, n) -> n <= 1 ? null : n - 1);
  }
}
