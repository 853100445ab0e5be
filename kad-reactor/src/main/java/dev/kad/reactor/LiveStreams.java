package dev.kad.reactor;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.Value;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.reactor.watch.SubscriberRegistry;
import dev.kad.reactor.watch.WatchSession;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Signal;
import reactor.util.retry.Retry;

/**
 * The live streams of one node (DESIGN, Live value streams): the watcher side (subscribing at a
 * key's k closest nodes, renewing, de-duplicating) and the storage side's push of {@code Notify} to
 * subscribers when a store changes a key.
 *
 * <p>Per key and storage node, this node sends an Unsubscribe only once its Subscribes sent there
 * before have been answered or have failed, and a Subscribe only once its Unsubscribes have (see
 * {@code exchange}), so the network cannot reorder them: a watch that ends while its Subscribes
 * travel unsubscribes after their answers.
 *
 * <p>A watch that ends, or whose node starts closing, sends no Subscribe from then on: each is
 * checked when it joins its link's turn and again when its turn comes ({@link #open}). Every
 * Unsubscribe a watch owes is sent, even when its node closes just after: a closing node sends (for
 * at most its soft timeout, see {@link #farewell}) those of its open watches and those queued and
 * not yet settled ({@link #owed}), as {@code close()} drops the queue.
 */
final class LiveStreams {

  private static final Logger log = LoggerFactory.getLogger(LiveStreams.class);

  private final DefaultKadNode node;
  private final Map<Key, Set<WatchSession>> watches = new ConcurrentHashMap<>();

  /**
   * A key and the address of a node that may hold a subscription of it: their exchanges are kept in
   * order. By address, as the storage node acts on whoever serves it and the Unsubscribe check
   * ({@link #watched}) matches by address: keyed by id, an Unsubscribe owed to a stale contact and
   * a Subscribe to the node restarted at its address under a new id were not ordered.
   */
  private record Link(Key key, Address node) {}

  /**
   * Consecutive exchanges of one kind, Subscribes or Unsubscribes, on one link. They travel
   * together, as the order among them does not matter; the turn of the other kind that follows
   * waits until every one of them has settled. {@code open} is only touched inside {@code
   * turns.compute} on the link.
   */
  private static final class Turn {
    final boolean subscribe;
    final Mono<Void> after;
    final CompletableFuture<Void> settled = new CompletableFuture<>();
    int open;

    Turn(boolean subscribe, Mono<Void> after) {
      this.subscribe = subscribe;
      this.after = after;
    }
  }

  /**
   * The last turn of each link with an exchange in flight. A turn leaves when its last exchange
   * settles, so the map holds no more than the links with exchanges in flight.
   */
  private final Map<Link, Turn> turns = new ConcurrentHashMap<>();

  /**
   * An Unsubscribe of {@code key} owed to {@code at}, with the token of the subscription it ends
   * (null for none), the same object as the subscription's, so that an answer echoing it after the
   * Unsubscribe was owed (a Subscribe still in flight) is seen when the Unsubscribe's turn comes.
   */
  private record Owed(Key key, Contact at, Token held) {
    /** The token the Unsubscribe carries, 0 for none. */
    long token() {
      return held == null ? 0 : held.value;
    }

    /**
     * Whether {@code at} echoed the token: it holds the subscription by it, so an Unsubscribe with
     * it ends that one alone.
     */
    boolean echoed() {
      return held != null && held.held;
    }
  }

  /**
   * The secret of this node's subscription of a key at one storage node (see {@code
   * Request.Subscribe#token()}), shared by the node's watches of the key as the subscription is.
   * {@code held} is set when the storage node's {@code Subscribed} echoed it: from then on a push
   * claimed from that node is taken only with it. A node that did not echo it (an earlier version)
   * is pushed to as before, without a token; a push with another token is refused either way (see
   * {@code foreign}).
   */
  private static final class Token {
    final long value;
    volatile boolean held;

    /** Whether a push without this token was refused and said so: said once per token. */
    final AtomicBoolean refusedOne = new AtomicBoolean();

    Token(long value) {
      this.value = value;
    }
  }

  /**
   * The tokens of this node's subscriptions, per key and storage node. A key's go when its last
   * watch ends (the Unsubscribes owed then carry theirs), a storage node's when an Unsubscribe is
   * sent there; a new watch draws new ones, whose subscriptions sit beside any old one a lost
   * Unsubscribe left, and the old one ends at its first push, refused for its stale token, or at
   * the probe a storage node sends it when it refuses a Subscribe for want of room (see {@link
   * SubscriberRegistry#probes}).
   */
  private final Map<Key, Map<Contact, Token>> tokens = new ConcurrentHashMap<>();

  /**
   * The Unsubscribes owed by ended watches and dropped nodes, from before they are queued until
   * they settle, each with how many times it is owed. Cancelled with the queue by {@code close()},
   * they stay here, and {@link #farewell} sends them: the queue dropped them, and the storage nodes
   * kept the subscriptions of watches cancelled just before a close until their TTL ran out.
   */
  private final Map<Owed, Integer> owed = new ConcurrentHashMap<>();

  LiveStreams(DefaultKadNode node) {
    this.node = node;
  }

  /** The token of this node's subscription of {@code key} at {@code at}, drawn when first asked. */
  private Token token(Key key, Contact at) {
    return tokens
        .computeIfAbsent(key, k -> new ConcurrentHashMap<>())
        .computeIfAbsent(at, c -> new Token(node.subscriptionToken()));
  }

  /** The token of this node's subscription of {@code key} at {@code at}, or null. */
  private Token knownToken(Key key, Contact at) {
    Map<Contact, Token> of = tokens.get(key);
    return of == null ? null : of.get(at);
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
          // Joined before the upkeep starts, so a push that overtakes a Subscribe's answer is
          // taken (and buffered until the sink attaches). Joined inside compute: after
          // computeIfAbsent returned, a session could join a set that the end of the key's last
          // other watch had just dropped from the map, and never see a value.
          watches.compute(
              key,
              (k, sessions) -> {
                Set<WatchSession> joined =
                    sessions == null ? ConcurrentHashMap.newKeySet() : sessions;
                joined.add(session);
                return joined;
              });
          Flux<Value> values =
              Flux.create(
                  sink -> {
                    session.attach(sink);
                    if (node.isClosed()) {
                      // close() may have ended every watch just before this one joined.
                      session.error(node.closedError());
                    }
                  });
          // Subscribe first, then read the current values, so a store between the two is
          // seen either way; then keep the subscriptions up: renewed at half the shortest TTL
          // granted, at once when a subscribed node fails, and within seconds (with back-off)
          // after a round no node granted. Each wait is measured after the resubscription
          // before it, so a shorter grant takes effect at the next renewal, not one renewal
          // late (a wait started before the grant let the subscription lapse). A round whose
          // nodes are all new to the watch (after one that left it subscribed nowhere, or
          // when every node it was subscribed at is gone), or in which a node it counted
          // itself subscribed at answers that the subscription is new (it had lapsed, e.g.
          // ended by a push that failed while this node was silently cut off), reads the
          // current values again: stores made meanwhile may have been pushed to nobody. So does
          // a round that the key's nodes answered and none granted: the watch polls at its
          // retries until one does.
          // Listening for kicks first, then taking one that came during the round before:
          // a kick in between is seen either way.
          Mono<Void> nextRenewal =
              Mono.defer(
                  () ->
                      Mono.firstWithSignal(
                          Mono.delay(session.renewal(), node.scheduler()).then(),
                          session.kicks().next().doOnNext(k -> session.takeKick()).then(),
                          Mono.defer(() -> session.takeKick() ? Mono.empty() : Mono.never())));
          Mono<Void> readValues =
              node.values(key, Integer.MAX_VALUE).collectList().doOnNext(session::offer).then();
          // The first round also reads beside its subscriptions, each value as it arrives: a
          // round waits for its slowest storage node (a hung one costs a hard timeout in the
          // lookup and another in its Subscribe), and the values held, this node's own first,
          // should not wait for it. The read after the round stays, for a store made between
          // this read and a Subscribe's arrival.
          Mono<Void> readEarly =
              node.values(key, Integer.MAX_VALUE).doOnNext(v -> session.offer(List.of(v))).then();
          Mono<Void> upkeep =
              Mono.when(readEarly, resubscribe(session).then(readValues))
                  .then(
                      nextRenewal
                          .then(Mono.defer(() -> resubscribe(session)))
                          .filter(Boolean::booleanValue)
                          .flatMap(recovered -> readValues)
                          .repeat()
                          .then());
          // The upkeep runs beside the values, which pass straight through with the subscriber's
          // own demand: merged with it, they were prefetched 32 at a time past the session's
          // buffer, so a slow subscriber got up to 32 stale values of an identity, not its latest.
          // Only an error of the upkeep ends the watch.
          return values
              .takeUntilOther(upkeep.then(Mono.never()))
              .doFinally(signal -> endWatch(session));
        });
  }

  /**
   * Subscribes at the key's current k closest nodes and drops the ones that left the set.
   *
   * @return whether the current values should be read: the nodes that granted a subscription are
   *     all new to the watch (none of them pushed to it before this round), one it counted itself
   *     subscribed at granted a new subscription (the one it held had lapsed), an outage was
   *     detected since the last read, or the lookup found the key's nodes and none granted (the
   *     watch polls: no node will push to it, so it reads at each retry round instead; before, a
   *     watch refused at every node, as a gateway watching more keys than the storage nodes' {@code
   *     maxSubscriptionsPerPeer} is in a small network, saw its current values and then nothing
   *     however they changed)
   */
  private Mono<Boolean> resubscribe(WatchSession session) {
    Key key = session.key();
    return node.findNode(key.asNodeId())
        .flatMap(
            closest -> {
              Duration ttl = node.config().subscriptionTtl();
              Contact me = node.contact();
              List<Contact> before = List.copyOf(session.subscribedAt());
              // Asking first: a kick for one of them in between would start a needless round.
              session.asking().addAll(closest);
              // Welcome their pushes from now: one may come before its node's answer does.
              session.subscribedAt().addAll(closest);
              Map<Contact, Duration> accepted = new ConcurrentHashMap<>();
              Set<Contact> refused = ConcurrentHashMap.newKeySet();
              // A node the watch counted itself subscribed at that grants a new subscription:
              // the one it held had lapsed (a push failed while this node was silently cut off,
              // it expired, or the node restarted), so pushes were missed.
              Set<Contact> lapsed = ConcurrentHashMap.newKeySet();
              // The code of the first refusal, for the log: a peer's message text is not logged.
              AtomicReference<Response.Code> refusal = new AtomicReference<>();
              return Flux.fromIterable(closest)
                  .flatMap(
                      c -> {
                        Token token = token(key, c);
                        Request.Subscribe subscribe =
                            new Request.Subscribe(me, key, ttl, false, token.value);
                        return exchange(c, key, subscribe, () -> open(session))
                            .doOnNext(
                                r -> {
                                  // Granted only by the node asked: another id at its
                                  // address would push as a node the watch never took.
                                  if (r instanceof Response.Subscribed granted
                                      && r.sender().id().equals(c.id())) {
                                    // Echoed: the node pushes the token from now on, and a
                                    // push claimed in its name without it is forged. Not
                                    // echoed: a node of an earlier version, taken as before.
                                    token.held = granted.token() == token.value;
                                    accepted.put(c, granted.ttl());
                                    if (!granted.renewed()) {
                                      if (before.contains(c)) {
                                        lapsed.add(c);
                                      }
                                      lapsedFor(key, c, session);
                                    }
                                  } else {
                                    refused.add(c);
                                    if (r instanceof Response.Failure f) {
                                      refusal.compareAndSet(null, f.code());
                                    }
                                  }
                                })
                            .onErrorResume(e -> Mono.empty())
                            // After the failure's kick was weighed (the call reports it
                            // before the exchange settles), so the round's own Subscribes
                            // never kick it.
                            .doFinally(signal -> session.asking().remove(c));
                      },
                      node.config().k())
                  .then(
                      Mono.fromSupplier(
                          () -> {
                            // Every node that held or was asked for a subscription and did not
                            // grant one is told to drop it: one that held it may hold it still,
                            // and one whose answer was lost may have subscribed. Only a node
                            // asked for the first time that refused holds nothing. Owed before
                            // the watch drops them, so a close() meanwhile sees each of them in
                            // one place or the other; queued after, or the queued check would
                            // find the watch still subscribed there.
                            Set<Contact> held = new HashSet<>(before);
                            Set<Contact> asked = new HashSet<>(before);
                            asked.addAll(closest);
                            List<Owed> owing = new ArrayList<>();
                            for (Contact c : asked) {
                              if (!accepted.containsKey(c)
                                  && (held.contains(c) || !refused.contains(c))) {
                                owing.add(owe(key, c));
                              }
                            }
                            session.subscribedAt().retainAll(accepted.keySet());
                            owing.forEach(this::unsubscribeLater);
                            if (accepted.isEmpty()) {
                              session.grantedNone();
                              if (closest.isEmpty()) {
                                return false;
                              }
                              // The key's nodes answered the lookup and none took the watch (at
                              // its bounds, or every Subscribe failed): nobody will push to it,
                              // so it reads the values at each retry round until one grants.
                              if (session.polling(true)) {
                                log.info(
                                    "node={} watch of {} holds no subscription: of the {} storage"
                                        + " nodes asked {} refused it (first: {}) and {}"
                                        + " failed; it reads the key's values at each retry,"
                                        + " at most {} apart, until one grants it",
                                    node.id().toShortHex(),
                                    key.toShortHex(),
                                    closest.size(),
                                    refused.size(),
                                    refusal.get(),
                                    closest.size() - refused.size(),
                                    WatchSession.MAX_RETRY);
                              }
                              return true;
                            }
                            if (session.polling(false)) {
                              log.info(
                                  "node={} watch of {} is subscribed again, at {} of the {}"
                                      + " storage nodes asked; it no longer reads at retries",
                                  node.id().toShortHex(),
                                  key.toShortHex(),
                                  accepted.size(),
                                  closest.size());
                            }
                            // A node may grant less than asked, never less than a second.
                            Duration shortest = ttl;
                            for (Duration granted : accepted.values()) {
                              if (granted.compareTo(shortest) < 0) {
                                shortest = granted;
                              }
                            }
                            session.granted(shortest);
                            // All taken: the flag of an outage is spent by this read.
                            return session.takeMissedPushes()
                                | Collections.disjoint(before, accepted.keySet())
                                | !lapsed.isEmpty();
                          }));
            })
        .onErrorResume(
            e -> {
              log.debug(
                  "node={} watch of {} could not resubscribe: {}",
                  node.id().toShortHex(),
                  key.toShortHex(),
                  e.toString());
              session.grantedNone();
              return Mono.just(false);
            });
  }

  /**
   * {@code at} granted {@code asking} a new subscription of {@code key}: the other watches of the
   * key on this node that count themselves subscribed there share that subscription, so theirs had
   * lapsed too, and their next renewal there would find it held (renewed by this grant). They read
   * the current values at their next round that a node grants. Not kicked into one now: with a node
   * that predates the renewed flag every grant is new, and kicks would chase each other.
   */
  private void lapsedFor(Key key, Contact at, WatchSession asking) {
    Set<WatchSession> sessions = watches.get(key);
    if (sessions != null) {
      for (WatchSession other : sessions) {
        if (other != asking && other.subscribedAt(at)) {
          other.missedPushes();
        }
      }
    }
  }

  /**
   * Sends a Subscribe or Unsubscribe of {@code key} to {@code at} once every exchange of the other
   * kind this node sent there before has settled (answered, failed or timed out), so the storage
   * node takes them in the order they were sent. Sent at once, an Unsubscribe could overtake the
   * Subscribe still in flight before it (a watch cancelled during a subscription round) and leave
   * the storage node pushing to a watcher that wants nothing until the TTL ran out; a Subscribe
   * could overtake the Unsubscribe of a watch that just ended and be undone by it. Exchanges of one
   * kind do not wait for each other, so many watches of a key subscribe at once.
   *
   * <p>The exchange outlives whoever waits for it: cancelling the returned {@code Mono} stops the
   * wait, not the request, so that the turn after it still waits for its answer. Each request ends
   * by the hard timeout at the latest, or when the transport closes.
   *
   * @param send asked in the link's order, before anything is sent: false sends nothing; for a
   *     Subscribe, asked again when its turn comes (a Subscribe may wait for Unsubscribes to
   *     settle, and sent after its watch ended or its node began closing, nothing would unsubscribe
   *     it)
   * @return the answer, or empty when {@code send} said no
   */
  private Mono<Response> exchange(Contact at, Key key, Request request, BooleanSupplier send) {
    boolean subscribe = request instanceof Request.Subscribe;
    return Mono.defer(
        () -> {
          Link link = new Link(key, at.address());
          List<Turn> joined = new ArrayList<>(1);
          turns.compute(
              link,
              (l, last) -> {
                if (!send.getAsBoolean()) {
                  return last;
                }
                Turn turn =
                    last != null && last.subscribe == subscribe
                        ? last
                        : new Turn(
                            subscribe,
                            last == null ? Mono.empty() : Mono.fromFuture(last.settled, true));
                turn.open++;
                joined.add(turn);
                return turn;
              });
          if (joined.isEmpty()) {
            return Mono.empty();
          }
          Turn turn = joined.get(0);
          // toFuture subscribes here, once, so that a cancelled wait does not cancel the request;
          // materialized, an error after the wait was cancelled is not reported as dropped.
          Mono<Response> call =
              subscribe
                  ? Mono.defer(() -> send.getAsBoolean() ? node.call(at, request) : Mono.empty())
                  : node.call(at, request);
          CompletableFuture<Signal<Response>> answer =
              turn.after.then(call).materialize().toFuture();
          answer.whenComplete((signal, error) -> leave(link, turn));
          return Mono.fromFuture(answer, true).dematerialize();
        });
  }

  /** One exchange of {@code turn} settled; the last one lets the next turn go. */
  private void leave(Link link, Turn turn) {
    List<Turn> ended = new ArrayList<>(1);
    turns.compute(
        link,
        (l, last) -> {
          if (--turn.open > 0) {
            return last;
          }
          ended.add(turn);
          return last == turn ? null : last;
        });
    if (!ended.isEmpty()) {
      turn.settled.complete(null);
    }
  }

  /** An Unsubscribe owed by a closing node: its watches are ending, so nothing still wants it. */
  private Mono<Void> unsubscribe(Contact at, Key key, long token) {
    return exchange(at, key, new Request.Unsubscribe(node.contact(), key, false, token), () -> true)
        .onErrorResume(e -> Mono.empty())
        .then();
  }

  /**
   * An Unsubscribe sent unless, when its turn comes, a watch of the key on this node is subscribed
   * or subscribing at {@code at}. A storage node keeps one subscription per key and subscribing
   * node, shared by this node's watches of the key: only the last of them to leave a node may
   * unsubscribe there, and each must unsubscribe from the nodes no other watch uses (skipping every
   * Unsubscribe while any other watch of the key was open left those nodes pushing until the TTL
   * ran out). A watch adds a node before it sends its Subscribe there, and the check runs in the
   * link's order, so an Unsubscribe either sees the new watch or goes out before its Subscribe.
   *
   * <p>Sent even so when {@code at} echoed its token and the key's watches hold another token there
   * now (the key's last watch ended, and a new one drew a new token): the storage node holds the
   * two subscriptions apart, and the Unsubscribe ends only the old one, which skipped held one of
   * the address's {@link SubscriberRegistry#MAX_PER_ADDRESS_PER_KEY} places of the key until its
   * TTL or a probe ended it.
   */
  private Mono<Void> unsubscribeUnlessWatched(Owed o) {
    Contact at = o.at();
    Key key = o.key();
    long token = o.token();
    return exchange(
            at,
            key,
            new Request.Unsubscribe(node.contact(), key, false, token),
            () -> {
              if (watched(key, at) && !replaced(o)) {
                return false;
              }
              forgetToken(key, at, token);
              return true;
            })
        .onErrorResume(e -> Mono.empty())
        .then();
  }

  /**
   * Whether {@code o}'s subscription is not the one the key's watches hold at its node now: the
   * node echoed its token, and the watches hold another one there. Not when they hold none there
   * (the address is watched through another id): whoever serves it now may not read tokens, and an
   * Unsubscribe stripped of its token would end the watches' subscription there.
   */
  private boolean replaced(Owed o) {
    Token now = knownToken(o.key(), o.at());
    return o.echoed() && now != null && now.value != o.token();
  }

  /** Forgets the token of {@code key} at {@code at} once it is unsubscribed, if still that one. */
  private void forgetToken(Key key, Contact at, long token) {
    tokens.computeIfPresent(
        key,
        (k, of) -> {
          of.computeIfPresent(at, (c, t) -> t.value == token ? null : t);
          return of.isEmpty() ? null : of;
        });
  }

  /**
   * Whether a Subscribe of {@code session} may leave: the watch is open and its node is not
   * closing. A round adds its nodes to {@link WatchSession#subscribedAt()} before it asks, and
   * {@link #endWatch} and {@code close()} mark the end before they read that set, so a Subscribe
   * either is not sent or is seen there and unsubscribed (after its answer, in the link's order).
   */
  private boolean open(WatchSession session) {
    return !session.ended() && !node.isClosed();
  }

  /**
   * Ends a watch: marks it ended, then owes an Unsubscribe to each node it is subscribed or
   * subscribing at, and queues them once it has left the key's watches (the queued check would
   * otherwise find it still there). Owed before it leaves, so a {@code close()} meanwhile finds
   * each node among its open watches or among the owed. Owed when the node is closing too: whether
   * its {@link #farewell} was taken before is not known here, and a closed node drops what it owes.
   */
  private void endWatch(WatchSession session) {
    Key key = session.key();
    session.end();
    List<Owed> owing = new ArrayList<>();
    for (Contact c : List.copyOf(session.subscribedAt())) {
      owing.add(owe(key, c));
    }
    watches.computeIfPresent(
        key,
        (k, sessions) -> {
          sessions.remove(session);
          if (sessions.isEmpty()) {
            // Inside the compute, so a watch of the key that joins now draws new tokens.
            tokens.remove(key);
            return null;
          }
          return sessions;
        });
    session.subscribedAt().clear();
    session.asking().clear();
    owing.forEach(this::unsubscribeLater);
  }

  private Owed owe(Key key, Contact at) {
    Owed o = owed(key, at);
    owed.merge(o, 1, Integer::sum);
    return o;
  }

  /** The Unsubscribe of {@code key} at {@code at} with the token held there now, if any. */
  private Owed owed(Key key, Contact at) {
    return new Owed(key, at, knownToken(key, at));
  }

  /**
   * Queues an owed Unsubscribe (sent unless watched, see {@link #unsubscribeUnlessWatched}), which
   * stays owed until it settles. One the queue refuses while the node is open (it is full) is no
   * longer owed, as before; one refused or dropped because the node is closing stays owed, for
   * {@link #farewell}.
   */
  private void unsubscribeLater(Owed o) {
    boolean queued = node.unsubscribe(unsubscribeUnlessWatched(o).doOnTerminate(() -> settled(o)));
    if (!queued && !node.isClosed()) {
      settled(o);
    }
  }

  private void settled(Owed o) {
    owed.computeIfPresent(o, (k, times) -> times > 1 ? times - 1 : null);
  }

  /**
   * Whether an open watch of {@code key} on this node is subscribed or subscribing at {@code at}'s
   * address, under any id. An Unsubscribe reaches whoever serves the address, and ends the
   * subscription this node holds there: sent to a stale contact (a node restarted with a new id at
   * the same address, answering in its place), it ended the subscription the watch had just made at
   * the new node.
   */
  private boolean watched(Key key, Contact at) {
    Set<WatchSession> sessions = watches.get(key);
    if (sessions != null) {
      for (WatchSession session : sessions) {
        for (Contact c : session.subscribedAt()) {
          if (c.address().equals(at.address())) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /** Values of {@code key} changed here: local watchers see them, remote subscribers are told. */
  void stored(Key key, List<Value> changed) {
    deliver(key, changed);
    Request.Notify untokened = new Request.Notify(node.contact(), key, changed);
    for (SubscriberRegistry.Subscription subscription :
        node.subscribers().subscriptions(key, node.clock().instant())) {
      push(key, subscription, untokened, true);
    }
  }

  /**
   * Probes subscriptions of {@code key} a refused Subscribe's address holds with other tokens (see
   * {@link SubscriberRegistry#probes}): pushes each an empty Notify with its token, as a change is
   * pushed. A watcher that holds the subscription takes it; one that no longer does refuses it, and
   * the refusal ends the subscription, making room for the watcher's next Subscribe.
   */
  void probe(Key key, List<SubscriberRegistry.Subscription> stale) {
    Request.Notify empty = new Request.Notify(node.contact(), key, List.of());
    for (SubscriberRegistry.Subscription subscription : stale) {
      // Only an answer that refuses it ends a probed subscription: a probe that fails or times
      // out says nothing of the token (a watcher restarted at the address answers, and refuses),
      // and ended on it, anyone claiming the address ended a briefly unreachable watcher's pushes
      // until its renewal, though no change was pushed meanwhile.
      push(key, subscription, empty, false);
    }
  }

  /**
   * Queues a push of {@code untokened}'s values to {@code subscription}, with its token; a refusal,
   * or a failure when {@code endOnFailure}, ends the subscription.
   */
  private void push(
      Key key,
      SubscriberRegistry.Subscription subscription,
      Request.Notify untokened,
      boolean endOnFailure) {
    Contact subscriber = subscription.subscriber();
    // The subscription's token, so the watcher can tell this push from a forged one; a third
    // party subscribed in its name never issued it and refuses the push, which ends that.
    Request.Notify notify = untokened.withToken(subscription.token());
    AtomicBoolean retryHeld = new AtomicBoolean();
    node.push(
        Mono.defer(() -> node.call(subscriber, notify))
            // A subscriber over its requests per second from this node refuses for the moment:
            // sent again a second later (the limit's window), a few times, before it counts as
            // refused. Ending the subscription at once lost the change until the watch's next
            // renewal, for every watch of a node under a burst of pushes. At most MAX_RETRYING
            // pushes wait to be sent again at once, each holding a place in the push queue that
            // every subscriber shares: past that, a busy answer is a refusal, as before, so one
            // busy watcher cannot crowd out the pushes to the others.
            .flatMap(
                answer ->
                    answer instanceof Response.Failure f
                            && f.code() == Response.Code.RATE_LIMITED
                            && answer.sender().id().equals(subscriber.id())
                        ? Mono.<Response>error(new BusySubscriber())
                        : Mono.just(answer))
            .retryWhen(
                Retry.fixedDelay(PUSH_RETRIES, Duration.ofSeconds(1))
                    .scheduler(node.scheduler())
                    .filter(e -> e instanceof BusySubscriber && holdRetry(retryHeld)))
            .doFinally(
                signal -> {
                  if (retryHeld.get()) {
                    retrying.decrementAndGet();
                  }
                })
            .map(answer -> refused(subscriber, answer))
            .onErrorReturn(endOnFailure)
            .filter(refused -> refused)
            .doOnNext(
                refused -> {
                  // A subscriber that does not take its push loses the subscription: it failed,
                  // refused (it no longer watches the key through this node), or another node
                  // serves its address now. This node dialed the subscriber's address, so the
                  // answer comes from whoever serves it, and only this one subscription ends. A
                  // live watcher subscribes again at its next renewal; a subscription renewed
                  // while the push travelled is left alone, as the renewal came after whatever
                  // the answer says.
                  node.subscribers().end(key, subscription);
                })
            .then());
  }

  /** How many times a push a subscriber refused as {@code RATE_LIMITED} is sent again. */
  private static final int PUSH_RETRIES = 3;

  /** The most pushes waiting to be sent again at once: a quarter of the push queue. */
  static final int MAX_RETRYING = 1024;

  /** Pushes waiting to be sent again, each counted once from its first busy answer. */
  private final AtomicInteger retrying = new AtomicInteger();

  /** Whether a push may wait to be sent again: it holds a place already, or one is free. */
  private boolean holdRetry(AtomicBoolean held) {
    if (held.get()) {
      return true;
    }
    if (retrying.incrementAndGet() > MAX_RETRYING) {
      retrying.decrementAndGet();
      return false;
    }
    held.set(true);
    return true;
  }

  /** A subscriber answered a push {@code RATE_LIMITED}: it is alive, and busy for the moment. */
  private static final class BusySubscriber extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BusySubscriber() {
      super("subscriber refused the push as RATE_LIMITED", null, false, false);
    }
  }

  /**
   * Whether a subscriber's answer to a push refuses it: any {@code Failure}, or an answer from
   * another id than the subscriber's.
   */
  private static boolean refused(Contact subscriber, Response answer) {
    return answer instanceof Response.Failure || !answer.sender().id().equals(subscriber.id());
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
   * A node pushed values: only the watches that subscribed there see them, and only the values that
   * have not expired and whose signature, if any, verifies (a value that expired on the way is
   * dropped, not the push, whose refusal would end the subscription). A push from anyone else is
   * dropped.
   *
   * @return whether a watch is subscribed or subscribing at the sender: false refuses the push
   */
  boolean notified(Request.Notify notify) {
    Set<WatchSession> sessions = watches.get(notify.key());
    if (sessions == null) {
      log.debug(
          "node={} refused a push for {} from {}, not watching it",
          node.id().toShortHex(),
          notify.key().toShortHex(),
          notify.sender());
      return false;
    }
    Token token = knownToken(notify.key(), notify.sender());
    if (foreign(token, notify.token())) {
      if (token != null && token.refusedOne.compareAndSet(false, true)) {
        log.info(
            "node={} refused a push for {} claimed from {} without the subscription's token"
                + " (forged, or from a subscription this node no longer holds); further ones"
                + " for this subscription are logged at DEBUG",
            node.id().toShortHex(),
            notify.key().toShortHex(),
            notify.sender());
      } else {
        log.debug(
            "node={} refused a push for {} claimed from {} without the subscription's token",
            node.id().toShortHex(),
            notify.key().toShortHex(),
            notify.sender());
      }
      return false;
    }
    List<Value> genuine = null;
    for (WatchSession session : sessions) {
      if (!session.subscribedAt(notify.sender())) {
        continue;
      }
      if (genuine == null) {
        genuine = new ArrayList<>(notify.values().size());
        Instant now = node.clock().instant();
        for (Value v : notify.values()) {
          if (!v.isExpiredAt(now) && (!v.isSigned() || v.verifySignature(notify.key()))) {
            genuine.add(v);
          }
        }
      }
      session.offer(genuine, notify.sender());
    }
    if (genuine == null) {
      log.debug(
          "node={} refused a push for {} from {}, not subscribed there",
          node.id().toShortHex(),
          notify.key().toShortHex(),
          notify.sender());
      return false;
    }
    return true;
  }

  /**
   * Whether a push carrying {@code pushed} is not of this node's subscription at its sender, whose
   * token there is {@code held} (null for none). A token-aware storage node pushes only the token
   * it was given: a push with another token, whether or not the node echoed this node's, comes from
   * a subscription this node no longer holds (a lost Unsubscribe, a restart; or a probe of one, see
   * {@link SubscriberRegistry#probes}) or is forged, and its refusal ends that subscription. Once
   * the node echoed this node's token, a push without a token is forged in its name (anyone may
   * claim a contact). Only a push without one from a node that never echoed one is taken (a node of
   * an earlier version), if a watch is subscribed there.
   */
  private static boolean foreign(Token held, long pushed) {
    if (held == null) {
      return pushed != 0;
    }
    return pushed != held.value && (pushed != 0 || held.held);
  }

  /**
   * Kicks every watch into a round of subscriptions now, which reads the current values again once
   * a node grants it: the node has just reached its network (a bootstrap succeeded, or it heard
   * from another node after a time in which its requests failed and nothing arrived: the network
   * came back). A watch subscribed nowhere would otherwise find it only at its next retry, up to
   * {@link WatchSession#MAX_RETRY} later; and one that still counts itself subscribed, because no
   * call to its nodes failed while the node was cut off, would wait for its renewal, though those
   * nodes may be gone, restarted with new ids, or have ended its subscription when a push failed.
   * The values stored meanwhile were pushed to nobody: the round reads them, even at the same
   * nodes. Both events are rare, so a round and a read each are cheap.
   */
  void kickAll() {
    for (Set<WatchSession> sessions : watches.values()) {
      for (WatchSession session : sessions) {
        session.kickAfterOutage();
      }
    }
  }

  /**
   * Kicks every watch subscribed at {@code failed} into a round of subscriptions now, unless its
   * running round is asking {@code failed} (see {@link WatchSession#asking()}).
   */
  void kick(Contact failed) {
    kickWhere(
        session -> session.subscribedAt().contains(failed) && !session.asking().contains(failed));
  }

  private void kickWhere(Predicate<WatchSession> due) {
    for (Set<WatchSession> sessions : watches.values()) {
      for (WatchSession session : sessions) {
        if (due.test(session)) {
          session.kick();
        }
      }
    }
  }

  /**
   * The watch streams open now that no node holds a subscription of, though their key's nodes
   * answer (see {@link WatchSession#polling(boolean)}): they read at each retry round.
   */
  int polling() {
    int polling = 0;
    for (Set<WatchSession> sessions : watches.values()) {
      for (WatchSession session : sessions) {
        if (session.polling()) {
          polling++;
        }
      }
    }
    return polling;
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
   * The Unsubscribes a closing node owes: one per key and node its watches are subscribed or
   * subscribing at, and one per Unsubscribe owed by a watch that ended (or a node a round dropped)
   * and not yet settled, so storage nodes stop pushing to it at once instead of after a failed push
   * or the TTL. Subscribing sends them all at once; errors are ignored. Take it after the node is
   * marked closed (from then on no Subscribe leaves, see {@link #open}), and before {@link
   * #endAll}, which forgets the watches. The watches are read before the owed: a watch ending
   * meanwhile is owed before it leaves them.
   */
  Mono<Void> farewell() {
    Set<Owed> due = new HashSet<>();
    watches.forEach(
        (key, sessions) ->
            sessions.forEach(
                s -> {
                  for (Contact c : s.subscribedAt()) {
                    due.add(owed(key, c));
                  }
                }));
    due.addAll(owed.keySet());
    List<Mono<Void>> goodbyes = new ArrayList<>();
    due.forEach(o -> goodbyes.add(unsubscribe(o.at(), o.key(), o.token())));
    return Flux.merge(goodbyes).then();
  }

  /** Ends every watch with {@code error}: the node is closing. */
  void endAll(Throwable error) {
    watches.values().forEach(sessions -> sessions.forEach(w -> w.error(error)));
    watches.clear();
    tokens.clear();
  }
}
