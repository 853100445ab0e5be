package dev.kad.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One step of a lookup, for tracing, tests and live pages. A lookup emits {@link Queried} when it
 * sends a request, then {@link Stalled} if the request passes the soft timeout, then {@link
 * Answered} or {@link Failed}; {@link CloserFound} for each new contact an answer brings that is
 * closer than every contact that answered so far; and {@link Finished} once, last.
 */
public sealed interface LookupEvent {

  /**
   * The lookup's target.
   *
   * @return the id being looked up
   */
  NodeId target();

  /**
   * Time since the lookup started, on the node's scheduler.
   *
   * @return the elapsed time
   */
  Duration elapsed();

  /**
   * A request was sent.
   *
   * @param target the lookup's target
   * @param elapsed time since the lookup started
   * @param contact the node asked
   * @param hop the hop count of the contact: seeds are hop 1, a contact learnt from a hop-h reply
   *     is hop h+1
   */
  record Queried(NodeId target, Duration elapsed, Contact contact, int hop) implements LookupEvent {

    /**
     * Checks the parts.
     *
     * @param target the lookup's target
     * @param elapsed time since the lookup started
     * @param contact the node asked
     * @param hop the hop count of the contact: seeds are hop 1, a contact learnt from a hop-h reply
     *     is hop h+1
     * @throws NullPointerException when a part is null
     */
    public Queried {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(elapsed, "elapsed");
      Objects.requireNonNull(contact, "contact");
    }
  }

  /**
   * A request passed the soft timeout; it no longer counts against alpha.
   *
   * @param target the lookup's target
   * @param elapsed time since the lookup started
   * @param contact the node that is slow
   */
  record Stalled(NodeId target, Duration elapsed, Contact contact) implements LookupEvent {

    /**
     * Checks the parts.
     *
     * @param target the lookup's target
     * @param elapsed time since the lookup started
     * @param contact the node that is slow
     * @throws NullPointerException when a part is null
     */
    public Stalled {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(elapsed, "elapsed");
      Objects.requireNonNull(contact, "contact");
    }
  }

  /**
   * A node answered.
   *
   * @param target the lookup's target
   * @param elapsed time since the lookup started
   * @param contact the node that answered
   * @param returned how many contacts it returned
   * @param values how many values it returned (find-value only)
   */
  record Answered(NodeId target, Duration elapsed, Contact contact, int returned, int values)
      implements LookupEvent {

    /**
     * Checks the parts.
     *
     * @param target the lookup's target
     * @param elapsed time since the lookup started
     * @param contact the node that answered
     * @param returned how many contacts it returned
     * @param values how many values it returned (find-value only)
     * @throws NullPointerException when a part is null
     */
    public Answered {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(elapsed, "elapsed");
      Objects.requireNonNull(contact, "contact");
    }
  }

  /**
   * A request failed (hard timeout, unreachable, invalid reply).
   *
   * @param target the lookup's target
   * @param elapsed time since the lookup started
   * @param contact the node that failed
   * @param reason why
   */
  record Failed(NodeId target, Duration elapsed, Contact contact, String reason)
      implements LookupEvent {

    /**
     * Checks the parts.
     *
     * @param target the lookup's target
     * @param elapsed time since the lookup started
     * @param contact the node that failed
     * @param reason why
     * @throws NullPointerException when a part is null
     */
    public Failed {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(elapsed, "elapsed");
      Objects.requireNonNull(contact, "contact");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * An answer brought a new contact closer to the target than every contact that had answered so
   * far; one answer may bring several.
   *
   * @param target the lookup's target
   * @param elapsed time since the lookup started
   * @param contact the new contact
   * @param hop its hop count
   */
  record CloserFound(NodeId target, Duration elapsed, Contact contact, int hop)
      implements LookupEvent {

    /**
     * Checks the parts.
     *
     * @param target the lookup's target
     * @param elapsed time since the lookup started
     * @param contact the new closest contact
     * @param hop its hop count
     * @throws NullPointerException when a part is null
     */
    public CloserFound {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(elapsed, "elapsed");
      Objects.requireNonNull(contact, "contact");
    }
  }

  /**
   * The lookup finished.
   *
   * @param target the lookup's target
   * @param elapsed total duration
   * @param closest the closest contacts that answered, nearest first
   * @param queried how many requests were sent
   */
  record Finished(NodeId target, Duration elapsed, List<Contact> closest, int queried)
      implements LookupEvent {

    /**
     * Checks the parts and copies the list.
     *
     * @param target the lookup's target
     * @param elapsed total duration
     * @param closest the closest contacts that answered, nearest first
     * @param queried how many requests were sent
     * @throws NullPointerException when a part is null
     */
    public Finished {
      Objects.requireNonNull(target, "target");
      Objects.requireNonNull(elapsed, "elapsed");
      closest = List.copyOf(closest);
    }
  }
}
