package dev.kad.reactor.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Distance;
import dev.kad.api.KadId;
import dev.kad.api.NodeId;
import dev.kad.reactor.lookup.LookupState.Status;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Function;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link LookupState} driven through whole lookups in a simulated universe, against a model of the
 * rules in its javadoc (Kademlia §2.3) and a brute-force sort by XOR distance. Each try draws a
 * universe of nodes, what each answers and whether it answers, stalls or fails, then settles the
 * requests in a random order, as the pipeline would see them.
 */
class LookupStateProperties {

  /** What a node does with a request, decided once: a node is asked at most once per lookup. */
  enum Fate {
    ANSWER,
    STALL_THEN_ANSWER,
    FAIL,
    STALL_THEN_FAIL;

    boolean stalls() {
      return this == STALL_THEN_ANSWER || this == STALL_THEN_FAIL;
    }

    boolean answers() {
      return this == ANSWER || this == STALL_THEN_ANSWER;
    }
  }

  @Property(tries = 150)
  void keepsTheRulesOfItsJavadocWhateverTheAnswersAndTheirOrder(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 300) int n,
      @ForAll @IntRange(min = 1, max = 256) int k,
      @ForAll @IntRange(min = 1, max = 64) int alpha,
      @ForAll @IntRange(min = 0, max = 400) int budget,
      @ForAll boolean budgeted,
      @ForAll @IntRange(min = 0, max = 64) int extraPending,
      @ForAll boolean capped) {
    SplittableRandom rng = new SplittableRandom(seed);
    Universe u = Universe.random(n, rng);
    Map<NodeId, Fate> fates = new HashMap<>();
    for (Contact c : u.nodes) {
      fates.put(c.id(), Fate.values()[rng.nextInt(Fate.values().length)]);
    }
    // Anything a node may say: random contacts, up to 2k (the pipeline cuts answers to k, the
    // state must cope anyway), with the odd repeat, this node, the responder, an id under another
    // address and an id of another width.
    Function<NodeId, List<Contact>> answers =
        responder -> {
          List<Contact> out = u.sample(rng.nextInt(Math.min(2 * k, n) + 1), rng);
          u.addNoise(out, responder, rng);
          return out;
        };
    List<Contact> seeds = u.sample(rng.nextInt(Math.min(n, 2 * k + 2) + 1), rng);
    u.addNoise(seeds, null, rng);
    Lookups run =
        new Lookups(
            u,
            k,
            alpha,
            budgeted ? budget : Integer.MAX_VALUE,
            capped ? alpha + extraPending : Integer.MAX_VALUE,
            fates::get,
            answers,
            rng);
    run.drive(seeds, true);
  }

  @Property(tries = 100)
  void findsTheTrueKClosestLiveNodesWhenEveryLiveNodeAnswersTruthfully(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 300) int n,
      @ForAll @IntRange(min = 1, max = 256) int k,
      @ForAll @IntRange(min = 1, max = 64) int alpha,
      @ForAll @IntRange(min = 0, max = 64) int extraPending,
      @ForAll @IntRange(min = 0, max = 100) int deadPercent) {
    SplittableRandom rng = new SplittableRandom(seed);
    Universe u = Universe.random(n, rng);
    Map<NodeId, Fate> fates = new HashMap<>();
    List<Contact> live = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Contact c = u.nodes.get(i);
      // Node 0 is live and a seed: the universe is reachable from this node.
      boolean dead = i > 0 && rng.nextInt(100) < deadPercent;
      fates.put(
          c.id(), dead ? (rng.nextBoolean() ? Fate.FAIL : Fate.STALL_THEN_FAIL) : Fate.ANSWER);
      if (!dead) {
        live.add(c);
      }
    }
    live.sort(u.byDistance());
    // A truthful node answers with the k closest live nodes to the target but itself.
    Function<NodeId, List<Contact>> answers =
        responder -> {
          List<Contact> out = new ArrayList<>(k);
          for (int i = 0; i < live.size() && out.size() < k; i++) {
            if (!live.get(i).id().equals(responder)) {
              out.add(live.get(i));
            }
          }
          return out;
        };
    List<Contact> seeds = u.sample(rng.nextInt(Math.min(n, 2 * k) + 1), rng);
    seeds.add(u.nodes.get(0));
    Lookups run =
        new Lookups(u, k, alpha, Integer.MAX_VALUE, alpha + extraPending, fates::get, answers, rng);
    LookupState state = run.drive(seeds, false);
    assertThat(state.closestAnswered(k))
        .containsExactlyElementsOf(live.subList(0, Math.min(k, live.size())));
  }

  @Property(tries = 100)
  void findsTheClosestNodeThroughKademliaRoutingTables(
      @ForAll long seed,
      @ForAll @IntRange(min = 1, max = 300) int n,
      @ForAll @IntRange(min = 1, max = 24) int k,
      @ForAll @IntRange(min = 1, max = 8) int alpha) {
    SplittableRandom rng = new SplittableRandom(seed);
    Universe u = Universe.random(n, rng);
    // Every node, this one included, has k-buckets holding min(k, population) of the nodes in each
    // bucket's range (Kademlia §2.4), and answers with the k closest to the target it knows.
    Map<NodeId, List<Contact>> tables = new HashMap<>();
    Function<NodeId, List<Contact>> answers =
        node -> {
          List<Contact> table =
              tables.computeIfAbsent(node, id -> u.kBuckets(id, k, rng)).stream()
                  .sorted(u.byDistance())
                  .toList();
          return table.subList(0, Math.min(k, table.size()));
        };
    List<Contact> own = new ArrayList<>(u.kBuckets(u.self, k, rng));
    own.sort(u.byDistance());
    List<Contact> seeds = own.subList(0, Math.min(2 * k, own.size()));
    Lookups run =
        new Lookups(
            u, k, alpha, Integer.MAX_VALUE, Integer.MAX_VALUE, id -> Fate.ANSWER, answers, rng);
    LookupState state = run.drive(seeds, false);
    List<Contact> all = new ArrayList<>(u.nodes);
    all.sort(u.byDistance());
    // Each answer from the closest node known holds a closer one until the closest is reached
    // (every non-empty bucket holds a node), and the lookup ends only once the closest known
    // answered; the closest's own table holds at least min(k, n - 1) others.
    assertThat(state.closestAnswered(k)).hasSize(Math.min(k, n)).first().isEqualTo(all.get(0));
  }

  /** Node ids around a target, as contacts with distinct addresses, and this node's id. */
  static final class Universe {
    final NodeId self;
    final KadId target;
    final List<Contact> nodes;

    private Universe(NodeId self, KadId target, List<Contact> nodes) {
      this.self = self;
      this.target = target;
      this.nodes = nodes;
    }

    static Universe random(int n, SplittableRandom rng) {
      NodeId self = NodeId.random(rng);
      NodeId around = rng.nextInt(4) == 0 ? self.randomInBucket(rng.nextInt(160), rng) : null;
      NodeId targetId = around != null ? around : NodeId.random(rng);
      // A key and a node id of the same bytes are both valid targets.
      KadId target = rng.nextBoolean() ? targetId : targetId.asKey();
      Set<NodeId> ids = new LinkedHashSet<>();
      while (ids.size() < n) {
        // A third share a prefix with the target, many of them over 64 bits, so the state's
        // 64-bit distance prefix ties and the full ids decide.
        NodeId id =
            rng.nextInt(3) == 0
                ? targetId.randomInBucket(rng.nextInt(160), rng)
                : NodeId.random(rng);
        if (!id.equals(self)) {
          ids.add(id);
        }
      }
      List<Contact> nodes = new ArrayList<>(n);
      int i = 0;
      for (NodeId id : ids) {
        nodes.add(new Contact(id, new Address("10.0." + (i >> 8) + "." + (i & 0xff), 4000)));
        i++;
      }
      return new Universe(self, target, nodes);
    }

    private final Map<NodeId, Distance> distances = new HashMap<>();

    Distance distance(Contact c) {
      return distances.computeIfAbsent(c.id(), target::distance);
    }

    Comparator<Contact> byDistance() {
      return Comparator.comparing(this::distance);
    }

    List<Contact> sample(int size, SplittableRandom rng) {
      List<Contact> pool = new ArrayList<>(nodes);
      List<Contact> out = new ArrayList<>(size);
      for (int i = 0; i < size && !pool.isEmpty(); i++) {
        int j = rng.nextInt(pool.size());
        out.add(pool.get(j));
        pool.set(j, pool.get(pool.size() - 1));
        pool.remove(pool.size() - 1);
      }
      return out;
    }

    /** What the state must ignore: repeats, this node, another width, an id at a new address. */
    void addNoise(List<Contact> contacts, NodeId responder, SplittableRandom rng) {
      if (rng.nextInt(4) != 0) {
        return;
      }
      Contact any = nodes.get(rng.nextInt(nodes.size()));
      contacts.add(rng.nextInt(contacts.size() + 1), any);
      contacts.add(rng.nextInt(contacts.size() + 1), new Contact(any.id(), new Address("h", 1)));
      contacts.add(rng.nextInt(contacts.size() + 1), new Contact(self, new Address("me", 1)));
      contacts.add(
          rng.nextInt(contacts.size() + 1),
          new Contact(NodeId.random(256, rng), new Address("wide", 1)));
      if (responder != null) {
        contacts.add(rng.nextInt(contacts.size() + 1), new Contact(responder, new Address("r", 1)));
      }
    }

    /** A routing table of {@code owner} over this universe: min(k, population) per bucket. */
    List<Contact> kBuckets(NodeId owner, int k, SplittableRandom rng) {
      Map<Integer, List<Contact>> buckets = new HashMap<>();
      for (Contact c : nodes) {
        if (!c.id().equals(owner)) {
          buckets.computeIfAbsent(owner.bucketIndex(c.id()), i -> new ArrayList<>()).add(c);
        }
      }
      List<Contact> table = new ArrayList<>();
      for (List<Contact> bucket : buckets.values()) {
        for (int i = 0; i < k && !bucket.isEmpty(); i++) {
          int j = rng.nextInt(bucket.size());
          table.add(bucket.get(j));
          bucket.set(j, bucket.get(bucket.size() - 1));
          bucket.remove(bucket.size() - 1);
        }
      }
      return table;
    }
  }

  /**
   * One lookup run to its end: the state under test, a model of its javadoc's rules beside it, and
   * the simulated network settling requests in random order. Every step compares the two.
   */
  static final class Lookups {
    final Universe u;
    final int k;
    final int alpha;
    final int budget;
    final int maxPending;
    final Function<NodeId, Fate> fates;
    final Function<NodeId, List<Contact>> answers;
    final SplittableRandom rng;

    // The model.
    final Map<NodeId, Contact> known = new HashMap<>();

    /** The known contacts, nearest first: the brute-force order by XOR distance. */
    final List<Contact> order = new ArrayList<>();

    final Map<NodeId, Status> status = new HashMap<>();
    final Map<Status, Integer> counts = new EnumMap<>(Status.class);
    final Map<NodeId, Integer> hops = new HashMap<>();
    int queried;
    int quietAnswers;
    boolean widened;
    Distance closestAnswered;

    Lookups(
        Universe u,
        int k,
        int alpha,
        int budget,
        int maxPending,
        Function<NodeId, Fate> fates,
        Function<NodeId, List<Contact>> answers,
        SplittableRandom rng) {
      this.u = u;
      this.k = k;
      this.alpha = alpha;
      this.budget = budget;
      this.maxPending = maxPending;
      this.fates = fates;
      this.answers = answers;
      this.rng = rng;
    }

    /**
     * Runs the lookup as the pipeline does: next() at the start and after every outcome until
     * isDone(). Checks every step and the result; returns the state.
     */
    LookupState drive(List<Contact> seeds, boolean strayOutcomes) {
      LookupState state = new LookupState(u.target, u.self, k, alpha, budget, maxPending, seeds);
      offer(seeds, 1);
      check(state);
      List<NodeId> unsettled = new ArrayList<>();
      Set<NodeId> stalledOnce = new HashSet<>();
      handOut(state, unsettled);
      // Only nodes of the universe are asked, each once, and a request settles after at most two
      // outcomes: the bound on the steps of a lookup that terminates.
      int strays = strayOutcomes ? 20 : 0;
      int maxSteps = 2 * u.nodes.size() + strays;
      int steps = 0;
      while (true) {
        assertThat(state.isDone()).as("isDone() as the javadoc says").isEqualTo(done());
        if (state.isDone()) {
          break;
        }
        assertThat(unsettled)
            .as("stuck: not done, yet nothing unsettled and nothing handed out")
            .isNotEmpty();
        assertThat(++steps).as("steps").isLessThanOrEqualTo(maxSteps);
        if (strays > 0 && rng.nextInt(8) == 0) {
          strays--;
          stray(state);
        } else {
          NodeId id = unsettled.get(rng.nextInt(unsettled.size()));
          Fate fate = fates.apply(id);
          if (fate.stalls() && stalledOnce.add(id)) {
            state.stalled(id);
            stalled(id);
          } else {
            unsettled.remove(id);
            if (fate.answers()) {
              List<Contact> contacts = answers.apply(id);
              List<Contact> expected = answered(id, contacts);
              assertThat(state.answered(id, contacts))
                  .as("the contacts new and closer than every answer")
                  .containsExactlyElementsOf(expected);
            } else {
              state.failed(id);
              failed(id);
            }
          }
        }
        check(state);
        if (!state.isDone()) {
          handOut(state, unsettled);
        }
      }
      List<Contact> answered = sorted(Status.ANSWERED);
      for (int n : new int[] {0, 1, k, 2 * k}) {
        assertThat(state.closestAnswered(n))
            .as("the %s closest that answered, nearest first", n)
            .containsExactlyElementsOf(answered.subList(0, Math.min(n, answered.size())));
      }
      return state;
    }

    /** An outcome the pipeline may deliver that changes nothing: unknown id, already settled. */
    private void stray(LookupState state) {
      List<NodeId> settled = new ArrayList<>();
      for (Map.Entry<NodeId, Status> e : status.entrySet()) {
        if (e.getValue() != Status.IN_FLIGHT && e.getValue() != Status.STALLED) {
          settled.add(e.getKey());
        }
      }
      NodeId id =
          settled.isEmpty() || rng.nextBoolean()
              ? NodeId.random(rng)
              : settled.get(rng.nextInt(settled.size()));
      switch (rng.nextInt(3)) {
        case 0 -> state.stalled(id);
        case 1 -> state.failed(id);
        default ->
            assertThat(state.answered(id, u.sample(3, rng)))
                .as("an answer nobody waits for adds nothing")
                .isEmpty();
      }
    }

    private void handOut(LookupState state, List<NodeId> unsettled) {
      List<Contact> window = window();
      List<Contact> out = state.next();
      for (int i = 0; i < out.size(); i++) {
        Contact c = out.get(i);
        assertThat(c.id()).as("never asks itself").isNotEqualTo(u.self);
        assertThat(status.get(c.id())).as("asks %s once, while new", c).isEqualTo(Status.NEW);
        assertThat(c).as("with its first address").isEqualTo(known.get(c.id()));
        assertThat(window).as("only the k closest not failed or stalled").contains(c);
        if (i > 0) {
          assertThat(u.distance(out.get(i - 1))).as("closest first").isLessThan(u.distance(c));
        }
        mark(c.id(), Status.IN_FLIGHT);
        queried++;
        unsettled.add(c.id());
      }
      int inFlight = count(Status.IN_FLIGHT);
      int pending = inFlight + count(Status.STALLED);
      assertThat(queried).as("budget").isLessThanOrEqualTo(budget);
      assertThat(pending).as("maxPending").isLessThanOrEqualTo(maxPending);
      if (!widened && !out.isEmpty()) {
        assertThat(inFlight).as("in flight, not widened").isLessThanOrEqualTo(alpha);
      }
      // Whoever in the window is still new waits for a reason: a slot, the budget or the cap.
      // Widened, every eligible contact not yet asked may be asked at once.
      List<Contact> waiting = new ArrayList<>();
      for (Contact c : window) {
        if (status.get(c.id()) == Status.NEW) {
          waiting.add(c);
        }
      }
      if (!waiting.isEmpty()) {
        boolean held = queried >= budget || pending >= maxPending || !widened && inFlight >= alpha;
        assertThat(held)
            .as(
                "%s left waiting with %s in flight of alpha %s, widened %s, %s of budget %s,"
                    + " %s pending of %s",
                waiting, inFlight, alpha, widened, queried, budget, pending, maxPending)
            .isTrue();
        if (!out.isEmpty()) {
          assertThat(u.distance(out.get(out.size() - 1)))
              .as("the closest new are asked first")
              .isLessThan(u.distance(waiting.get(0)));
        }
      }
      assertThat(state.next()).as("nothing more without a change").isEmpty();
      check(state);
    }

    /** The k closest known contacts that neither failed nor stalled: those eligible to be asked. */
    private List<Contact> window() {
      List<Contact> out = new ArrayList<>();
      for (Contact c : sorted(null)) {
        Status s = status.get(c.id());
        if (s != Status.FAILED && s != Status.STALLED && out.size() < k) {
          out.add(c);
        }
      }
      return out;
    }

    private List<Contact> offer(List<Contact> contacts, int hop) {
      List<Contact> added = new ArrayList<>();
      for (Contact c : contacts) {
        NodeId id = c.id();
        if (!id.equals(u.self) && id.bits() == u.self.bits() && !known.containsKey(id)) {
          known.put(id, c);
          int at = Collections.binarySearch(order, c, u.byDistance());
          order.add(-at - 1, c);
          mark(id, Status.NEW);
          hops.put(id, hop);
          added.add(c);
        }
      }
      return added;
    }

    private void stalled(NodeId id) {
      if (status.get(id) == Status.IN_FLIGHT) {
        mark(id, Status.STALLED);
      }
    }

    private void failed(NodeId id) {
      Status s = status.get(id);
      if (s == Status.IN_FLIGHT || s == Status.STALLED) {
        mark(id, Status.FAILED);
      }
    }

    /** The model of answered(): returns the contacts new and closer than every answer so far. */
    private List<Contact> answered(NodeId id, List<Contact> contacts) {
      Status s = status.get(id);
      if (s != Status.IN_FLIGHT && s != Status.STALLED) {
        return List.of();
      }
      mark(id, Status.ANSWERED);
      Distance d = u.target.distance(id);
      if (closestAnswered == null || d.compareTo(closestAnswered) < 0) {
        closestAnswered = d;
      }
      Distance closestSeen = u.distance(sorted(null).get(0));
      List<Contact> closer = new ArrayList<>();
      for (Contact c : offer(contacts, hops.get(id) + 1)) {
        if (u.distance(c).compareTo(closestAnswered) < 0) {
          closer.add(c);
        }
      }
      // Kademlia §2.3: alpha answers in a row with nothing closer than the closest seen widen the
      // lookup; anything closer narrows it again.
      if (u.distance(sorted(null).get(0)).compareTo(closestSeen) < 0) {
        quietAnswers = 0;
        widened = false;
      } else if (++quietAnswers >= alpha) {
        widened = true;
      }
      return closer;
    }

    /**
     * The javadoc's done: the budget is spent and settled; or k answered and no contact closer than
     * the k-th is new or in flight; or fewer answered and none is new, in flight or stalled.
     */
    private boolean done() {
      int pending = count(Status.IN_FLIGHT) + count(Status.STALLED);
      if (queried >= budget && pending == 0) {
        return true;
      }
      List<Contact> answered = sorted(Status.ANSWERED);
      for (Contact c : sorted(null)) {
        Status s = status.get(c.id());
        boolean open = s == Status.NEW || s == Status.IN_FLIGHT;
        if (answered.size() >= k) {
          if (open && u.distance(c).compareTo(u.distance(answered.get(k - 1))) < 0) {
            return false;
          }
        } else if (open || s == Status.STALLED) {
          return false;
        }
      }
      return true;
    }

    private List<Contact> sorted(Status only) {
      if (only == null) {
        return order;
      }
      List<Contact> out = new ArrayList<>();
      for (Contact c : order) {
        if (status.get(c.id()) == only) {
          out.add(c);
        }
      }
      return out;
    }

    private void mark(NodeId id, Status s) {
      Status old = status.put(id, s);
      if (old != null) {
        counts.merge(old, -1, Integer::sum);
      }
      counts.merge(s, 1, Integer::sum);
    }

    private int count(Status s) {
      return counts.getOrDefault(s, 0);
    }

    private void check(LookupState state) {
      // One assertion for the lot: thousands of AssertJ assertions per lookup cost more than it.
      List<String> wrong = new ArrayList<>();
      for (Contact c : u.nodes) {
        NodeId id = c.id();
        if (state.status(id) != status.get(id) || state.hop(id) != hops.getOrDefault(id, -1)) {
          wrong.add(
              id.toShortHex()
                  + " is "
                  + state.status(id)
                  + " at hop "
                  + state.hop(id)
                  + ", not "
                  + status.get(id)
                  + " at hop "
                  + hops.getOrDefault(id, -1));
        }
      }
      assertThat(wrong).as("status and hop of every node").isEmpty();
      assertThat(state.status(u.self)).as("never a candidate itself").isNull();
      assertThat(state.queried()).as("queried").isEqualTo(queried);
      assertThat(state.pending())
          .as("pending")
          .isEqualTo(count(Status.IN_FLIGHT) + count(Status.STALLED));
      assertThat(state.isWidened()).as("widened").isEqualTo(widened);
    }
  }
}
