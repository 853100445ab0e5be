package dev.kad.transport.tcp;

import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.function.Function;
import java.util.function.LongSupplier;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.core.scheduler.Schedulers;

/**
 * The look-ups of host names that requests claim for their sender ({@code checkSenderAddress}), for
 * the whole transport: at most {@code maxInFlight} at once, and each host's addresses kept for
 * {@code ttl}, for at most {@code maxHosts} hosts.
 *
 * <p>A look-up blocks a {@link Schedulers#boundedElastic()} thread, which the node's own dials and
 * the application share, until the system's resolver answers or gives up, whoever stops waiting for
 * it; and peers choose the names. So a look-up, once started, runs to its end whatever its waiters
 * do, and counts against {@code maxInFlight} until then: a peer claiming names whose name server
 * never answers takes at most that many threads, however often it reconnects. A source (the per-IP
 * bounds' key) runs at most one look-up at a time, so one peer cannot hold every slot and lock out
 * honest peers that claim names. When none is free, or the source's is taken, a host that is not
 * known is not looked up ({@link #addresses} is empty), and nothing is kept of the refusal. A
 * failed look-up is kept as no addresses, for the same {@code ttl}.
 *
 * <p>Time is {@code nanoClock}, {@link System#nanoTime()} in the transport, as {@link
 * RequestRates}'s.
 */
final class HostLookups {

  private final Function<String, Mono<List<InetAddress>>> lookUp;
  private final Semaphore inFlight;
  private final int maxHosts;
  private final long ttlNanos;
  private final LongSupplier nanoClock;
  private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

  /** Look-ups in flight per source; a source without one has no entry. */
  private final ConcurrentHashMap<String, Integer> bySource = new ConcurrentHashMap<>();

  /** Look-ups one source may run at once. */
  static final int PER_SOURCE = 1;

  /** Completes on {@link #dispose()}: look-ups still running are cancelled. */
  private final Sinks.Empty<Void> disposed = Sinks.empty();

  /**
   * @param lookUp every address of a host name; subscribed to on {@link
   *     Schedulers#boundedElastic()}
   * @param maxInFlight look-ups running at once, positive
   * @param maxHosts hosts whose addresses are kept, more than {@code maxInFlight}
   * @param ttl how long a host's addresses are kept
   * @param nanoClock a monotonic clock in nanoseconds
   */
  HostLookups(
      Function<String, Mono<List<InetAddress>>> lookUp,
      int maxInFlight,
      int maxHosts,
      Duration ttl,
      LongSupplier nanoClock) {
    if (maxInFlight <= 0) {
      throw new IllegalArgumentException("maxInFlight must be positive but was " + maxInFlight);
    }
    if (maxHosts <= maxInFlight) {
      throw new IllegalArgumentException(
          "maxHosts must be more than maxInFlight " + maxInFlight + " but was " + maxHosts);
    }
    this.lookUp = lookUp;
    this.inFlight = new Semaphore(maxInFlight);
    this.maxHosts = maxHosts;
    this.ttlNanos = ttl.toNanos();
    this.nanoClock = nanoClock;
  }

  /**
   * The addresses of {@code host}: kept ones at once ({@code Mono.just}), else those of the look-up
   * in flight for it, else those of a new look-up; empty when a new one is needed and none is free,
   * unless addresses past their {@code ttl} are still kept, which are used then. The {@code Mono}
   * emits the empty list when the look-up failed; it never errors.
   */
  Optional<Mono<List<InetAddress>>> addresses(String host) {
    return addresses(host, null);
  }

  /**
   * As {@link #addresses(String)}, for a request from {@code source}, which may start a new look-up
   * only while it has fewer than {@link #PER_SOURCE} in flight.
   *
   * @param source the requester's source, as the per-IP bounds key it, or null for a peer they do
   *     not count (one on this host)
   */
  Optional<Mono<List<InetAddress>>> addresses(String host, String source) {
    long now = nanoClock.getAsLong();
    Entry[] started = new Entry[1];
    Entry entry =
        entries.compute(
            host,
            (h, old) -> {
              if (old != null && old.fresh(now)) {
                return old;
              }
              if (source != null && !takeShare(source)) {
                return old;
              }
              if (!inFlight.tryAcquire()) {
                if (source != null) {
                  releaseShare(source);
                }
                return old;
              }
              started[0] = new Entry();
              return started[0];
            });
    if (entry == null) {
      return Optional.empty();
    }
    if (started[0] != null) {
      trim(now);
      start(host, started[0], source);
    }
    return Optional.of(entry.addresses);
  }

  private boolean takeShare(String source) {
    boolean[] taken = new boolean[1];
    bySource.compute(
        source,
        (s, n) -> {
          int running = n == null ? 0 : n;
          if (running >= PER_SOURCE) {
            return n;
          }
          taken[0] = true;
          return running + 1;
        });
    return taken[0];
  }

  private void releaseShare(String source) {
    bySource.computeIfPresent(source, (s, n) -> n <= 1 ? null : n - 1);
  }

  private void start(String host, Entry entry, String source) {
    Mono.defer(() -> lookUp.apply(host))
        .subscribeOn(Schedulers.boundedElastic())
        .map(List::copyOf)
        .onErrorReturn(List.of())
        .defaultIfEmpty(List.of())
        .takeUntilOther(disposed.asMono())
        .subscribe(
            addresses -> {
              // Free before the waiters hear: one of them may start the next look-up.
              inFlight.release();
              if (source != null) {
                releaseShare(source);
              }
              entry.done(addresses, nanoClock.getAsLong());
            });
  }

  /** Drops expired hosts, then others looked up, until at most {@code maxHosts} are kept. */
  private void trim(long now) {
    if (entries.size() <= maxHosts) {
      return;
    }
    entries.values().removeIf(e -> e.expired(now));
    for (var it = entries.values().iterator(); entries.size() > maxHosts && it.hasNext(); ) {
      if (it.next().isDone()) {
        it.remove();
      }
    }
  }

  /** Hosts kept now, looked up or being looked up. */
  int size() {
    return entries.size();
  }

  /** Cancels the look-ups still running; their waiters are never answered. */
  void dispose() {
    disposed.tryEmitEmpty();
  }

  /** A host's addresses, or its look-up in flight. */
  private final class Entry {
    private final Sinks.One<List<InetAddress>> result = Sinks.one();

    /** The look-up's result, replaced by {@code Mono.just} of it once it is known. */
    private volatile Mono<List<InetAddress>> addresses = result.asMono();

    private volatile boolean done;

    /** On {@code nanoClock}, when the look-up ended; set before {@code done}. */
    private volatile long doneAt;

    void done(List<InetAddress> found, long now) {
      addresses = Mono.just(found);
      doneAt = now;
      done = true;
      result.tryEmitValue(found);
    }

    boolean isDone() {
      return done;
    }

    /** Whether it is in flight, or looked up within the TTL. */
    boolean fresh(long now) {
      return !done || now - doneAt < ttlNanos;
    }

    boolean expired(long now) {
      return !fresh(now);
    }
  }
}
