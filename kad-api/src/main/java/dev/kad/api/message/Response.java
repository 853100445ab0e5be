package dev.kad.api.message;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.Value;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/** The answer to a {@link Request}. */
public sealed interface Response extends Message {

  /**
   * Answers {@link Request.Ping}, and acknowledges {@link Request.Unsubscribe} and {@link
   * Request.Notify}.
   *
   * @param sender the answering node
   */
  record Pong(Contact sender) implements Response {

    /**
     * Checks the parts.
     *
     * @param sender the answering node
     * @throws NullPointerException when a part is null
     */
    public Pong {
      Objects.requireNonNull(sender, "sender");
    }
  }

  /**
   * Answers {@link Request.FindNode} with the closest contacts the sender knows.
   *
   * @param sender the answering node
   * @param contacts up to k contacts, nearest to the target first
   */
  record NodesFound(Contact sender, List<Contact> contacts) implements Response {

    /**
     * Checks the parts and copies the list.
     *
     * @param sender the answering node
     * @param contacts up to k contacts, nearest to the target first
     * @throws NullPointerException when a part is null
     */
    public NodesFound {
      Objects.requireNonNull(sender, "sender");
      contacts = List.copyOf(contacts);
    }
  }

  /**
   * Answers {@link Request.FindValue} with every value held for the key and the closest contacts.
   *
   * @param sender the answering node
   * @param values the values held, possibly none
   * @param contacts up to k contacts, nearest to the key first
   */
  record ValuesFound(Contact sender, List<Value> values, List<Contact> contacts)
      implements Response {

    /**
     * Checks the parts and copies the lists.
     *
     * @param sender the answering node
     * @param values the values held, possibly none
     * @param contacts up to k contacts, nearest to the key first
     * @throws NullPointerException when a part is null
     */
    public ValuesFound {
      Objects.requireNonNull(sender, "sender");
      values = List.copyOf(values);
      contacts = List.copyOf(contacts);
    }
  }

  /**
   * Answers {@link Request.Store}: how many values were accepted and why the others were not.
   *
   * @param sender the answering node
   * @param accepted how many values were stored (or already held)
   * @param rejected the refused values, by index in the request, with reasons
   */
  record Stored(Contact sender, int accepted, List<Rejected> rejected) implements Response {

    /**
     * Checks the parts and copies the list.
     *
     * @param sender the answering node
     * @param accepted how many values were stored (or already held)
     * @param rejected the refused values, by index in the request, with reasons
     * @throws NullPointerException when a part is null
     * @throws IllegalArgumentException when {@code accepted} is negative
     */
    public Stored {
      Objects.requireNonNull(sender, "sender");
      if (accepted < 0) {
        throw new IllegalArgumentException("accepted must be >= 0 but was " + accepted);
      }
      rejected = List.copyOf(rejected);
    }
  }

  /**
   * A value a {@link Request.Store} could not store.
   *
   * @param index the value's index in the request
   * @param reason why it was refused
   */
  record Rejected(int index, String reason) {

    /**
     * Checks the parts.
     *
     * @param index the value's index in the request
     * @param reason why it was refused
     * @throws NullPointerException when the reason is null
     */
    public Rejected {
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * Answers {@link Request.Subscribe} with the granted time to live, and whether the subscription
   * was still held (a renewal) or is new. A watcher that counted itself subscribed at the answering
   * node and hears that the subscription is new knows it had lapsed (ended when a push to it
   * failed, or expired, or the node restarted), so pushes were missed: it reads the current values.
   *
   * @param sender the answering node
   * @param ttl how long the subscription lasts without renewal
   * @param renewed true when the answering node still held this subscriber's subscription of the
   *     key and extended it; false when it created a new one (also what a node that does not say
   *     answers, so a watcher errs on the side of reading)
   * @param token the {@link Request.Subscribe#token()} the answering node holds the subscription
   *     with and pushes in its {@link Request.Notify}s, echoed; 0 when the Subscribe had none or
   *     the node does not keep tokens (an earlier version): the watcher then takes its pushes
   *     without one, as before
   */
  record Subscribed(Contact sender, Duration ttl, boolean renewed, long token) implements Response {

    /**
     * Checks the parts.
     *
     * @param sender the answering node
     * @param ttl how long the subscription lasts without renewal: not negative, at most {@link
     *     KadConfig#MAX_DURATION}
     * @param renewed true when an existing subscription was extended, false when a new one was made
     * @param token the subscription's token the answering node holds, echoed, or 0 for none
     * @throws NullPointerException when a part is null
     * @throws IllegalArgumentException naming the value when the ttl is negative or too long
     */
    public Subscribed {
      Objects.requireNonNull(sender, "sender");
      checkTtl(ttl);
    }

    /**
     * An answer that holds no token ({@code token} 0), as nodes of earlier versions answer.
     *
     * @param sender the answering node
     * @param ttl how long the subscription lasts without renewal: not negative, at most {@link
     *     KadConfig#MAX_DURATION}
     * @param renewed true when an existing subscription was extended, false when a new one was made
     * @throws NullPointerException when a part is null
     * @throws IllegalArgumentException naming the value when the ttl is negative or too long
     */
    public Subscribed(Contact sender, Duration ttl, boolean renewed) {
      this(sender, ttl, renewed, 0);
    }

    /**
     * A grant of a new subscription ({@code renewed} false) that holds no token ({@code token} 0).
     *
     * @param sender the answering node
     * @param ttl how long the subscription lasts without renewal: not negative, at most {@link
     *     KadConfig#MAX_DURATION}
     * @throws NullPointerException when a part is null
     * @throws IllegalArgumentException naming the value when the ttl is negative or too long
     */
    public Subscribed(Contact sender, Duration ttl) {
      this(sender, ttl, false, 0);
    }

    /**
     * Refuses a subscription's ttl that no node could send: a negative one (every peer would close
     * the connection as malformed) or one past {@link KadConfig#MAX_DURATION}, whose milliseconds
     * overflow on the wire.
     */
    static void checkTtl(Duration ttl) {
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.isNegative() || ttl.compareTo(KadConfig.MAX_DURATION) > 0) {
        throw new IllegalArgumentException(
            "ttl must be in [0, " + KadConfig.MAX_DURATION + "] but was " + ttl);
      }
    }
  }

  /**
   * A refused request.
   *
   * @param sender the answering node
   * @param code the kind of refusal
   * @param message a human-readable reason naming the value or limit
   */
  record Failure(Contact sender, Code code, String message) implements Response {

    /**
     * Checks the parts.
     *
     * @param sender the answering node
     * @param code the kind of refusal
     * @param message a human-readable reason naming the value or limit
     * @throws NullPointerException when a part is null
     */
    public Failure {
      Objects.requireNonNull(sender, "sender");
      Objects.requireNonNull(code, "code");
      Objects.requireNonNull(message, "message");
    }
  }

  /** Why a request was refused. */
  enum Code {
    /** The request was malformed or named invalid values. */
    INVALID,
    /** The request would exceed a limit of the receiver (storage, subscriptions). */
    LIMIT,
    /** The sender is sending too fast. */
    RATE_LIMITED,
    /** The receiver failed while handling the request. */
    INTERNAL
  }
}
