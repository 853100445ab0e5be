package dev.kad.reactor.lookup;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadId;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Response;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Scheduler;

/**
 * The iterative lookup of Kademlia §2.3 as a Flux pipeline (DESIGN, Lookups are Flux pipelines;
 * STYLE §6). {@link LookupState} decides; this class only wires it:
 *
 * <pre>
 * candidates (a sink fed by the state)
 *   -> flatMap(ask: Stalled at the soft timeout, then Answered | Failed)
 *   -> merge each outcome into the state, which offers the next candidates to the sink
 *   -> take until the state says done
 * </pre>
 *
 * <p>Every outcome passes through {@code flatMap}'s serialized output, so the state has one writer
 * and needs no lock. Cancelling the returned {@code Flux} cancels every request in flight.
 */
public final class Lookup {

  /** Sends one find request; the node adds the hard timeout and the routing-table updates. */
  @FunctionalInterface
  public interface Rpc {
    /**
     * Asks {@code to} for the contacts (and, for a key, the values) closest to {@code target}.
     *
     * @param to the contact asked
     * @param target the id or key
     * @param findValue whether to send FindValue rather than FindNode
     * @return the response, or an error when the request failed
     */
    Mono<Response> find(Contact to, KadId target, boolean findValue);
  }

  private sealed interface Outcome {
    Contact contact();
  }

  private record Stalled(Contact contact) implements Outcome {}

  private record Answered(Contact contact, Response response) implements Outcome {}

  private record Failed(Contact contact, String reason) implements Outcome {}

  private final KadConfig config;
  private final NodeId self;
  private final Scheduler scheduler;
  private final Clock clock;
  private final Rpc rpc;

  /** Fires once per subscription after the soft timeout; cold, so one serves every request. */
  private final Mono<Long> softTimer;

  /** The most requests of one lookup unsettled at once: the flatMap's safety cap. */
  private final int maxPending;

  /** The highest {@link #maxPending(KadConfig)}, whatever the timeouts. */
  static final int MAX_PENDING = 4096;

  /**
   * Creates the engine of one node.
   *
   * @param config k, alpha and the soft timeout
   * @param self this node's id, never asked
   * @param scheduler the node's scheduler, for the soft timeout and elapsed times
   * @param clock the node's clock, to drop values that expired
   * @param rpc how to send a find request
   */
  public Lookup(KadConfig config, NodeId self, Scheduler scheduler, Clock clock, Rpc rpc) {
    this.config = config;
    this.self = self;
    this.scheduler = scheduler;
    this.clock = clock;
    this.rpc = rpc;
    this.softTimer = Mono.delay(config.softTimeout(), scheduler);
    this.maxPending = maxPending(config);
  }

  /**
   * The flatMap's cap for one lookup: a stalled request keeps its slot until the hard timeout while
   * the state asks others, so there is room for k + alpha fresh requests in every soft period of a
   * hard timeout, and dead contacts never fill the pipeline; at most {@value #MAX_PENDING}. The
   * state knows the cap and never hands out more.
   */
  static int maxPending(KadConfig config) {
    // Capped before multiplying: a hard timeout of years over a soft one of nanoseconds has about
    // 3e18 periods, and times k + alpha that overflowed the long; the int cast then made a cap of
    // any sign and size (1,320,157,188 for k = 1, alpha = 3).
    long periods =
        Math.min(MAX_PENDING, config.hardTimeout().toNanos() / config.softTimeout().toNanos() + 1);
    return (int) Math.min(MAX_PENDING, periods * (config.k() + config.alpha()));
  }

  /**
   * Runs one lookup.
   *
   * <p>Subscribing starts it; each step is emitted as it happens and the last is a {@link
   * LookupEvent.Finished}, after which the {@code Flux} completes. It never errors for a failed
   * request (that is a {@link LookupEvent.Failed} step). Cancelling cancels every request in
   * flight.
   *
   * @param target the id or key looked up
   * @param findValue whether to ask for values too
   * @param seeds the starting contacts, usually the routing table's closest
   * @return the steps of the lookup
   */
  public Flux<Progress> run(KadId target, boolean findValue, List<Contact> seeds) {
    return run(target, findValue, Integer.MAX_VALUE, seeds);
  }

  /**
   * Runs one lookup that sends at most {@code budget} requests, as {@link #run(KadId, boolean,
   * List)} otherwise.
   *
   * @param target the id or key looked up
   * @param findValue whether to ask for values too
   * @param budget the most requests to send
   * @param seeds the starting contacts
   * @return the steps of the lookup
   */
  public Flux<Progress> run(KadId target, boolean findValue, int budget, List<Contact> seeds) {
    return Flux.defer(
        () -> {
          long start = scheduler.now(TimeUnit.NANOSECONDS);
          NodeId targetId = target instanceof Key key ? key.asNodeId() : (NodeId) target;
          LookupState state =
              new LookupState(target, self, config.k(), config.alpha(), budget, maxPending, seeds);
          Sinks.Many<Contact> candidates = Sinks.many().unicast().onBackpressureBuffer();
          Context context =
              new Context(
                  targetId, target instanceof Key key ? key : null, start, state, candidates);
          List<Progress> first = context.askNext();
          if (state.isDone()) {
            first.add(context.finished());
            return Flux.fromIterable(first);
          }
          Flux<Progress> rest =
              candidates
                  .asFlux()
                  .flatMap(c -> ask(c, target, findValue), maxPending)
                  .concatMapIterable(context::apply)
                  .takeUntil(p -> p.event() instanceof LookupEvent.Finished);
          return Flux.fromIterable(first).concatWith(rest);
        });
  }

  private Flux<Outcome> ask(Contact contact, KadId target, boolean findValue) {
    Mono<Outcome> answer =
        rpc.find(contact, target, findValue)
            .<Outcome>map(r -> new Answered(contact, r))
            .onErrorResume(e -> Mono.just(new Failed(contact, reason(e))));
    return answer
        .flux()
        .mergeWith(softTimer.map(t -> new Stalled(contact)))
        .takeUntil(o -> !(o instanceof Stalled));
  }

  private static String reason(Throwable e) {
    String message = e.getMessage();
    return message == null ? e.getClass().getSimpleName() : message;
  }

  /** The per-subscription part of a lookup: the state and how outcomes become steps. */
  private final class Context {
    final NodeId target;

    /** The key of a value lookup, under which signed values must verify; null for a node lookup. */
    final Key key;

    final long start;
    final LookupState state;
    final Sinks.Many<Contact> candidates;

    /** Positions + 1 in the answer being sanitized, by id hash; at least twice k, so never full. */
    final int[] slots = new int[Integer.highestOneBit(Math.max(1, 2 * config.k() - 1)) << 1];

    Context(NodeId target, Key key, long start, LookupState state, Sinks.Many<Contact> candidates) {
      this.target = target;
      this.key = key;
      this.start = start;
      this.state = state;
      this.candidates = candidates;
    }

    Duration elapsed() {
      return Duration.ofNanos(scheduler.now(TimeUnit.NANOSECONDS) - start);
    }

    List<Progress> askNext() {
      List<Progress> out = new ArrayList<>();
      for (Contact c : state.next()) {
        out.add(Progress.of(new LookupEvent.Queried(target, elapsed(), c, state.hop(c.id()))));
        // Fails only once the lookup is cancelled or done, when nobody needs the contact.
        candidates.tryEmitNext(c);
      }
      return out;
    }

    Progress finished() {
      return Progress.of(
          new LookupEvent.Finished(
              target, elapsed(), state.closestAnswered(config.k()), state.queried()));
    }

    List<Progress> apply(Outcome outcome) {
      List<Progress> out = new ArrayList<>();
      Contact c = outcome.contact();
      if (outcome instanceof Stalled) {
        state.stalled(c.id());
        out.add(Progress.of(new LookupEvent.Stalled(target, elapsed(), c)));
      } else if (outcome instanceof Failed f) {
        state.failed(c.id());
        out.add(Progress.of(new LookupEvent.Failed(target, elapsed(), c, f.reason())));
      } else if (outcome instanceof Answered a) {
        answered(c, a.response(), out);
      }
      if (state.isDone()) {
        out.add(finished());
      } else {
        out.addAll(askNext());
      }
      return out;
    }

    private void answered(Contact c, Response response, List<Progress> out) {
      String problem = problem(c, response);
      if (problem != null) {
        state.failed(c.id());
        out.add(Progress.of(new LookupEvent.Failed(target, elapsed(), c, problem)));
        return;
      }
      List<Contact> contacts;
      List<Value> values;
      if (response instanceof Response.ValuesFound v) {
        contacts = sanitize(v.contacts(), c);
        values = sanitizeValues(v.values());
      } else {
        contacts = sanitize(((Response.NodesFound) response).contacts(), c);
        values = List.of();
      }
      List<Contact> closer = state.answered(c.id(), contacts);
      out.add(
          new Progress(
              new LookupEvent.Answered(target, elapsed(), c, contacts.size(), values.size()),
              values));
      for (Contact found : closer) {
        out.add(
            Progress.of(
                new LookupEvent.CloserFound(target, elapsed(), found, state.hop(found.id()))));
      }
    }

    private String problem(Contact asked, Response response) {
      if (!response.sender().id().equals(asked.id())) {
        return "answered as " + response.sender().id().toShortHex() + " instead";
      }
      if (response instanceof Response.Failure f) {
        return "refused: " + f.code() + " " + f.message();
      }
      if (!(response instanceof Response.NodesFound || response instanceof Response.ValuesFound)) {
        return "unexpected " + response.getClass().getSimpleName();
      }
      return null;
    }

    /**
     * De-duplicated, bounded by k, without this node, the responder or ids of another width. The
     * state drops addresses no request could reach (a peer would otherwise steer requests at them)
     * from the contacts it does not know yet.
     */
    private List<Contact> sanitize(List<Contact> contacts, Contact responder) {
      List<Contact> out = new ArrayList<>(Math.min(contacts.size(), config.k()));
      Arrays.fill(slots, 0);
      for (Contact c : contacts) {
        if (out.size() == config.k()) {
          break;
        }
        NodeId id = c.id();
        if (id.bits() == self.bits()
            && !id.equals(self)
            && !id.equals(responder.id())
            && isNew(out, id)) {
          out.add(c);
        }
      }
      return out;
    }

    /**
     * Whether {@code out} lacks {@code id}, remembering it as the next element if so. An
     * open-addressing table of positions in {@code out} by id hash: a linear scan of the list was a
     * tenth of the simulation benchmark's time (k squared comparisons per answer).
     */
    private boolean isNew(List<Contact> out, NodeId id) {
      int mask = slots.length - 1;
      int h = id.hashCode();
      for (int i = (h ^ (h >>> 16)) & mask; ; i = (i + 1) & mask) {
        int slot = slots[i];
        if (slot == 0) {
          slots[i] = out.size() + 1;
          return true;
        }
        if (out.get(slot - 1).id().equals(id)) {
          return false;
        }
      }
    }

    /**
     * The values of an answer that a node would store: of this width and size, neither expired nor
     * expiring later than {@link KadConfig#latestExpiry} (a peer parking a value for years), and
     * verified under the key when signed. Taken, a value expiring too late reached the caller and
     * the get's cached copy, whose Store every node refuses as a whole, losing the genuine values.
     */
    private List<Value> sanitizeValues(List<Value> values) {
      if (key == null) {
        return List.of();
      }
      List<Value> out = new ArrayList<>(values.size());
      var now = clock.instant();
      var latest = config.latestExpiry(now);
      for (Value v : values) {
        if (out.size() == config.maxValuesPerKey()) {
          break;
        }
        if (v.publisher().bits() == self.bits()
            && v.size() <= config.maxValueBytes()
            && !v.isExpiredAt(now)
            && !v.expiresAt().isAfter(latest)
            && (!v.isSigned() || v.verifySignature(key))) {
          out.add(v);
        }
      }
      return out;
    }
  }
}
