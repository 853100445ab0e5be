package dev.kad.reactor.watch;

import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The storage side of live streams: which nodes subscribed to which keys, until when. Bounded per
 * key, per subscriber and in total (ids cost a peer nothing, so the per-subscriber bound alone does
 * not bound the registry); expired subscriptions are never returned and make room under every bound
 * at once. Thread-safe, one short lock, no I/O.
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
  private final Map<Key, Map<NodeId, Subscription>> byKey = new HashMap<>();
  private final Map<NodeId, Integer> keysPerSubscriber = new HashMap<>();

  /**
   * A subscription as the registry holds it.
   *
   * @param subscriber the watching node
   * @param expiresAt when it lapses unless renewed
   */
  public record Subscription(Contact subscriber, Instant expiresAt) {}

  /**
   * Creates an empty registry.
   *
   * @param maxPerKey the most subscribers of one key
   * @param maxKeysPerSubscriber the most keys one node may watch here
   * @param maxTtl the longest subscription granted; longer requests are shortened
   */
  public SubscriberRegistry(int maxPerKey, int maxKeysPerSubscriber, Duration maxTtl) {
    this(maxPerKey, maxKeysPerSubscriber, DEFAULT_MAX_TOTAL, maxTtl);
  }

  /**
   * Creates an empty registry with a bound on all subscriptions together.
   *
   * @param maxPerKey the most subscribers of one key
   * @param maxKeysPerSubscriber the most keys one node may watch here
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
   * Adds or renews a subscription.
   *
   * @param key the watched key
   * @param subscriber the watching node
   * @param ttl the time asked for, clamped to [{@link #MIN_TTL}, maxTtl]
   * @param now the current instant
   * @return the time granted, or empty when a limit refuses the subscription
   */
  public synchronized Optional<Duration> subscribe(
      Key key, Contact subscriber, Duration ttl, Instant now) {
    Duration granted =
        ttl.compareTo(MIN_TTL) < 0 ? MIN_TTL : ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
    Map<NodeId, Subscription> subs = byKey.computeIfAbsent(key, k -> new LinkedHashMap<>());
    purge(subs, now);
    NodeId id = subscriber.id();
    if (!subs.containsKey(id)) {
      if (total >= maxTotal || keysPerSubscriber.getOrDefault(id, 0) >= maxKeysPerSubscriber) {
        // At a bound: lapsed subscriptions of other keys are only purged when their key is read,
        // and must not count against the total or against their subscriber.
        expire(now);
        subs = byKey.computeIfAbsent(key, k -> new LinkedHashMap<>());
      }
      if (total >= maxTotal
          || subs.size() >= maxPerKey
          || keysPerSubscriber.getOrDefault(id, 0) >= maxKeysPerSubscriber) {
        if (subs.isEmpty()) {
          byKey.remove(key);
        }
        return Optional.empty();
      }
      keysPerSubscriber.merge(id, 1, Integer::sum);
      total++;
    }
    subs.put(id, new Subscription(subscriber, now.plus(granted)));
    return Optional.of(granted);
  }

  /**
   * Ends a subscription.
   *
   * @param key the watched key
   * @param subscriber the watching node's id
   * @return true when there was one
   */
  public synchronized boolean unsubscribe(Key key, NodeId subscriber) {
    Map<NodeId, Subscription> subs = byKey.get(key);
    if (subs == null || subs.remove(subscriber) == null) {
      return false;
    }
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
    Map<NodeId, Subscription> subs = byKey.get(key);
    NodeId id = subscription.subscriber().id();
    if (subs == null || subs.get(id) != subscription) {
      return false;
    }
    subs.remove(id);
    release(id);
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
    Map<NodeId, Subscription> subs = byKey.get(key);
    if (subs == null) {
      return List.of();
    }
    purge(subs, now);
    if (subs.isEmpty()) {
      byKey.remove(key);
    }
    return List.copyOf(subs.values());
  }

  /**
   * The live subscribers of {@code key}.
   *
   * @param key the key
   * @param now the current instant
   * @return the subscribers whose subscription has not lapsed
   */
  public synchronized List<Contact> subscribers(Key key, Instant now) {
    Map<NodeId, Subscription> subs = byKey.get(key);
    if (subs == null) {
      return List.of();
    }
    purge(subs, now);
    List<Contact> out = new ArrayList<>(subs.size());
    for (Subscription s : subs.values()) {
      out.add(s.subscriber());
    }
    if (subs.isEmpty()) {
      byKey.remove(key);
    }
    return out;
  }

  /**
   * Drops every lapsed subscription.
   *
   * @param now the current instant
   */
  public synchronized void expire(Instant now) {
    Iterator<Map<NodeId, Subscription>> it = byKey.values().iterator();
    while (it.hasNext()) {
      Map<NodeId, Subscription> subs = it.next();
      purge(subs, now);
      if (subs.isEmpty()) {
        it.remove();
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

  private void purge(Map<NodeId, Subscription> subs, Instant now) {
    Iterator<Subscription> it = subs.values().iterator();
    while (it.hasNext()) {
      Subscription s = it.next();
      if (!now.isBefore(s.expiresAt())) {
        it.remove();
        release(s.subscriber().id());
      }
    }
  }

  private void release(NodeId subscriber) {
    total--;
    keysPerSubscriber.computeIfPresent(subscriber, (id, n) -> n <= 1 ? null : n - 1);
  }
}
