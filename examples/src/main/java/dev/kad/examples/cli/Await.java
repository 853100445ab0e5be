package dev.kad.examples.cli;

import dev.kad.api.KadTimeoutException;
import java.time.Duration;
import java.util.Locale;
import reactor.core.publisher.Mono;

/** Blocking with a bound, for the command line's main thread only (never an event loop). */
final class Await {

  private Await() {}

  /**
   * Subscribes, waits at most {@code timeout} and returns the value (null for an empty Mono).
   *
   * @throws KadTimeoutException naming {@code what} when the bound passes first
   */
  static <T> T of(Mono<T> mono, Duration timeout, String what) {
    return bounded(mono, timeout, what).block();
  }

  /**
   * {@code mono}, failing with a {@link KadTimeoutException} naming {@code what} when it has not
   * finished within {@code timeout}.
   */
  static <T> Mono<T> bounded(Mono<T> mono, Duration timeout, String what) {
    // A race rather than timeout(), as in the engine: an error of mono's that arrives on another
    // thread as the bound passes would go to Reactor's onErrorDropped hook, an ERROR with a stack
    // trace, and --retry-join runs this on every attempt.
    Mono<T> bound =
        Mono.delay(timeout)
            .onErrorReturn(0L)
            .then(
                Mono.error(
                    () ->
                        new KadTimeoutException(
                            what + " did not finish within " + human(timeout))));
    return Mono.firstWithSignal(bound, mono);
  }

  /** {@code 1.5 s}, {@code 250 ms}: how the command line shows durations. */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    return ms % 1000 == 0 ? (ms / 1000) + " s" : String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
  }
}
