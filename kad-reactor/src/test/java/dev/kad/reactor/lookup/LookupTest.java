package dev.kad.reactor.lookup;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LookupTest {

  @Test
  void maxPendingIsRoomForKPlusAlphaInEverySoftPeriodOfAHardTimeout() {
    KadConfig config =
        KadConfig.builder()
            .k(20)
            .alpha(3)
            .softTimeout(Duration.ofMillis(500))
            .hardTimeout(Duration.ofSeconds(2))
            .build();
    assertThat(Lookup.maxPending(config)).isEqualTo((2000 / 500 + 1) * (20 + 3));
  }

  @Test
  void maxPendingStaysAtItsCapForTheLongestHardTimeoutOverTheShortestSoftOne() {
    // About 3e18 soft periods: multiplied by k + alpha before capping, the long overflowed and
    // the cap came out as anything: negative (LookupState refuses it, below alpha, at every
    // lookup) or far above the cap.
    for (int k : new int[] {1, 20, 256}) {
      KadConfig config =
          KadConfig.builder()
              .k(k)
              .alpha(3)
              .softTimeout(Duration.ofNanos(1))
              .hardTimeout(KadConfig.MAX_DURATION)
              .build();
      assertThat(Lookup.maxPending(config)).as("k = %d", k).isEqualTo(Lookup.MAX_PENDING);
    }
  }
}
