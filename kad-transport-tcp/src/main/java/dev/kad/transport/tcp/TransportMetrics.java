package dev.kad.transport.tcp;

import java.net.SocketAddress;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The counters behind {@link TcpTransportStats}, and the one place protocol violations and other
 * per-event warnings are logged: one WARN line per event, at most one per kind and second (the rest
 * go to DEBUG and are summed into the next WARN line), so a flood cannot flood the log.
 */
final class TransportMetrics {

  private static final Logger log = LoggerFactory.getLogger(TcpTransport.class);
  private static final long WARN_INTERVAL_NANOS = 1_000_000_000L;

  /** Per-event WARN lines that are not violations: nothing is closed for them. */
  enum Warning {
    /** The request handler failed or answered nothing; the peer gets {@code Failure(INTERNAL)}. */
    HANDLER_FAILURE,
    /** An answer did not fit in {@code maxFrameBytes}; the peer gets {@code Failure(LIMIT)}. */
    OVERSIZED_RESPONSE,
    /** A peer claimed an address whose node, asked by a dial-back, did not open its connection. */
    REFUTED_CLAIM,
    /**
     * A source went over {@code maxRequestsPerSecondPerIp}; it gets {@code Failure(RATE_LIMITED)}.
     */
    RATE_LIMITED,
    /**
     * A request claimed a sender address its connection does not come from ({@code
     * checkSenderAddress}); it gets {@code Failure(INVALID)}.
     */
    SPOOFED_SENDER,
    /**
     * An accepted connection, the quietest, was closed to make room for a newcomer within {@code
     * maxInboundConnections}.
     */
    EVICTED_INBOUND
  }

  private final String name;
  private final Map<Violation, LongAdder> violations = new EnumMap<>(Violation.class);
  private final Map<Violation, RateLimit> violationWarnings = new EnumMap<>(Violation.class);
  private final Map<Warning, RateLimit> warnings = new EnumMap<>(Warning.class);

  final LongAdder accepted = new LongAdder();
  final LongAdder dialed = new LongAdder();
  final AtomicLong open = new AtomicLong();
  final AtomicLong openInbound = new AtomicLong();

  /** Outbound bytes of all connections written and not yet taken by their sockets. */
  final AtomicLong pendingWriteBytes = new AtomicLong();

  final LongAdder evicted = new LongAdder();
  final LongAdder evictedInbound = new LongAdder();
  final LongAdder lateResponses = new LongAdder();
  final LongAdder idleClosed = new LongAdder();
  final LongAdder handlerFailures = new LongAdder();
  final LongAdder claimsConfirmed = new LongAdder();
  final LongAdder claimsRefuted = new LongAdder();
  final LongAdder rateLimited = new LongAdder();
  final LongAdder spoofedSenders = new LongAdder();

  TransportMetrics(String name) {
    this.name = name;
    for (Violation v : Violation.values()) {
      violations.put(v, new LongAdder());
      violationWarnings.put(v, new RateLimit());
    }
    for (Warning w : Warning.values()) {
      warnings.put(w, new RateLimit());
    }
  }

  /**
   * Counts a violation and logs it (rate-limited WARN), naming the peer as {@code host:port}. The
   * detail often quotes what the peer sent (a message type, a field name), so it is logged as
   * {@linkplain PeerText#printable printable} text: one line, of bounded length.
   */
  void violation(Violation v, SocketAddress remote, String rawDetail) {
    violations.get(v).increment();
    String detail = PeerText.printable(rawDetail);
    String peer = HostPort.of(remote);
    long more = violationWarnings.get(v).admit();
    if (more >= 0) {
      if (more == 0) {
        log.warn("{}: closing connection peer={}: {}: {}", name, peer, v.description(), detail);
      } else {
        log.warn(
            "{}: closing connection peer={}: {}: {} ({} more since the last warning)",
            name,
            peer,
            v.description(),
            detail,
            more);
      }
    } else {
      log.debug("{}: closing connection peer={}: {}: {}", name, peer, v.description(), detail);
    }
  }

  /**
   * Logs one event of {@code kind}: at WARN at most once a second, otherwise at DEBUG, the number
   * left out added to the next WARN line.
   *
   * @param format an SLF4J pattern; a {@code Throwable} last in {@code args} is logged with its
   *     stack
   * @return whether the line went out at WARN
   */
  boolean warn(Warning kind, String format, Object... args) {
    long more = warnings.get(kind).admit();
    if (more < 0) {
      log.debug(format, args);
      return false;
    }
    if (more == 0) {
      log.warn(format, args);
    } else {
      log.warn(format + " ({} more since the last warning)", withCount(args, more));
    }
    return true;
  }

  /** {@code args} with {@code more} inserted for the last placeholder, before any throwable. */
  private static Object[] withCount(Object[] args, long more) {
    int at =
        args.length > 0 && args[args.length - 1] instanceof Throwable
            ? args.length - 1
            : args.length;
    Object[] out = new Object[args.length + 1];
    System.arraycopy(args, 0, out, 0, at);
    out[at] = more;
    System.arraycopy(args, at, out, at + 1, args.length - at);
    return out;
  }

  /** One WARN line a second for one kind of event; counts the lines left out in between. */
  private static final class RateLimit {
    private final AtomicLong lastWarn = new AtomicLong(System.nanoTime() - 2 * WARN_INTERVAL_NANOS);
    private final LongAdder suppressed = new LongAdder();

    /**
     * Claims this second's WARN line.
     *
     * @return how many events were left out since the last WARN line, or -1 when this one is to be
     *     left out too
     */
    long admit() {
      long now = System.nanoTime();
      long before = lastWarn.get();
      if (now - before >= WARN_INTERVAL_NANOS && lastWarn.compareAndSet(before, now)) {
        return suppressed.sumThenReset();
      }
      suppressed.increment();
      return -1;
    }
  }

  long count(Violation v) {
    return violations.get(v).sum();
  }

  TcpTransportStats snapshot(long pendingRequests) {
    return new TcpTransportStats(
        open.get(),
        pendingRequests,
        pendingWriteBytes.get(),
        accepted.sum(),
        dialed.sum(),
        count(Violation.CONNECTION_LIMIT),
        count(Violation.CONNECTION_LIMIT_PER_IP),
        count(Violation.BAD_PREFACE),
        count(Violation.OVERSIZED_FRAME),
        count(Violation.TRUNCATED_FRAME),
        count(Violation.MALFORMED_MESSAGE),
        count(Violation.UNKNOWN_RESPONSE),
        lateResponses.sum(),
        count(Violation.SLOW_READER),
        idleClosed.sum(),
        handlerFailures.sum(),
        evicted.sum(),
        evictedInbound.sum(),
        claimsConfirmed.sum(),
        claimsRefuted.sum(),
        count(Violation.TLS),
        rateLimited.sum(),
        spoofedSenders.sum());
  }
}
