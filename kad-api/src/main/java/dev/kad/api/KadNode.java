package dev.kad.api;

import java.util.Collection;
import java.util.List;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * One node of a Kademlia network. Every operation is a cold {@link Mono} or {@link Flux}: nothing
 * happens until subscription, each subscription runs the operation anew, and cancelling stops its
 * in-flight requests.
 *
 * <p>Arguments are checked when the method is called: a bad argument throws at once and never
 * becomes an error signal. Errors that happen while the operation runs are {@link KadException}s.
 * After {@link #close()} every operation that returns a {@code Mono} or {@code Flux} errors with
 * {@link NodeClosedException}; {@link #routingTable()}, {@link #stats()} and {@code
 * stopRepublishing} still answer, from the state the node closed with. No method blocks. Signals
 * arrive on whichever thread settled them: the subscribing thread, the node's scheduler, or the
 * transport's (a TCP transport's event loops, and Netty's {@code globalEventExecutor} for the end
 * of its close), so subscribers must not block.
 */
public interface KadNode {

  /**
   * This node's id.
   *
   * @return the id
   */
  NodeId id();

  /**
   * This node's id and the address other nodes reach it at.
   *
   * @return the contact
   */
  Contact contact();

  /**
   * The address other nodes reach this node at, {@code contact().address()}: what a node joining
   * through this one passes to {@link #bootstrap(Collection)}.
   *
   * @return the advertised address
   */
  default Address address() {
    return contact().address();
  }

  /**
   * The settings this node runs with.
   *
   * @return the configuration
   */
  KadConfig config();

  /**
   * Joins the network through the given seed nodes: pings them, looks up this node's own id and
   * refreshes every bucket farther than the closest neighbour.
   *
   * <p>A seed that answers as this node itself (its own address: every node of a cluster given the
   * same seed list) is skipped, not a failure. When every seed is this node itself, there is no
   * network to join yet: the {@code Mono} completes at once, with the routing table still empty,
   * and this node is the first of its network, which others join through it.
   *
   * <p>Subscribing starts the join; the {@code Mono} completes when it is done. It errors with
   * {@link NoSeedAnsweredException} (an {@link UnreachableContactException}) when no seed other
   * than this node answers, naming each of those seeds and why it did not help (the transport's
   * error, no answer in time, a refusal); that holds when this node is among the seeds too, since
   * the others name a network it has not reached ({@link NoSeedAnsweredException#selfSeeds()} lists
   * the self seeds; a retry may reach the others). It errors with {@link NoSeedAnsweredException}
   * too when seeds answered the ping but no node answered the lookup of this node's own id (its
   * requests were lost): no neighbour has learnt this node, so it has not joined. Cancelling stops
   * the lookups (seeds already inserted stay in the routing table).
   *
   * @param seeds the addresses of nodes already in the network, at least one; this node's own
   *     address among them is allowed
   * @return completes when joined, or at once as the first node of its network
   * @throws IllegalArgumentException when {@code seeds} is empty or names an address no node can
   *     dial (port 0, a wildcard or multicast IP), naming it
   */
  Mono<Void> bootstrap(Collection<Address> seeds);

  /**
   * Finds the k nodes closest to {@code target} by an iterative lookup.
   *
   * <p>Subscribing starts the lookup; the {@code Mono} emits the closest contacts that answered,
   * nearest first (possibly fewer than k, empty in an empty network). It does not error when peers
   * fail; it errors with {@link NodeClosedException} after close. Cancelling cancels every request
   * in flight.
   *
   * @param target the id looked up, of this node's id width
   * @return the closest contacts, nearest first
   * @throws IllegalArgumentException when {@code target} has the wrong width
   */
  Mono<List<Contact>> findNode(NodeId target);

  /**
   * Finds the closest nodes to {@code target} and reports how the lookup converged.
   *
   * <p>Subscribing starts the lookup; each request sent, answer, stall, failure and closer contact
   * is emitted as it happens, and a final {@link LookupEvent.Finished} carries the result, after
   * which the {@code Flux} completes. Cancelling cancels the lookup.
   *
   * @param target the id looked up, of this node's id width
   * @return the lookup's events
   * @throws IllegalArgumentException when {@code target} has the wrong width
   */
  Flux<LookupEvent> trace(NodeId target);

  /**
   * Finds the values stored under {@code key}.
   *
   * <p>Subscribing starts a value lookup; each distinct value (publisher, value id, seq) is emitted
   * as soon as some node returns it, and the {@code Flux} completes when the lookup finishes. An
   * empty completion means no node holds a value. When no node answered (every node the lookup
   * asked failed, or this node's last {@link #bootstrap} failed and it had nobody to ask) and this
   * node holds no value of the key itself, it errors instead with an {@link
   * UnreachableContactException}, transient: this node may be cut off, which is not "no value". A
   * node with nobody to ask that never failed a bootstrap is the first of its network and completes
   * empty. Cancelling cancels the lookup.
   *
   * <p>A value is never emitted after a newer seq of its publisher, value id and signing key: a
   * node that missed an update returns the older one, which is then left out (and that node, or
   * this node's own store, is given the newer once the lookup finishes). An older seq that arrives
   * first is emitted, and its newer one after it, so the last value emitted of a publisher and
   * value id is the newest found. (A value signed with another key under the publisher's id is
   * another value: compare {@link Value#publicKey()}.)
   *
   * @param key the key, of this node's id width
   * @return the values as they arrive
   * @throws IllegalArgumentException when {@code key} has the wrong width
   */
  Flux<Value> get(Key key);

  /**
   * Finds the values stored under {@code key}, stopping once {@code quorum} nodes holding values
   * have answered.
   *
   * <p>As {@link #get(Key)}, but completes early at the quorum. This node counts as one when it
   * holds values of the key itself: with a quorum of 1 it then answers from its own store.
   *
   * @param key the key, of this node's id width
   * @param quorum how many nodes with values to hear from, in [1, k]
   * @return the values as they arrive
   * @throws IllegalArgumentException when {@code key} has the wrong width or {@code quorum} is out
   *     of range
   */
  Flux<Value> get(Key key, int quorum);

  /**
   * Stores {@code data} under {@code key} as a value published by this node, replacing this node's
   * earlier value of the same key: {@link #put(Key, byte[], PutOptions)} with {@link
   * PutOptions#defaults()}, value id 0, unsigned, expiring {@link KadConfig#expireAfter()} from now
   * and republished.
   *
   * @param key the key, of this node's id width
   * @param data the payload, at most {@link KadConfig#maxValueBytes()} bytes
   * @return the outcome per contacted node
   * @throws IllegalArgumentException when the key has the wrong width or the data is too large
   */
  default Mono<PutResult> put(Key key, byte[] data) {
    return put(key, data, PutOptions.defaults());
  }

  /**
   * Stores {@code data} under {@code key} as a value published by this node with the value id, ttl
   * and signature of {@code options}, replacing this node's earlier value of the same key and value
   * id. Its seq is {@code max(previous + 1, now in milliseconds)}, the previous being this node's
   * last put of the same key and value id while it republishes it, so a later put replaces an
   * earlier one even across restarts of a node whose clock goes forward.
   *
   * <p>Subscribing looks up the k closest nodes and stores at each, and at this node too when it is
   * a full node (not {@link KadConfig#clientMode()}) among the key's k closest. The {@code Mono}
   * emits which accepted, which refused and why, and which did not answer (the stores unanswered
   * and, when fewer than k nodes answered the lookup, the closest it lost, up to k nodes in all).
   * It succeeds when another node accepted the value, or when this node is the first of its network
   * (it knew no other node, so its own copy is the only one there can be). Otherwise it errors:
   * with {@link StoreRejectedException} when other nodes answered and none accepted, with {@link
   * NoStoreAnsweredException} (an {@link UnreachableContactException}, transient: a retry may help)
   * when none of them answered, or the lookup found none of the nodes this node knows alive. Either
   * exception carries the {@link PutResult}; a copy stored at this node stays (listed in its {@code
   * accepted()}, and the message says so), so a local {@link #get(Key)} still finds it. Cancelling
   * stops the stores not yet answered.
   *
   * <p>With {@link PutOptions#republish()} (the default) the value is registered for republishing
   * when the {@code Mono} is subscribed, before any store: a put that errors or is cancelled is
   * republished too, which retries its replication, and its seq stays taken. Except a put every
   * node refused for good (a {@link StoreRejectedException} that is not transient, with no node
   * keeping a copy, e.g. one signed by another key pair than the stored value): the value this node
   * published before under that key and value id is republished again, so that a refused
   * replacement neither lets it expire nor takes its place. Every republish run (every {@code
   * min(republishInterval, expireAfter / 2)}) stores it again with the same seq and an expiry
   * {@code ttl} from then, signed again when the options sign, so it never expires while this node
   * lives, until {@link #stopRepublishing(Key)} or {@link #stopRepublishing(Key, long)} or {@link
   * #close()}. A put of the same key and value id without republishing ends the republishing of the
   * earlier value.
   *
   * @param key the key, of this node's id width
   * @param data the payload, at most {@link KadConfig#maxValueBytes()} bytes
   * @param options the value id, ttl, key pair and republishing
   * @return the outcome per contacted node
   * @throws IllegalArgumentException when the key has the wrong width, the data is too large, the
   *     ttl is longer than {@link KadConfig#expireAfter()} (nodes would refuse the value), or the
   *     value is republished and its ttl is shorter than twice the republish period, {@code
   *     min(republishInterval, expireAfter / 2)} (a republish might come after it expired)
   */
  Mono<PutResult> put(Key key, byte[] data, PutOptions options);

  /**
   * Stores a prepared value under {@code key} at the k closest nodes.
   *
   * <p>As {@link #put(Key, byte[], PutOptions)}, except that the node does not republish it; the
   * value keeps its publisher, value id, seq, expiry and signature. A value of this node to be
   * republished, with its own value id, ttl or signature, is put with {@link PutOptions} instead. A
   * value of this node's id with a higher seq than the one it put from data under the same key and
   * value id replaces that one as a put without republishing would: its republishing ends. When no
   * other node accepted it, the put errors as {@link #put(Key, byte[])} does, and a copy at this
   * node stays until the value expires.
   *
   * @param key the key, of this node's id width
   * @param value the value
   * @return the outcome per contacted node
   * @throws IllegalArgumentException when the key or the value's publisher has the wrong width, the
   *     value is too large, it expires later than {@link KadConfig#latestExpiry} of now or has
   *     expired, or it is signed and its signature does not verify under {@code key} ({@link
   *     Value#signatureProblem(Key)}): every node would refuse it
   */
  Mono<PutResult> put(Key key, Value value);

  /**
   * Stops republishing every value of {@code key} this node publishes, whatever its value id
   * ({@link #put(Key, byte[])}, {@link #put(Key, byte[], PutOptions)}). The copies already stored
   * live until their expiry. A republish already storing one of them completes.
   *
   * @param key the key, of this node's id width
   * @return true when this node was republishing a value of the key; false once it is closed
   * @throws IllegalArgumentException when {@code key} has the wrong width
   */
  boolean stopRepublishing(Key key);

  /**
   * Stops republishing this node's value of {@code key} with {@code valueId}, put by {@link
   * #put(Key, byte[], PutOptions)}; its other values of the key are still republished. The copies
   * already stored live until their expiry.
   *
   * @param key the key, of this node's id width
   * @param valueId the value id given in the {@link PutOptions}
   * @return true when this node was republishing that value; false once it is closed
   * @throws IllegalArgumentException when {@code key} has the wrong width
   */
  boolean stopRepublishing(Key key, long valueId);

  /**
   * A live stream of the values of {@code key}.
   *
   * <p>Subscribing first emits the values currently stored, then every new or replaced value as it
   * is stored at any of the key's k closest nodes, each distinct (publisher, value id, seq) once.
   * The {@code Flux} does not complete on its own; it errors with {@link NodeClosedException} when
   * the node closes. Cancelling unsubscribes everywhere, unless another watch of the key on this
   * node still uses the subscriptions.
   *
   * <p>Storage nodes bound the subscriptions they keep ({@link
   * KadConfig#maxSubscriptionsPerPeer()}, {@link KadConfig#maxSubscribersPerKey()} with a quarter
   * of a key's places for one public IP, and a total). A watch that every node it asks refuses (or
   * whose subscriptions all fail while lookups are answered) reads the key's values at each retry
   * round, a second apart at first and at most a minute apart, until a node grants it: its changes
   * arrive that much later, not pushed at once. {@link NodeStats#pollingWatches()} counts such
   * watches, and each change into and out of that state is logged at INFO.
   *
   * @param key the key, of this node's id width
   * @return the values, live
   * @throws IllegalArgumentException when {@code key} has the wrong width
   */
  Flux<Value> watch(Key key);

  /**
   * An immutable copy of the routing table as it is now.
   *
   * @return the snapshot
   */
  RoutingTableSnapshot routingTable();

  /**
   * Figures of the node as they are now: routing-table size, stored values and bytes, open watches
   * and subscribers.
   *
   * @return the figures
   */
  NodeStats stats();

  /**
   * Shuts the node down: stops the maintenance jobs, ends every watch and pending operation with
   * {@link NodeClosedException} and closes the transport.
   *
   * <p>Subscribing starts the shutdown; the {@code Mono} completes when the transport is closed.
   * Cancelling stops waiting, not the shutdown, which runs to its end. Closing twice is harmless: a
   * later {@code close()} completes when the first one has.
   *
   * @return completes when closed
   */
  Mono<Void> close();

  /**
   * Completes when this node has closed, whoever closed it.
   *
   * <p>Subscribing closes nothing: it waits for a {@link #close()}, called here or elsewhere, to
   * finish (the transport closed), so an application can tie its own shutdown to the node's, as
   * reactor-netty's {@code onDispose()} does for a server. Completes at once for a closed node, and
   * errors only as {@code close()} does, when the transport failed to close. Cancelling stops only
   * the waiting.
   *
   * @return completes when closed
   */
  Mono<Void> onClose();
}
