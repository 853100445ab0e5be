package dev.kad.reactor.watch;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.reactor.routing.Subnets;
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
 * key, per public IP within a key, per subscriber and in total (ids cost a peer nothing, so the
 * per-subscriber bound alone does not bound the registry); expired subscriptions are never returned
 * and make room under every bound at once. Thread-safe, one short lock, no I/O.
 *
 * <p>A subscription belongs to the subscriber's id <em>and</em> the address it was made from, as a
 * routing-table contact keeps its first address: a Subscribe or Unsubscribe claiming the id from
 * another address neither redirects, renews nor ends it (anyone can claim an id), and a Subscribe
 * from the new address is a subscription of its own; another id at the same address takes it over.
 * A key has at most one subscription per address and token, which the id that subscribed there last
 * holds: one node listens at an address and every push goes to it, so more ids there are no more
 * watchers, and ids made up at one address took every place of a key (and multiplied each of its
 * pushes to that address).
 *
 * <p>A host can claim any port of its own, even with the TCP transport's sender check on, so the
 * registry counts a public address by its IP, as the routing table's {@code maxPerIp} does ({@link
 * Subnets#limitedIp}: one IPv4 address, or one IPv6 /64, whatever its ports): one such IP holds at
 * most {@code max(1, maxPerKey / 4)} places of a key ({@link Bound#PER_IP_PER_KEY}), and the
 * per-subscriber bound counts its subscriptions from all its ports together. Counted per address,
 * 64 made-up ports of one host took every place of a key (64 by default), and 64 ports times 1024
 * keys the whole registry. A loopback, private, carrier-grade NAT, link-local or unique-local
 * address, or a host name, is exempt as there: the per-subscriber bound counts it per address (host
 * and port), whatever ids subscribed from it, and no per-IP share of a key applies, so local
 * clusters and the simulated network's 10.x nodes are bounded as before. Counted per id rather than
 * per address or IP, a peer claiming a watcher's id from other addresses used up that watcher's
 * room, and made-up ids escaped it.
 *
 * <p>A subscription also keeps the token it was made with ({@code Request.Subscribe#token()}, 0 for
 * none: a node of an earlier version), pushed in each of its Notifies. A key's subscriptions are
 * held per address <em>and</em> token: a Subscribe from the address with the same token renews (or
 * takes over) the subscription, one with another token is a subscription of its own, so that nobody
 * claiming the watcher's address without its token can take over, re-token or end its subscription.
 * A third party's subscription made in the watcher's name ends at its first push, which the watcher
 * refuses (it never issued that token). One address holds at most {@link #MAX_PER_ADDRESS_PER_KEY}
 * subscriptions of a key: enough for a watcher that restarted at its address and subscribes with a
 * fresh token while its old subscription lives, and few enough that tokens made up in an address's
 * name do not multiply each push to it, as ids made up at one address once did. An Unsubscribe ends
 * only the subscription of its token.
 *
 * <p>A Subscribe refused at any bound while its address holds subscriptions of the key with other
 * tokens names them for a probe ({@link #probes}): the storage node pushes each an empty Notify
 * with its token, and the watcher there refuses one it no longer holds (a lost Unsubscribe, a
 * restart), which ends it. So a stale subscription holds a watcher's place for a retry, not for its
 * TTL. Each subscription is probed at most once per {@link #PROBE_INTERVAL}, counted from its
 * making too, so Subscribes claiming an address, whatever their tokens, make this node probe at
 * most {@link #MAX_PER_ADDRESS_PER_KEY} subscriptions of a key there per interval.
 *
 * <p>Subscriptions are indexed by the instant they lapse, so every operation first drops what has
 * lapsed in O(log n) per subscription dropped, and in O(log n) when nothing has: a Subscribe
 * refused at a bound, however often a peer sends one, never scans the registry. Each key keeps a
 * count per public IP beside its subscriptions, so the per-IP share is checked without scanning the
 * key either.
 */
public final class SubscriberRegistry {

  /** The shortest subscription granted, so a renewal storm cannot be requested. */
  public static final Duration MIN_TTL = Duration.ofSeconds(1);

  /**
   * The most subscriptions of one key from one address, with different tokens: a watcher's current
   * one and one it made before restarting at the address, say.
   */
  public static final int MAX_PER_ADDRESS_PER_KEY = 2;

  /**
   * The least time between two probes of one subscription, and between its making and its first
   * probe (see {@link #probes}).
   */
  public static final Duration PROBE_INTERVAL = Duration.ofSeconds(1);

  /** The most subscriptions a registry holds unless told otherwise, a few megabytes. */
  public static final int DEFAULT_MAX_TOTAL = 65_536;

  private final int maxPerKey;
  private final int maxPerIpPerKey;
  private final int maxKeysPerSubscriber;
  private final int maxTotal;
  private int total;
  private final Duration maxTtl;
  private final Map<Key, Held> byKey = new HashMap<>();

  /**
   * Subscriptions per subscriber, keyed by {@link #subscriberOf}: a public IP's key ({@link
   * Subnets#limitedIp}, a String) or an exempt {@link Address}, which are never equal.
   */
  private final Map<Object, Integer> keysPerSubscriber = new HashMap<>();

  private final TreeSet<Due> byExpiry = new TreeSet<>();

  /** Where a subscription's pushes go and the token they carry: one subscription of a key each. */
  private record Slot(Address at, long token) {}

  /**
   * The subscriptions of one key, one per address and token, how many of them each public IP holds,
   * the tokens each address holds them with (at most {@link #MAX_PER_ADDRESS_PER_KEY}), and when
   * each was last probed or, if never, made.
   */
  private static final class Held {
    final Map<Slot, Subscription> subs = new LinkedHashMap<>();
    final Map<String, Integer> perIp = new HashMap<>();
    final Map<Address, List<Long>> tokensAt = new HashMap<>();
    final Map<Slot, Instant> probed = new HashMap<>();

    /**
     * Counts a new subscription at {@code slot}, of {@code ip} ({@link Subnets#limitedIp}, or
     * null), made {@code now}.
     */
    void add(Slot slot, String ip, Instant now) {
      if (ip != null) {
        perIp.merge(ip, 1, Integer::sum);
      }
      tokensAt
          .computeIfAbsent(slot.at(), a -> new ArrayList<>(MAX_PER_ADDRESS_PER_KEY))
          .add(slot.token());
      probed.put(slot, now);
    }

    void remove(Slot slot, String ip) {
      subs.remove(slot);
      probed.remove(slot);
      if (ip != null) {
        perIp.computeIfPresent(ip, (k, n) -> n <= 1 ? null : n - 1);
      }
      tokensAt.computeIfPresent(
          slot.at(),
          (k, tokens) -> {
            tokens.remove(Long.valueOf(slot.token()));
            return tokens.isEmpty() ? null : tokens;
          });
    }

    /** How many subscriptions of the key {@code at} holds. */
    int at(Address at) {
      List<Long> tokens = tokensAt.get(at);
      return tokens == null ? 0 : tokens.size();
    }
  }

  /**
   * A subscription as the registry holds it.
   *
   * @param subscriber the watching node
   * @param expiresAt when it lapses unless renewed
   * @param token the token it was made with, pushed in its Notifies; 0 for none
   */
  public record Subscription(Contact subscriber, Instant expiresAt, long token) {

    /**
     * A subscription made without a token.
     *
     * @param subscriber the watching node
     * @param expiresAt when it lapses unless renewed
     */
    public Subscription(Contact subscriber, Instant expiresAt) {
      this(subscriber, expiresAt, 0);
    }

    private Slot slot() {
      return new Slot(subscriber.address(), token);
    }
  }

  /**
   * A subscription granted.
   *
   * @param ttl the time granted
   * @param renewed true when the subscription was still held and is extended, false when it is new
   *     (never held, or ended, expired or unsubscribed since)
   */
  public record Grant(Duration ttl, boolean renewed) implements Answer {}

  /** What a Subscribe is answered with: a {@link Grant} or a {@link Refusal}. */
  public sealed interface Answer permits Grant, Refusal {}

  /**
   * A Subscribe refused at a bound; the subscriber may ask again later, when room is made.
   *
   * @param bound the bound that refused it
   * @param limit that bound's value
   */
  public record Refusal(Bound bound, int limit) implements Answer {}

  /** The bound that refused a new subscription, checked in this order. */
  public enum Bound {
    /** The registry holds its most subscriptions of all keys together. */
    TOTAL,
    /** The key has its most subscribers ({@code maxSubscribersPerKey}). */
    PER_KEY,
    /**
     * The subscriber's public IP (an IPv4 address or an IPv6 /64) holds its share of the key's
     * places, {@code max(1, maxSubscribersPerKey / 4)}, from other ports.
     */
    PER_IP_PER_KEY,
    /**
     * The subscriber's address holds {@link #MAX_PER_ADDRESS_PER_KEY} subscriptions of the key with
     * other tokens.
     */
    PER_ADDRESS_PER_KEY,
    /**
     * The subscriber holds its most subscriptions ({@code maxSubscriptionsPerPeer}): those of its
     * public IP from every port, or of its address when that is exempt (private, loopback).
     */
    PER_SUBSCRIBER
  }

  /** When a subscription lapses, and which one it is: an entry of the expiry index. */
  private record Due(Instant at, Key key, Contact subscriber, long token)
      implements Comparable<Due> {
    static Due of(Key key, Subscription s) {
      return new Due(s.expiresAt(), key, s.subscriber(), s.token());
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
      if (c == 0) {
        c = Integer.compare(subscriber.address().port(), other.subscriber.address().port());
      }
      return c != 0 ? c : Long.compare(token, other.token);
    }
  }

  /**
   * Creates an empty registry.
   *
   * @param maxPerKey the most subscribers of one key; one public IP holds at most {@code max(1,
   *     maxPerKey / 4)} of them
   * @param maxKeysPerSubscriber the most subscriptions of one public IP from all its ports, or of
   *     one exempt (private, loopback) address, whatever their ids
   * @param maxTtl the longest subscription granted; longer requests are shortened
   */
  public SubscriberRegistry(int maxPerKey, int maxKeysPerSubscriber, Duration maxTtl) {
    this(maxPerKey, maxKeysPerSubscriber, DEFAULT_MAX_TOTAL, maxTtl);
  }

  /**
   * Creates an empty registry with a bound on all subscriptions together.
   *
   * @param maxPerKey the most subscribers of one key; one public IP holds at most {@code max(1,
   *     maxPerKey / 4)} of them
   * @param maxKeysPerSubscriber the most subscriptions of one public IP from all its ports, or of
   *     one exempt (private, loopback) address, whatever their ids
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
    this.maxPerIpPerKey = Math.max(1, maxPerKey / 4);
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
   * Adds or renews a subscription without a token, as {@link #answer(Key, Contact, Duration,
   * Instant, long)} with token 0.
   *
   * @param key the watched key
   * @param subscriber the watching node, at the address it sent from
   * @param ttl the time asked for, clamped to [{@link #MIN_TTL}, maxTtl]
   * @param now the current instant
   * @return the grant, or the refusal and the bound that made it
   */
  public Answer answer(Key key, Contact subscriber, Duration ttl, Instant now) {
    return answer(key, subscriber, ttl, now, 0);
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
  public Optional<Grant> grant(Key key, Contact subscriber, Duration ttl, Instant now) {
    return answer(key, subscriber, ttl, now, 0) instanceof Grant g
        ? Optional.of(g)
        : Optional.empty();
  }

  /**
   * Adds or renews a subscription, as {@link #grant}, or says which bound refuses it. A
   * subscription still held at the subscriber's address with the same token is always renewed (or
   * taken over by another id), whatever the bounds: they refuse only new ones. One with another
   * token is a new subscription beside it, which leaves it as it was.
   *
   * @param key the watched key
   * @param subscriber the watching node, at the address it sent from
   * @param ttl the time asked for, clamped to [{@link #MIN_TTL}, maxTtl]
   * @param now the current instant
   * @param token the subscription's token, pushed in its Notifies; 0 for none
   * @return the grant, or the refusal and the bound that made it
   */
  public synchronized Answer answer(
      Key key, Contact subscriber, Duration ttl, Instant now, long token) {
    Duration granted =
        ttl.compareTo(MIN_TTL) < 0 ? MIN_TTL : ttl.compareTo(maxTtl) > 0 ? maxTtl : ttl;
    expire(now);
    Address at = subscriber.address();
    Slot slot = new Slot(at, token);
    Held held = byKey.get(key);
    Subscription before = held == null ? null : held.subs.get(slot);
    if (before == null) {
      String ip = Subnets.limitedIp(at); // parsed once: the bounds and the counts all use it
      Refusal refusal = refusal(held, at, ip);
      if (refusal != null) {
        return refusal;
      }
      if (held == null) {
        held = new Held();
        byKey.put(key, held);
      }
      held.add(slot, ip, now);
      keysPerSubscriber.merge(subscriberOf(at, ip), 1, Integer::sum);
      total++;
    } else {
      // Another id at the address takes the subscription over: one node listens there, the one
      // that asked last (a node restarted there with a new id), and pushes go to the address.
      byExpiry.remove(Due.of(key, before));
    }
    Subscription renewed = new Subscription(subscriber, now.plus(granted), token);
    held.subs.put(slot, renewed);
    byExpiry.add(Due.of(key, renewed));
    return new Grant(granted, before != null && before.subscriber().equals(subscriber));
  }

  /** The bound a new subscription of {@code held}'s key from {@code at} meets, or null. */
  private Refusal refusal(Held held, Address at, String ip) {
    if (total >= maxTotal) {
      return new Refusal(Bound.TOTAL, maxTotal);
    }
    if (held != null && held.subs.size() >= maxPerKey) {
      return new Refusal(Bound.PER_KEY, maxPerKey);
    }
    if (held != null && ip != null && held.perIp.getOrDefault(ip, 0) >= maxPerIpPerKey) {
      return new Refusal(Bound.PER_IP_PER_KEY, maxPerIpPerKey);
    }
    if (held != null && held.at(at) >= MAX_PER_ADDRESS_PER_KEY) {
      return new Refusal(Bound.PER_ADDRESS_PER_KEY, MAX_PER_ADDRESS_PER_KEY);
    }
    if (keysPerSubscriber.getOrDefault(subscriberOf(at, ip), 0) >= maxKeysPerSubscriber) {
      return new Refusal(Bound.PER_SUBSCRIBER, maxKeysPerSubscriber);
    }
    return null;
  }

  /**
   * The subscriptions of {@code key} at {@code at} with other tokens than {@code token} that are
   * due a probe, marked probed {@code now}: call it when a Subscribe from {@code at} with {@code
   * token} was refused. A subscription is due once {@link #PROBE_INTERVAL} has passed since it was
   * last probed or, if never, made: each is probed at most once per interval, and one made after a
   * probe of the address waits the interval too, so Subscribes claiming {@code at} make at most
   * {@link #MAX_PER_ADDRESS_PER_KEY} of the key's subscriptions there due per interval, whatever
   * their tokens and however many come. The caller pushes each an empty Notify with its token, and
   * ends it ({@link #end}) when the push is refused: the watcher there no longer holds it.
   *
   * @param key the key a Subscribe was refused for
   * @param at the address the refused Subscribe came from
   * @param token the refused Subscribe's token
   * @param now the current instant
   * @return the subscriptions to probe, often none
   */
  public synchronized List<Subscription> probes(Key key, Address at, long token, Instant now) {
    expire(now);
    Held held = byKey.get(key);
    List<Long> tokens = held == null ? null : held.tokensAt.get(at);
    if (tokens == null) {
      return List.of();
    }
    List<Subscription> due = new ArrayList<>(tokens.size());
    for (long t : tokens) {
      Slot slot = new Slot(at, t);
      Instant last = held.probed.get(slot);
      if (t != token && (last == null || !now.isBefore(last.plus(PROBE_INTERVAL)))) {
        held.probed.put(slot, now);
        due.add(held.subs.get(slot));
      }
    }
    return due;
  }

  /**
   * Ends the subscription made without a token from {@code subscriber}'s address, as {@link
   * #unsubscribe(Key, Contact, long)} with token 0.
   *
   * @param key the watched key
   * @param subscriber the watching node, at the address it sent from
   * @return true when there was one
   */
  public boolean unsubscribe(Key key, Contact subscriber) {
    return unsubscribe(key, subscriber, 0);
  }

  /**
   * Ends the subscription made from {@code subscriber}'s address with {@code token}; one of the
   * same id at another address stays (anyone can claim an id, so an Unsubscribe speaks only for
   * where it came from), and so does one with another token (anyone can claim an address too, but
   * only the watcher knows its token). Token 0 ends only a subscription made without one.
   *
   * @param key the watched key
   * @param subscriber the watching node, at the address it sent from
   * @param token the token of the subscription to end, or 0 for none
   * @return true when there was one
   */
  public synchronized boolean unsubscribe(Key key, Contact subscriber, long token) {
    Held held = byKey.get(key);
    Subscription subscription =
        held == null ? null : held.subs.get(new Slot(subscriber.address(), token));
    if (subscription == null || !subscription.subscriber().equals(subscriber)) {
      return false;
    }
    byExpiry.remove(Due.of(key, subscription));
    release(key, held, subscription.slot());
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
    Held held = byKey.get(key);
    Slot slot = subscription.slot();
    if (held == null || held.subs.get(slot) != subscription) {
      return false;
    }
    byExpiry.remove(Due.of(key, subscription));
    release(key, held, slot);
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
    Held held = byKey.get(key);
    return held == null ? List.of() : List.copyOf(held.subs.values());
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
    Held held = byKey.get(key);
    if (held == null) {
      return List.of();
    }
    List<Contact> out = new ArrayList<>(held.subs.size());
    for (Subscription s : held.subs.values()) {
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
      release(due.key(), byKey.get(due.key()), new Slot(due.subscriber().address(), due.token()));
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
   * Whether the expiry index, the per-subscriber and per-IP counts and the total agree with the
   * subscriptions held: for tests.
   *
   * @return true when every subscription held is indexed under its expiry and counted once
   */
  synchronized boolean consistent() {
    int held = 0;
    Map<Object, Integer> perSubscriber = new HashMap<>();
    for (Map.Entry<Key, Held> e : byKey.entrySet()) {
      Map<Slot, Subscription> subs = e.getValue().subs;
      if (subs.isEmpty()) {
        return false;
      }
      Map<String, Integer> perIp = new HashMap<>();
      Map<Address, Integer> perAddress = new HashMap<>();
      for (Map.Entry<Slot, Subscription> s : subs.entrySet()) {
        if (!s.getKey().equals(s.getValue().slot())
            || !byExpiry.contains(Due.of(e.getKey(), s.getValue()))) {
          return false;
        }
        Address at = s.getKey().at();
        List<Long> tokens = e.getValue().tokensAt.get(at);
        if (tokens == null || !tokens.contains(s.getKey().token())) {
          return false;
        }
        perSubscriber.merge(subscriberOf(at), 1, Integer::sum);
        perAddress.merge(at, 1, Integer::sum);
        String ip = Subnets.limitedIp(at);
        if (ip != null) {
          perIp.merge(ip, 1, Integer::sum);
        }
        held++;
      }
      Map<Address, Integer> tokensAt = new HashMap<>();
      e.getValue().tokensAt.forEach((at, tokens) -> tokensAt.put(at, tokens.size()));
      if (!perIp.equals(e.getValue().perIp)
          || !perAddress.equals(tokensAt)
          || !e.getValue().probed.keySet().equals(subs.keySet())) {
        return false;
      }
    }
    return held == total && byExpiry.size() == total && perSubscriber.equals(keysPerSubscriber);
  }

  /**
   * What the per-subscriber bound counts a subscription from {@code at} against: its public IP, or
   * the address itself when that is exempt from the per-IP bounds (private, loopback, a name).
   */
  private static Object subscriberOf(Address at) {
    return subscriberOf(at, Subnets.limitedIp(at));
  }

  /** {@link #subscriberOf(Address)} with {@code at}'s {@link Subnets#limitedIp} already known. */
  private static Object subscriberOf(Address at, String ip) {
    return ip != null ? ip : at;
  }

  /**
   * Removes the subscription at {@code slot} from {@code key}'s, already out of the expiry index.
   */
  private void release(Key key, Held held, Slot slot) {
    Address at = slot.at();
    String ip = Subnets.limitedIp(at);
    held.remove(slot, ip);
    if (held.subs.isEmpty()) {
      byKey.remove(key);
    }
    total--;
    keysPerSubscriber.computeIfPresent(subscriberOf(at, ip), (c, n) -> n <= 1 ? null : n - 1);
  }
}
