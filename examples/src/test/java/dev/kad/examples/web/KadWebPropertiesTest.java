package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The application's own settings, {@code kad.web.timeout} and the stream bounds: checked at
 * start-up, known to IDEs.
 */
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
  void theWebSettingsAreDescribedForIdes() throws Exception {
    try (var in = getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .contains("\"name\": \"kad.web.timeout\"")
          .contains("\"name\": \"kad.web.max-watches\"")
          .contains("\"name\": \"kad.web.max-watches-per-client\"")
          .contains("\"name\": \"kad.web.max-lookups\"")
          .contains("\"name\": \"kad.web.max-lookups-per-client\"");
    }
  }

  /**
   * The starter warns of kad.* names no property binds: the application's own settings are known
   * from its metadata, and a misspelt one is named with the setting it was meant to be.
   */
  @Test
  @ExtendWith(OutputCaptureExtension.class)
  void theWebSettingsAreKnownToTheStartersCheckOfKadNames(CapturedOutput output) {
    try (ConfigurableApplicationContext context =
        SpringApplication.run(
            KadWebApplication.class,
            "--server.port=0",
            "--kad.host=127.0.0.1",
            "--kad.port=0",
            "--kad.maintenance=false",
            "--kad.web.timeout=5s",
            "--kad.web.max-watches=10",
            "--kad.web.max-watches-per-client=2",
            "--kad.web.max-lookups=10",
            "--kad.web.max-lookups-per-client=2",
            "--kad.web.timout=5s",
            "--spring.main.banner-mode=off")) {
      assertThat(context.getEnvironment().getProperty("kad.web.timeout")).isEqualTo("5s");
      assertThat(output.getAll())
          .containsOnlyOnce("is not a kad property")
          .contains(
              "kad.web.timout is not a kad property (did you mean kad.web.timeout?); it is ignored");
    }
  }

  /** A bound of 0 would refuse every stream; a negative one is a typo. */
  @Test
  void aStreamBoundThatIsNotPositiveFailsStartUpNamingThePropertyAndValue() {
    assertThatThrownBy(() -> startWith("--kad.web.max-watches-per-client=0"))
        .hasStackTraceContaining("kad.web.max-watches-per-client must be positive but was 0");
    assertThatThrownBy(() -> startWith("--kad.web.max-lookups=-1"))
        .hasStackTraceContaining("kad.web.max-lookups must be positive but was -1");
  }

  /** Spring's own conversion error named the value and the constructor, not the property. */
  @Test
  void aStreamBoundThatIsNoNumberFailsStartUpNamingThePropertyAndValue() {
    assertThatThrownBy(() -> startWith("--kad.web.max-watches=many"))
        .hasStackTraceContaining("kad.web.max-watches must be a whole number but was 'many'");
    assertThatThrownBy(() -> startWith("--kad.web.max-lookups-per-client=99999999999"))
        .hasStackTraceContaining(
            "kad.web.max-lookups-per-client must be a whole number but was '99999999999'");
  }

  private static void startWith(String setting) {
    SpringApplication.run(
        KadWebApplication.class,
        "--server.port=0",
        "--kad.host=127.0.0.1",
        "--kad.port=0",
        "--kad.maintenance=false",
        setting,
        "--spring.main.banner-mode=off");
  }
}
