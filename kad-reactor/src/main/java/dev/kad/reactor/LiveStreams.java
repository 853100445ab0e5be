package dev.kad.reactor;

import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.reactor.watch.WatchSession;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The live streams of one node (DESIGN, Live value streams): the watcher side (subscribing at a
 * key's k closest nodes, renewing, de-duplicating) and the storage side's push of {@code Notify} to
 * subscribers when a store changes a key.
 */
final class LiveStreams {

  private static final Logger log = LoggerFactory.getLogger(LiveStreams.class);

  /** The shortest subscription TTL a watch takes from a node, so renewals stay sparse. */
  private static final Duration MIN_TTL = Duration.ofSeconds(1);

  private final DefaultKadNode node;
  private final Map<Key, Set<WatchSession>> watches = new ConcurrentHashMap<>();

  LiveStreams(DefaultKadNode node) {
    this.node = node;
  }

  Flux<Value> watch(Key key) {
    return Flux.defer(
        () -> {
          if (node.isClosed()) {
            return Flux.error(node.closedError());
          }
          WatchSession session =
              new WatchSession(
                  key, 4 * node.config().maxValuesPerKey(), node.config().subscriptionTtl());
          Flux<Value> values =
              Flux.create(
                  sink -> {
                    watches.computeIfAbsent(key, k -> ConcurrentHashMap.newKeySet()).add(session);
                    session.attach(sink);
                    if (node.isClosed()) {
                      // close() may have ended every watch just before this one was added.
                      session.error(node.closedError());
                    }
                  });
          // Subscribe first, then read the current values, so a store between the two is
          // seen either way; then keep the subscriptions up: renewed at half the shortest TTL
          // granted, at once when a subscribed node fails. Each wait is measured after the
          // resubscription before it, so a shorter grant takes effect at the next renewal, not
          // one renewal late (a wait started before the grant let the subscription lapse).
          Mono<Void> nextRenewal =
              Mono.defer(
                  () ->
                      Mono.firstWithSignal(
                          Mono.delay(session.renewal(), node.scheduler()).then(),
                          session.kicks().next().then()));
          Flux<Value> upkeep =
              resubscribe(session)
                  .then(node.values(key, Integer.MAX_VALUE).collectList())
                  .doOnNext(session::offer)
                  .then(nextRenewal.then(Mono.defer(() -> resubscribe(session))).repeat().then())
                  .thenMany(Flux.empty());
          return Flux.merge(values, upkeep).doFinally(signal -> endWatch(session));
        });
  }

  /** Subscribes at the key's current k closest nodes and drops the ones that left the set. */
  private Mono<Void> resubscribe(WatchSession session) {
    Key key = session.key();
    return node.findNode(key.asNodeId())
        .flatMap(
            closest -> {
              Duration ttl = node.config().subscriptionTtl();
              Request.Subscribe subscribe = new Request.Subscribe(node.contact(), key, ttl);
              List<Contact> before = List.copyOf(session.subscribedAt());
              // Welcome their pushes from now: one may come before its node's answer does.
              session.subscribedAt().addAll(closest);
              Map<Contact, Duration> accepted = new ConcurrentHashMap<>();
              return Flux.fromIterable(closest)
                  .flatMap(
                      c ->
                          node.call(c, subscribe)
                              .ofType(Response.Subscribed.class)
                              .doOnNext(r -> accepted.put(c, r.ttl()))
                              .onErrorResume(e -> Mono.empty()),
                      node.config().k())
                  .then(
                      Mono.<Void>fromRunnable(
                          () -> {
                            session.subscribedAt().retainAll(accepted.keySet());
                            for (Contact c : before) {
                              if (!accepted.containsKey(c) && !subscribedByOthers(session, c)) {
                                node.submit(unsubscribe(c, key));
                              }
                            }
                            // A node may grant less than asked, never less than a second.
                            Duration shortest = ttl;
                            for (Duration granted : accepted.values()) {
                              if (granted.compareTo(shortest) < 0) {
                                shortest = granted;
                              }
                            }
                            session.granted(max(shortest, MIN_TTL));
                          }));
            })
        .onErrorResume(
            e -> {
              log.debug(
                  "node={} watch of {} could not resubscribe: {}",
                  node.id().toShortHex(),
                  key.toShortHex(),
                  e.toString());
              return Mono.empty();
            });
  }

  private Mono<Void> unsubscribe(Contact at, Key key) {
    return node.call(at, new Request.Unsubscribe(node.contact(), key))
        .onErrorResume(e -> Mono.empty())
        .then();
  }

  private void endWatch(WatchSession session) {
    Key key = session.key();
    watches.computeIfPresent(
        key,
        (k, sessions) -> {
          sessions.remove(session);
          return sessions.isEmpty() ? null : sessions;
        });
    if (!node.isClosed()) {
      for (Contact c : List.copyOf(session.subscribedAt())) {
        if (!subscribedByOthers(session, c)) {
          node.submit(unsubscribe(c, key));
        }
      }
    }
    session.subscribedAt().clear();
  }

  /**
   * Whether another watch of the session's key on this node is subscribed at {@code at}. A storage
   * node keeps one subscription per key and subscribing node, shared by this node's watches of the
   * key: only the last of them to leave a node may unsubscribe there, and each must unsubscribe
   * from the nodes no other watch uses (skipping every Unsubscribe while any other watch of the key
   * was open left those nodes pushing until the TTL ran out).
   */
  private boolean subscribedByOthers(WatchSession session, Contact at) {
    Set<WatchSession> sessions = watches.get(session.key());
    if (sessions != null) {
      for (WatchSession other : sessions) {
        if (other != session && other.subscribedAt().contains(at)) {
          return true;
        }
      }
    }
    return false;
  }

  /** Values of {@code key} changed here: local watchers see them, remote subscribers are told. */
  void stored(Key key, List<Value> changed) {
    deliver(key, changed);
    for (Contact subscriber : node.subscribers().subscribers(key, node.clock().instant())) {
      node.push(
          node.call(subscriber, new Request.Notify(node.contact(), key, changed))
              .then()
              .onErrorResume(
                  e -> {
                    // A subscriber that does not take its push loses the subscription; a live
                    // watcher subscribes again at its next renewal.
                    node.subscribers().unsubscribe(key, subscriber.id());
                    return Mono.empty();
                  }));
    }
  }

  void deliver(Key key, List<Value> values) {
    Set<WatchSession> sessions = watches.get(key);
    if (sessions != null) {
      for (WatchSession session : sessions) {
        session.offer(values);
      }
    }
  }

  /**
   * A node pushed values: only the watches that subscribed there see them, and only the values
   * whose signature, if any, verifies. A push from anyone else is dropped.
   */
  void notified(Request.Notify notify) {
    Set<WatchSession> sessions = watches.get(notify.key());
    if (sessions == null) {
      return;
    }
    List<Value> genuine = null;
    for (WatchSession session : sessions) {
      if (!session.subscribedAt(notify.sender().id())) {
        log.debug(
            "node={} dropped a push for {} from {}, not subscribed there",
            node.id().toShortHex(),
            notify.key().toShortHex(),
            notify.sender());
        continue;
      }
      if (genuine == null) {
        genuine = new ArrayList<>(notify.values().size());
        for (Value v : notify.values()) {
          if (!v.isSigned() || v.verifySignature(notify.key())) {
            genuine.add(v);
          }
        }
      }
      session.offer(genuine);
    }
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  void kick(Contact failed) {
    for (Set<WatchSession> sessions : watches.values()) {
      for (WatchSession session : sessions) {
        if (session.subscribedAt().contains(failed)) {
          session.kick();
        }
      }
    }
  }

  /** The watch streams open now. */
  int active() {
    int active = 0;
    for (Set<WatchSession> sessions : watches.values()) {
      active += sessions.size();
    }
    return active;
  }

  /**
   * The Unsubscribes a closing node owes: one per key and node its watches are subscribed at, so
   * storage nodes stop pushing to it at once instead of after a failed push or the TTL. Subscribing
   * sends them all at once; errors are ignored. Take it before {@link #endAll}, which forgets them.
   */
  Mono<Void> farewell() {
    List<Mono<Void>> goodbyes = new ArrayList<>();
    watches.forEach(
        (key, sessions) -> {
          Set<Contact> at = new HashSet<>();
          sessions.forEach(s -> at.addAll(s.subscribedAt()));
          at.forEach(c -> goodbyes.add(unsubscribe(c, key)));
        });
    return Flux.merge(goodbyes).then();
  }

  /** Ends every watch with {@code error}: the node is closing. */
  void endAll(Throwable error) {
    watches.values().forEach(sessions -> sessions.forEach(w -> w.error(error)));
    watches.clear();
  }
}
