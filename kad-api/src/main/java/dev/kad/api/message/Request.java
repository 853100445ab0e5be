package dev.kad.api.message;

import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * A request one node sends another. Every request is answered with one {@link Response}; a refused
 * request is answered with {@link Response.Failure}.
 *
 * <p>Every request says whether its sender is a client ({@link #fromClient()}): a node in client
 * mode ({@code KadConfig.clientMode}) that queries the network without being part of it. Receivers
 * answer a client's request as any other, but never add the client to their routing tables, so
 * lookups are not sent to short-lived or unreachable clients (as libp2p's DHT client mode and
 * BitTorrent's BEP 43 read-only nodes). Each record's constructor without {@code fromClient} makes
 * a request from a full node.
 */
public sealed interface Request extends Message {

  /**
   * Whether the sender is a client: receivers answer it but do not add it to their routing tables.
   *
   * @return true for a request from a node in client mode
   */
  boolean fromClient();

  /**
   * This request with {@link #fromClient()} set as given, the other parts unchanged.
   *
   * @param fromClient whether the sender is a client
   * @return a request of the same type, or this one when it already has that mark
   */
  Request withFromClient(boolean fromClient);

  /**
   * Liveness check, answered with {@link Response.Pong}.
   *
   * @param sender the requesting node
   * @param fromClient whether the sender is a client ({@link Request#fromClient()})
   */
  record Ping(Contact sender, boolean fromClient) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the requesting node
     * @param fromClient whether the sender is a client
     * @throws NullPointerException when a part is null
     */
    public Ping {
      Objects.requireNonNull(sender, "sender");
    }

    /**
     * A request from a full node ({@code fromClient} false).
     *
     * @param sender the requesting node
     * @throws NullPointerException when a part is null
     */
    public Ping(Contact sender) {
      this(sender, false);
    }

    @Override
    public Ping withFromClient(boolean fromClient) {
      return fromClient == this.fromClient ? this : new Ping(sender, fromClient);
    }
  }

  /**
   * Asks for the k contacts closest to {@code target}, answered with {@link Response.NodesFound}.
   *
   * @param sender the requesting node
   * @param target the id looked up
   * @param fromClient whether the sender is a client ({@link Request#fromClient()})
   */
  record FindNode(Contact sender, NodeId target, boolean fromClient) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the requesting node
     * @param target the id looked up
     * @param fromClient whether the sender is a client
     * @throws NullPointerException when a part is null
     */
    public FindNode {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(target, "target");
    }

    /**
     * A request from a full node ({@code fromClient} false).
     *
     * @param sender the requesting node
     * @param target the id looked up
     * @throws NullPointerException when a part is null
     */
    public FindNode(Contact sender, NodeId target) {
      this(sender, target, false);
    }

    @Override
    public FindNode withFromClient(boolean fromClient) {
      return fromClient == this.fromClient ? this : new FindNode(sender, target, fromClient);
    }
  }

  /**
   * Asks for every value held for {@code key} plus the k closest contacts, answered with {@link
   * Response.ValuesFound}.
   *
   * @param sender the requesting node
   * @param key the key looked up
   * @param fromClient whether the sender is a client ({@link Request#fromClient()})
   */
  record FindValue(Contact sender, Key key, boolean fromClient) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the requesting node
     * @param key the key looked up
     * @param fromClient whether the sender is a client
     * @throws NullPointerException when a part is null
     */
    public FindValue {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
    }

    /**
     * A request from a full node ({@code fromClient} false).
     *
     * @param sender the requesting node
     * @param key the key looked up
     * @throws NullPointerException when a part is null
     */
    public FindValue(Contact sender, Key key) {
      this(sender, key, false);
    }

    @Override
    public FindValue withFromClient(boolean fromClient) {
      return fromClient == this.fromClient ? this : new FindValue(sender, key, fromClient);
    }
  }

  /**
   * Asks the receiver to store values under {@code key}, answered with {@link Response.Stored}.
   *
   * @param sender the requesting node (the publisher, or a node republishing or replicating)
   * @param key the key
   * @param values the values to store
   * @param cached whether these are cached copies from a lookup (they expire sooner)
   * @param fromClient whether the sender is a client ({@link Request#fromClient()})
   */
  record Store(Contact sender, Key key, List<Value> values, boolean cached, boolean fromClient)
      implements Request {

    /**
     * Checks the parts and copies the list.
     *
     * @param sender the requesting node (the publisher, or a node republishing or replicating)
     * @param key the key
     * @param values the values to store
     * @param cached whether these are cached copies from a lookup (they expire sooner)
     * @param fromClient whether the sender is a client
     * @throws NullPointerException when a part is null
     */
    public Store {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
      values = List.copyOf(values);
    }

    /**
     * A request from a full node ({@code fromClient} false).
     *
     * @param sender the requesting node (the publisher, or a node republishing or replicating)
     * @param key the key
     * @param values the values to store
     * @param cached whether these are cached copies from a lookup (they expire sooner)
     * @throws NullPointerException when a part is null
     */
    public Store(Contact sender, Key key, List<Value> values, boolean cached) {
      this(sender, key, values, cached, false);
    }

    @Override
    public Store withFromClient(boolean fromClient) {
      return fromClient == this.fromClient
          ? this
          : new Store(sender, key, values, cached, fromClient);
    }
  }

  /**
   * Asks to be notified of every value stored under {@code key} for {@code ttl}, answered with
   * {@link Response.Subscribed}.
   *
   * <p>The {@code token} is the subscription's secret: the watcher draws it, unpredictably, for
   * this key and storage node, a storage node that holds it says so in {@link
   * Response.Subscribed#token()} and pushes it in every {@link Notify} of the subscription, and
   * only an {@link Unsubscribe} carrying it ends the subscription. So whoever does not know it can
   * neither push values into the watch in the storage node's name, nor end the subscription in the
   * watcher's name, and a subscription made in a third party's name is dropped at its first push,
   * which the third party refuses. 0 is no token: a node of an earlier version, treated as before.
   *
   * @param sender the subscribing node
   * @param key the watched key
   * @param ttl how long the subscription should last before it must be renewed
   * @param fromClient whether the sender is a client ({@link Request#fromClient()})
   * @param token the subscription's secret, or 0 for none
   */
  record Subscribe(Contact sender, Key key, Duration ttl, boolean fromClient, long token)
      implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the subscribing node
     * @param key the watched key
     * @param ttl how long the subscription should last before it must be renewed: not negative, at
     *     most {@link dev.kad.api.KadConfig#MAX_DURATION}
     * @param fromClient whether the sender is a client
     * @param token the subscription's secret, or 0 for none
     * @throws NullPointerException when a part is null
     * @throws IllegalArgumentException naming the value when the ttl is negative or too long
     */
    public Subscribe {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
      Response.Subscribed.checkTtl(ttl);
    }

    /**
     * A request without a token ({@code token} 0), as nodes of earlier versions send.
     *
     * @param sender the subscribing node
     * @param key the watched key
     * @param ttl how long the subscription should last before it must be renewed: not negative, at
     *     most {@link dev.kad.api.KadConfig#MAX_DURATION}
     * @param fromClient whether the sender is a client
     * @throws NullPointerException when a part is null
     * @throws IllegalArgumentException naming the value when the ttl is negative or too long
     */
    public Subscribe(Contact sender, Key key, Duration ttl, boolean fromClient) {
      this(sender, key, ttl, fromClient, 0);
    }

    /**
     * A request from a full node ({@code fromClient} false).
     *
     * @param sender the subscribing node
     * @param key the watched key
     * @param ttl how long the subscription should last before it must be renewed: not negative, at
     *     most {@link dev.kad.api.KadConfig#MAX_DURATION}
     * @throws NullPointerException when a part is null
     * @throws IllegalArgumentException naming the value when the ttl is negative or too long
     */
    public Subscribe(Contact sender, Key key, Duration ttl) {
      this(sender, key, ttl, false);
    }

    @Override
    public Subscribe withFromClient(boolean fromClient) {
      return fromClient == this.fromClient
          ? this
          : new Subscribe(sender, key, ttl, fromClient, token);
    }

    /**
     * This request with {@link #token()} set as given, the other parts unchanged.
     *
     * @param token the subscription's secret, or 0 for none
     * @return a request with that token, or this one when it has it already
     */
    public Subscribe withToken(long token) {
      return token == this.token ? this : new Subscribe(sender, key, ttl, fromClient, token);
    }
  }

  /**
   * Ends a subscription, answered with {@link Response.Pong}.
   *
   * <p>It ends only the subscription made with its {@code token} (see {@link Subscribe}); one
   * without a token (0) ends only a subscription made without one, as nodes of earlier versions
   * make.
   *
   * @param sender the subscribed node
   * @param key the key no longer watched
   * @param fromClient whether the sender is a client ({@link Request#fromClient()})
   * @param token the secret of the subscription to end, or 0 for none
   */
  record Unsubscribe(Contact sender, Key key, boolean fromClient, long token) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the subscribed node
     * @param key the key no longer watched
     * @param fromClient whether the sender is a client
     * @param token the secret of the subscription to end, or 0 for none
     * @throws NullPointerException when a part is null
     */
    public Unsubscribe {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
    }

    /**
     * A request without a token ({@code token} 0), as nodes of earlier versions send.
     *
     * @param sender the subscribed node
     * @param key the key no longer watched
     * @param fromClient whether the sender is a client
     * @throws NullPointerException when a part is null
     */
    public Unsubscribe(Contact sender, Key key, boolean fromClient) {
      this(sender, key, fromClient, 0);
    }

    /**
     * A request from a full node ({@code fromClient} false).
     *
     * @param sender the subscribed node
     * @param key the key no longer watched
     * @throws NullPointerException when a part is null
     */
    public Unsubscribe(Contact sender, Key key) {
      this(sender, key, false);
    }

    @Override
    public Unsubscribe withFromClient(boolean fromClient) {
      return fromClient == this.fromClient ? this : new Unsubscribe(sender, key, fromClient, token);
    }

    /**
     * This request with {@link #token()} set as given, the other parts unchanged.
     *
     * @param token the secret of the subscription to end, or 0 for none
     * @return a request with that token, or this one when it has it already
     */
    public Unsubscribe withToken(long token) {
      return token == this.token ? this : new Unsubscribe(sender, key, fromClient, token);
    }
  }

  /**
   * Pushed by a storage node to a subscriber when values of {@code key} were stored, answered with
   * {@link Response.Pong}, or with a {@link Response.Failure} when the receiver does not watch the
   * key through the sender (its Unsubscribe was lost, or it restarted): any Failure, or an answer
   * from another id than the subscriber's, tells the storage node to end that subscription.
   *
   * <p>It carries the {@code token} of the subscription it is pushed under (see {@link Subscribe}):
   * a watcher whose subscription the storage node said it holds with a token refuses a push claimed
   * from that node without it.
   *
   * @param sender the storage node
   * @param key the watched key
   * @param values the new or replaced values
   * @param fromClient whether the sender is a client ({@link Request#fromClient()})
   * @param token the secret of the subscription pushed under, or 0 for none
   */
  record Notify(Contact sender, Key key, List<Value> values, boolean fromClient, long token)
      implements Request {

    /**
     * Checks the parts and copies the list.
     *
     * @param sender the storage node
     * @param key the watched key
     * @param values the new or replaced values
     * @param fromClient whether the sender is a client
     * @param token the secret of the subscription pushed under, or 0 for none
     * @throws NullPointerException when a part is null
     */
    public Notify {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
      values = List.copyOf(values);
    }

    /**
     * A push without a token ({@code token} 0), as nodes of earlier versions send.
     *
     * @param sender the storage node
     * @param key the watched key
     * @param values the new or replaced values
     * @param fromClient whether the sender is a client
     * @throws NullPointerException when a part is null
     */
    public Notify(Contact sender, Key key, List<Value> values, boolean fromClient) {
      this(sender, key, values, fromClient, 0);
    }

    /**
     * A request from a full node ({@code fromClient} false).
     *
     * @param sender the storage node
     * @param key the watched key
     * @param values the new or replaced values
     * @throws NullPointerException when a part is null
     */
    public Notify(Contact sender, Key key, List<Value> values) {
      this(sender, key, values, false);
    }

    @Override
    public Notify withFromClient(boolean fromClient) {
      return fromClient == this.fromClient
          ? this
          : new Notify(sender, key, values, fromClient, token);
    }

    /**
     * This push with {@link #token()} set as given, the other parts unchanged.
     *
     * @param token the secret of the subscription pushed under, or 0 for none
     * @return a push with that token, or this one when it has it already
     */
    public Notify withToken(long token) {
      return token == this.token ? this : new Notify(sender, key, values, fromClient, token);
    }
  }
}
