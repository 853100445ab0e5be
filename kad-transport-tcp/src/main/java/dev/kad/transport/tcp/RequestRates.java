package dev.kad.transport.tcp;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The token buckets of {@code maxRequestsPerSecondPerIp}: one per source (an IPv4 address or IPv6
 * /64, as {@link TcpTransport#inboundSource} keys the per-IP connection bound), holding one
 * second's worth of requests and refilled at the rate, shared by every connection of the source.
 *
 * <p>A bucket is a single timestamp (the generic cell rate algorithm): the instant at which it is
 * full again. A request is let through when taking one more token leaves that instant at most a
 * second ahead; a refused request takes nothing. So a bucket is lock-free, and a full bucket is
 * exactly one whose instant has passed.
 *
 * <p>Memory is bounded by the connections: a source's bucket is made at the first request of a
 * connection from it and dropped once it has no connection and has refilled (a full bucket and no
 * bucket are the same), so a peer cannot refill its bucket by reconnecting, and the map holds only
 * sources with a connection open or closed within the last second.
 *
 * <p>Time is {@code nanoClock}, {@link System#nanoTime()} in the transport: the monotonic clock its
 * other per-connection bounds (idle and preface timeouts, eviction) run on, since requests arrive
 * in real time whatever the node's scheduler.
 */
final class RequestRates {

  private static final long SECOND_NANOS = 1_000_000_000L;

  private final int perSecond;
  private final long intervalNanos;
  private final long burstNanos;
  private final LongSupplier nanoClock;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  /**
   * @param perSecond requests a second per source, positive; also the burst
   * @param nanoClock a monotonic clock in nanoseconds
   */
  RequestRates(int perSecond, LongSupplier nanoClock) {
    if (perSecond <= 0) {
      throw new IllegalArgumentException("perSecond must be positive but was " + perSecond);
    }
    this.perSecond = perSecond;
    this.intervalNanos = Math.max(1, SECOND_NANOS / perSecond);
    this.burstNanos = intervalNanos * perSecond;
    this.nanoClock = nanoClock;
  }

  int perSecond() {
    return perSecond;
  }

  /**
   * The bucket of {@code source} for a connection from it, at the connection's first request;
   * counted until {@link #closed}.
   */
  Bucket opened(String source) {
    return buckets.compute(
        source,
        (s, b) -> {
          Bucket bucket = b != null ? b : new Bucket(s);
          bucket.connections++;
          return bucket;
        });
  }

  /**
   * Counts off a closed connection of {@code bucket}'s source. The source's last connection drops
   * the bucket when it is full; otherwise {@code later} drops it once it has refilled, unless a new
   * connection took it meanwhile (whose close checks it again).
   *
   * @param later where to run the check once the bucket is full (a connection's event loop)
   */
  void closed(Bucket bucket, ScheduledExecutorService later) {
    Bucket kept = buckets.computeIfPresent(bucket.source, (s, b) -> release(b, true));
    dropWhenFull(kept, later);
  }

  /**
   * Checks {@code kept} again once it is full, if it is kept with no connection: a check that finds
   * it not yet full (tokens taken after this one was planned) plans the next.
   */
  private void dropWhenFull(Bucket kept, ScheduledExecutorService later) {
    if (kept == null || kept.connections > 0) {
      return;
    }
    long untilFull = Math.max(0, kept.tat.get() - nanoClock.getAsLong());
    try {
      later.schedule(
          () ->
              dropWhenFull(
                  buckets.computeIfPresent(kept.source, (s, b) -> release(b, false)), later),
          untilFull + 1,
          TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The loop is shutting down with the transport, whose map goes with it.
      buckets.remove(kept.source, kept);
    }
  }

  /** The bucket to keep for its source, or null to drop it (as the map's compute takes it). */
  private Bucket release(Bucket b, boolean oneClosed) {
    if (oneClosed) {
      b.connections--;
    }
    return b.connections > 0 || !b.full() ? b : null;
  }

  /** Sources with a bucket now: with a connection open, or closed and not yet refilled. */
  int size() {
    return buckets.size();
  }

  /** The requests of one source. */
  final class Bucket {
    final String source;

    /** The instant, on {@code nanoClock}, at which the bucket is full again. */
    private final AtomicLong tat = new AtomicLong(nanoClock.getAsLong());

    private final AtomicBoolean warned = new AtomicBoolean();

    /** Open connections from the source; read and written only inside the map's compute. */
    private int connections;

    private Bucket(String source) {
      this.source = source;
    }

    /** Takes a token: whether a request may go through now. */
    boolean tryAcquire() {
      long now = nanoClock.getAsLong();
      for (int attempt = 0; attempt < 64; attempt++) {
        long tat = this.tat.get();
        long next = (tat - now < 0 ? now : tat) + intervalNanos;
        if (next - now > burstNanos) {
          return false;
        }
        if (this.tat.compareAndSet(tat, next)) {
          return true;
        }
      }
      return false; // a source racing itself this hard is over its rate anyway
    }

    /** Whether this is the first refusal of this bucket's life: it is logged at WARN. */
    boolean firstRefusal() {
      return warned.compareAndSet(false, true);
    }

    private boolean full() {
      return tat.get() - nanoClock.getAsLong() <= 0;
    }

    @Override
    public String toString() {
      return source;
    }
  }
}
