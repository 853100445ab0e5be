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
 */
public sealed interface Request extends Message {

  /**
   * Liveness check, answered with {@link Response.Pong}.
   *
   * @param sender the requesting node
   */
  record Ping(Contact sender) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the requesting node
     * @throws NullPointerException when a part is null
     */
    public Ping {
      Objects.requireNonNull(sender, "sender");
    }
  }

  /**
   * Asks for the k contacts closest to {@code target}, answered with {@link Response.NodesFound}.
   *
   * @param sender the requesting node
   * @param target the id looked up
   */
  record FindNode(Contact sender, NodeId target) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the requesting node
     * @param target the id looked up
     * @throws NullPointerException when a part is null
     */
    public FindNode {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(target, "target");
    }
  }

  /**
   * Asks for every value held for {@code key} plus the k closest contacts, answered with {@link
   * Response.ValuesFound}.
   *
   * @param sender the requesting node
   * @param key the key looked up
   */
  record FindValue(Contact sender, Key key) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the requesting node
     * @param key the key looked up
     * @throws NullPointerException when a part is null
     */
    public FindValue {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Asks the receiver to store values under {@code key}, answered with {@link Response.Stored}.
   *
   * @param sender the requesting node (the publisher, or a node republishing or replicating)
   * @param key the key
   * @param values the values to store
   * @param cached whether these are cached copies from a lookup (they expire sooner)
   */
  record Store(Contact sender, Key key, List<Value> values, boolean cached) implements Request {

    /**
     * Checks the parts and copies the list.
     *
     * @param sender the requesting node (the publisher, or a node republishing or replicating)
     * @param key the key
     * @param values the values to store
     * @param cached whether these are cached copies from a lookup (they expire sooner)
     * @throws NullPointerException when a part is null
     */
    public Store {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
      values = List.copyOf(values);
    }
  }

  /**
   * Asks to be notified of every value stored under {@code key} for {@code ttl}, answered with
   * {@link Response.Subscribed}.
   *
   * @param sender the subscribing node
   * @param key the watched key
   * @param ttl how long the subscription should last before it must be renewed
   */
  record Subscribe(Contact sender, Key key, Duration ttl) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the subscribing node
     * @param key the watched key
     * @param ttl how long the subscription should last before it must be renewed
     * @throws NullPointerException when a part is null
     */
    public Subscribe {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(ttl, "ttl");
    }
  }

  /**
   * Ends a subscription, answered with {@link Response.Pong}.
   *
   * @param sender the subscribed node
   * @param key the key no longer watched
   */
  record Unsubscribe(Contact sender, Key key) implements Request {

    /**
     * Checks the parts.
     *
     * @param sender the subscribed node
     * @param key the key no longer watched
     * @throws NullPointerException when a part is null
     */
    public Unsubscribe {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * Pushed by a storage node to a subscriber when values of {@code key} were stored, answered with
   * {@link Response.Pong}, or with a {@link Response.Failure} when the receiver does not watch the
   * key through the sender (its Unsubscribe was lost, or it restarted): any Failure, or an answer
   * from another id than the subscriber's, tells the storage node to end that subscription.
   *
   * @param sender the storage node
   * @param key the watched key
   * @param values the new or replaced values
   */
  record Notify(Contact sender, Key key, List<Value> values) implements Request {

    /**
     * Checks the parts and copies the list.
     *
     * @param sender the storage node
     * @param key the watched key
     * @param values the new or replaced values
     * @throws NullPointerException when a part is null
     */
    public Notify {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(key, "key");
      values = List.copyOf(values);
    }
  }
}
