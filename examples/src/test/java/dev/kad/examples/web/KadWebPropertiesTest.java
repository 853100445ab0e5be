package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;

/** The application's own setting, {@code kad.web.timeout}: checked at start-up, known to IDEs. */
class KadWebPropertiesTest {

  @Test
  void aWebTimeoutThatIsNotPositiveFailsStartUpNamingTheProperty() {
    assertThatThrownBy(() -> startWithWebTimeout("0s"))
        .hasStackTraceContaining("kad.web.timeout must be positive but was PT0S");
  }

  private static void startWithWebTimeout(String timeout) {
    SpringApplication.run(
        KadWebApplication.class,
        "--server.port=0",
        "--kad.host=127.0.0.1",
        "--kad.port=0",
        "--kad.maintenance=false",
        "--kad.web.timeout=" + timeout,
        "--spring.main.banner-mode=off");
  }

  /**
   * A timeout past Reactor's nanosecond timers (about 292 years) started up and then made every put
   * and get a 500 ({@code ArithmeticException: long overflow} when the timer was made).
   */
  @Test
  void aWebTimeoutLongerThanKadDurationsMayBeFailsStartUpNamingTheProperty() {
    assertThatThrownBy(() -> startWithWebTimeout("1000000d"))
        .hasStackTraceContaining("kad.web.timeout must be at most PT876000H but was PT24000000H");
  }

  @Test
  void theWebTimeoutIsDescribedForIdes() throws Exception {
    try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .contains("\"name\": \"kad.web.timeout\"");
    }
  }
}
