package dev.kad.transport.tcp;

import java.time.Duration;
import java.util.function.BooleanSupplier;
import reactor.core.publisher.Flux;

/** Polls a condition in real time, with a generous bound, instead of sleeping. */
final class Await {

  private Await() {}

  static void until(String what, BooleanSupplier condition) {
    try {
      Flux.interval(Duration.ZERO, Duration.ofMillis(10))
          .filter(t -> condition.getAsBoolean())
          .next()
          .block(Duration.ofSeconds(10));
    } catch (IllegalStateException e) {
      throw new AssertionError("timed out after 10 s waiting for " + what, e);
    }
  }
}
