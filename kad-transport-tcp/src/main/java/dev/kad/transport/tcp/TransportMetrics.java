package dev.kad.transport.tcp;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The counters behind {@link TcpTransportStats}, and the one place protocol violations are logged:
 * one WARN line per event, at most one per kind and second (the rest go to DEBUG and are summed
 * into the next WARN line), so a flood cannot flood the log.
 */
final class TransportMetrics {

  private static final Logger log = LoggerFactory.getLogger(TcpTransport.class);
  private static final long WARN_INTERVAL_NANOS = 1_000_000_000L;

  private final String name;
  private final Map<Violation, LongAdder> violations = new EnumMap<>(Violation.class);
  private final Map<Violation, AtomicLong> lastWarn = new EnumMap<>(Violation.class);
  private final Map<Violation, LongAdder> suppressed = new EnumMap<>(Violation.class);

  final LongAdder accepted = new LongAdder();
  final LongAdder dialed = new LongAdder();
  final AtomicLong open = new AtomicLong();
  final AtomicLong openInbound = new AtomicLong();
  final AtomicLong openOutbound = new AtomicLong();
  final LongAdder evicted = new LongAdder();
  final LongAdder lateResponses = new LongAdder();
  final LongAdder idleClosed = new LongAdder();
  final LongAdder handlerFailures = new LongAdder();

  TransportMetrics(String name) {
    this.name = name;
    for (Violation v : Violation.values()) {
      violations.put(v, new LongAdder());
      lastWarn.put(v, new AtomicLong(System.nanoTime() - 2 * WARN_INTERVAL_NANOS));
      suppressed.put(v, new LongAdder());
    }
  }

  /** Counts a violation and logs it (rate-limited WARN). */
  void violation(Violation v, Object peer, String detail) {
    violations.get(v).increment();
    AtomicLong last = lastWarn.get(v);
    long now = System.nanoTime();
    long before = last.get();
    if (now - before >= WARN_INTERVAL_NANOS && last.compareAndSet(before, now)) {
      long more = suppressed.get(v).sumThenReset();
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
      suppressed.get(v).increment();
      log.debug("{}: closing connection peer={}: {}: {}", name, peer, v.description(), detail);
    }
  }

  long count(Violation v) {
    return violations.get(v).sum();
  }

  TcpTransportStats snapshot(long pendingRequests) {
    return new TcpTransportStats(
        open.get(),
        pendingRequests,
        accepted.sum(),
        dialed.sum(),
        count(Violation.CONNECTION_LIMIT),
        count(Violation.BAD_PREFACE),
        count(Violation.OVERSIZED_FRAME),
        count(Violation.TRUNCATED_FRAME),
        count(Violation.MALFORMED_MESSAGE),
        count(Violation.UNKNOWN_RESPONSE),
        lateResponses.sum(),
        count(Violation.SLOW_READER),
        idleClosed.sum(),
        handlerFailures.sum(),
        evicted.sum());
  }
}
