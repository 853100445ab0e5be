package dev.kad.reactor.lookup;

import dev.kad.api.Contact;
import dev.kad.api.KadId;
import dev.kad.api.NodeId;
import dev.kad.reactor.routing.Subnets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The closest-set of one iterative lookup (Kademlia §2.3), as plain Java: which contacts are known,
 * which were asked, which answered or failed, which to ask next, and whether the lookup is done.
 * Not thread-safe: the lookup pipeline calls it from its serialized output.
 *
 * <p>Rules: until the lookup widens, at most {@code alpha} requests count as in flight; a request
 * past the soft timeout is stalled and stops counting. Only the {@code k} closest contacts that
 * have neither failed nor stalled are eligible to be asked. When {@code alpha} answers in a row
 * bring no contact closer than the closest seen so far (Kademlia §2.3: a round that "fails to
 * return a node any closer than the closest already seen"), the lookup widens: every eligible
 * contact not yet asked may be asked at once; a closer contact narrows it to {@code alpha} again.
 * The lookup is done when {@code k} contacts answered and nobody closer than the k-th is still to
 * ask or in flight.
 */
public final class LookupState {

  /** Where a contact stands in this lookup. */
  public enum Status {
    /** Known, not asked. */
    NEW,
    /** Asked, waiting, counting against alpha. */
    IN_FLIGHT,
    /** Asked, past the soft timeout: no longer counting against alpha, answer still welcome. */
    STALLED,
    /** Answered. */
    ANSWERED,
    /** Did not answer, or answered with a refusal. */
    FAILED
  }

  private static final class Candidate {
    final Contact contact;

    /** The first 64 bits of the distance to the target: orders most pairs without the ids. */
    final long distance;

    final int hop;
    Status status = Status.NEW;

    Candidate(Contact contact, long distance, int hop) {
      this.contact = contact;
      this.distance = distance;
      this.hop = hop;
    }
  }

  private final KadId target;
  private final NodeId self;
  private final int k;
  private final int alpha;
  private final long targetPrefix;
  private final TreeSet<Candidate> byDistance = new TreeSet<>(this::compareDistance);
  private final Map<NodeId, Candidate> byId = new HashMap<>();
  private int inFlight;
  private int pending;
  private int answersWithoutProgress;
  private boolean widened;
  private NodeId closestAnswered;
  private int queried;
  private final int budget;
  private final int maxPending;

  /**
   * Starts a lookup.
   *
   * @param target the id or key looked up, as wide as {@code self}
   * @param self this node's id, never a candidate
   * @param k the size of the closest-set, at least 1
   * @param alpha requests in flight at once, at least 1
   * @param seeds the first contacts, from the routing table (hop 1)
   * @throws IllegalArgumentException when a value is out of its range, naming it
   */
  public LookupState(KadId target, NodeId self, int k, int alpha, Collection<Contact> seeds) {
    this(target, self, k, alpha, Integer.MAX_VALUE, seeds);
  }

  /**
   * Starts a lookup that sends at most {@code budget} requests: done once they are spent and
   * settled, e.g. a bucket refresh, which may send no more than k requests per bucket.
   *
   * @param target the id or key looked up, as wide as {@code self}
   * @param self this node's id, never a candidate
   * @param k the size of the closest-set, at least 1
   * @param alpha requests in flight at once, at least 1
   * @param budget the most requests the lookup sends, at least 0 (none: done at once)
   * @param seeds the first contacts, from the routing table (hop 1)
   * @throws IllegalArgumentException when a value is out of its range, naming it
   */
  public LookupState(
      KadId target, NodeId self, int k, int alpha, int budget, Collection<Contact> seeds) {
    this(target, self, k, alpha, budget, Integer.MAX_VALUE, seeds);
  }

  /**
   * Starts a lookup that sends at most {@code budget} requests and never has more than {@code
   * maxPending} unsettled (in flight or stalled) at once: the pipeline's cap on requests it runs
   * together, so that every contact {@link #next()} hands out is really asked.
   *
   * @param target the id or key looked up, as wide as {@code self}
   * @param self this node's id, never a candidate
   * @param k the size of the closest-set, at least 1
   * @param alpha requests in flight at once, at least 1
   * @param budget the most requests the lookup sends, at least 0 (none: done at once)
   * @param maxPending the most unsettled requests at once, at least alpha
   * @param seeds the first contacts, from the routing table (hop 1)
   * @throws IllegalArgumentException when a value is out of its range, naming it
   */
  public LookupState(
      KadId target,
      NodeId self,
      int k,
      int alpha,
      int budget,
      int maxPending,
      Collection<Contact> seeds) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(self, "self");
    Objects.requireNonNull(seeds, "seeds");
    if (target.bits() != self.bits()) {
      throw new IllegalArgumentException(
          "target must have " + self.bits() + " bits as self has but had " + target.bits());
    }
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1 but was " + k);
    }
    if (alpha < 1) {
      throw new IllegalArgumentException("alpha must be at least 1 but was " + alpha);
    }
    if (budget < 0) {
      throw new IllegalArgumentException("budget must be at least 0 but was " + budget);
    }
    // Below alpha, the pipeline's cap would hold back requests the state counts as in flight.
    if (maxPending < alpha) {
      throw new IllegalArgumentException(
          "maxPending must be at least alpha " + alpha + " but was " + maxPending);
    }
    this.budget = budget;
    this.maxPending = maxPending;
    this.target = target;
    this.self = self;
    this.k = k;
    this.alpha = alpha;
    this.targetPrefix = target.highBits();
    for (Contact c : seeds) {
      offer(c, 1);
    }
  }

  /**
   * Adds contacts a node returned. Duplicates, this node and contacts of another width are ignored;
   * ids already known keep their first address.
   *
   * @param contacts the returned contacts
   * @param hop the hop they were learned at
   * @return the contacts that were new and closer than every contact that answered so far
   */
  public List<Contact> offer(Collection<Contact> contacts, int hop) {
    List<Contact> closer = new ArrayList<>();
    for (Contact c : contacts) {
      if (offer(c, hop)
          && (closestAnswered == null || target.compareDistance(c.id(), closestAnswered) < 0)) {
        closer.add(c);
      }
    }
    return closer;
  }

  private boolean offer(Contact c, int hop) {
    NodeId id = c.id();
    // Dialable last: most contacts an answer names are known already, and reading an address is
    // what an answer's check cost (the contacts of a simulated network's answers are the
    // responders' own, cold in memory).
    if (id.equals(self)
        || id.bits() != self.bits()
        || byId.containsKey(id)
        || !Subnets.dialable(c.address())) {
      return false;
    }
    Candidate candidate = new Candidate(c, id.highBits() ^ targetPrefix, hop);
    byId.put(id, candidate);
    byDistance.add(candidate);
    return true;
  }

  private int compareDistance(Candidate a, Candidate b) {
    int byPrefix = Long.compareUnsigned(a.distance, b.distance);
    return byPrefix != 0 ? byPrefix : target.compareDistance(a.contact.id(), b.contact.id());
  }

  /**
   * The contacts to ask now, marked in flight. Call after every change.
   *
   * @return the next contacts, closest first, possibly none
   */
  public List<Contact> next() {
    List<Contact> out = new ArrayList<>();
    int eligible = 0;
    for (Candidate c : byDistance) {
      // Failed and stalled contacts leave the window, so a slow node never holds it up.
      if (c.status == Status.FAILED || c.status == Status.STALLED) {
        continue;
      }
      // Widened, every eligible contact not yet asked is asked (Kademlia §2.3: "all of the k
      // closest nodes it has not already queried"): requests still in flight to contacts that
      // closer ones pushed out of the window do not hold it back, nor does alpha above k.
      if (++eligible > k || !widened && inFlight >= alpha) {
        break;
      }
      if (c.status == Status.NEW && queried < budget && pending < maxPending) {
        c.status = Status.IN_FLIGHT;
        inFlight++;
        pending++;
        queried++;
        out.add(c.contact);
      }
    }
    return out;
  }

  /**
   * Marks a request as past the soft timeout: it frees its alpha slot.
   *
   * @param id the contact asked
   */
  public void stalled(NodeId id) {
    Candidate c = byId.get(id);
    if (c != null && c.status == Status.IN_FLIGHT) {
      c.status = Status.STALLED;
      inFlight--;
    }
  }

  /**
   * Records an answer and merges the contacts it carried.
   *
   * @param id the contact that answered
   * @param contacts the contacts it returned, already checked
   * @return the returned contacts that are closer than any answer so far
   */
  public List<Contact> answered(NodeId id, Collection<Contact> contacts) {
    Candidate c = settle(id, Status.ANSWERED);
    if (c == null) {
      return List.of();
    }
    if (closestAnswered == null || target.compareDistance(id, closestAnswered) < 0) {
      closestAnswered = id;
    }
    Candidate closestSeen = byDistance.first();
    List<Contact> closer = offer(contacts, c.hop + 1);
    if (byDistance.first() != closestSeen) {
      answersWithoutProgress = 0;
      widened = false;
    } else if (++answersWithoutProgress >= alpha) {
      widened = true;
    }
    return closer;
  }

  /**
   * Records a failed request.
   *
   * @param id the contact that failed
   */
  public void failed(NodeId id) {
    settle(id, Status.FAILED);
  }

  private Candidate settle(NodeId id, Status status) {
    Candidate c = byId.get(id);
    if (c == null || (c.status != Status.IN_FLIGHT && c.status != Status.STALLED)) {
      return null;
    }
    if (c.status == Status.IN_FLIGHT) {
      inFlight--;
    }
    pending--;
    c.status = status;
    return c;
  }

  /**
   * Whether the lookup is finished: k contacts answered and no contact closer than the k-th is
   * still to ask or in flight. A stalled contact (past the soft timeout, most likely dead) does not
   * hold the lookup up once k others answered; with fewer than k answers the lookup waits for the
   * stalled ones to answer or fail.
   *
   * @return true when done
   */
  public boolean isDone() {
    if (queried >= budget && pending == 0) {
      return true;
    }
    int answered = 0;
    boolean stalledPending = false;
    for (Candidate c : byDistance) {
      switch (c.status) {
        case FAILED -> {
          continue;
        }
        case STALLED -> stalledPending = true;
        case NEW, IN_FLIGHT -> {
          return false;
        }
        case ANSWERED -> {
          if (++answered == k) {
            return true;
          }
        }
      }
    }
    return !stalledPending;
  }

  /**
   * The closest contacts that answered, nearest first.
   *
   * @param n how many at most
   * @return the contacts
   */
  public List<Contact> closestAnswered(int n) {
    List<Contact> out = new ArrayList<>(n);
    for (Candidate c : byDistance) {
      if (out.size() == n) {
        break;
      }
      if (c.status == Status.ANSWERED) {
        out.add(c.contact);
      }
    }
    return out;
  }

  /**
   * Where a contact stands.
   *
   * @param id the contact's id
   * @return its status, or null when unknown
   */
  public Status status(NodeId id) {
    Candidate c = byId.get(id);
    return c == null ? null : c.status;
  }

  /**
   * The hop a contact was learned at: 1 for seeds from the routing table, h + 1 for a contact
   * returned by a hop-h contact.
   *
   * @param id the contact's id
   * @return the hop, or -1 when unknown
   */
  public int hop(NodeId id) {
    Candidate c = byId.get(id);
    return c == null ? -1 : c.hop;
  }

  /**
   * How many requests were sent.
   *
   * @return the count
   */
  public int queried() {
    return queried;
  }

  /**
   * How many requests have not settled (in flight or stalled).
   *
   * @return the count
   */
  public int pending() {
    return pending;
  }

  /**
   * Whether the lookup widened after a window of answers brought nothing closer.
   *
   * @return true when widened
   */
  public boolean isWidened() {
    return widened;
  }
}
