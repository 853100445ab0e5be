package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.SystemEnvironmentPropertySource;

/** The start-up warning about {@code kad.*} names that no kad property binds. */
class UnknownKadPropertiesTest {

  private static final String NOT_A_PROPERTY = "is not a kad property";

  private final CapturedLog log = CapturedLog.start();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(KadAutoConfiguration.class))
          .withPropertyValues("kad.host=127.0.0.1", "kad.port=0", "kad.maintenance=false");

  @AfterEach
  void stopCapturing() {
    log.close();
  }

  @Test
  void aMisspeltNameIsWarnedAboutOnceWithTheNameItWasMeantToBe() {
    runner
        .withPropertyValues("kad.bootstap=127.0.0.1:7101")
        // The same name from a second source is one mistake, told once.
        .withInitializer(
            context ->
                context
                    .getEnvironment()
                    .getPropertySources()
                    .addLast(
                        new MapPropertySource("second", Map.of("kad.bootstap", "127.0.0.1:7101"))))
        .run(context -> assertThat(context).hasNotFailed());
    assertThat(log.text())
        .containsOnlyOnce(
            "kad.bootstap is not a kad property (did you mean kad.bootstrap?); it is ignored");
  }

  @Test
  void aMisspeltNameIsWarnedAboutEvenWhenAnotherKadPropertyStopsTheStart() {
    // Both mistakes at once: the user fixing the port must not meet the typo only on the next
    // start.
    runner
        .withPropertyValues("kad.port=99999", "kad.bootstap=127.0.0.1:7101")
        .run(context -> assertThat(context).hasFailed());
    assertThat(log.text())
        .contains("kad.bootstap is not a kad property (did you mean kad.bootstrap?)");
  }

  @Test
  void environmentVariablesAndListAndMapEntriesAreNamedAsWrittenWithTheirSuggestion() {
    runner
        .withPropertyValues("kad.metrics.tag.node=a", "kad.bootstrapp[0]=127.0.0.1:7101")
        .withInitializer(
            environment(Map.of("KAD_MAX_VALUE_BYTS", "4096", "KAD_NOTHING_LIKE_IT", "x")))
        .run(context -> assertThat(context).hasNotFailed());
    assertThat(log.text())
        .contains(
            "kad.metrics.tag.node is not a kad property (did you mean kad.metrics.tags.node?)",
            "kad.bootstrapp[0] is not a kad property (did you mean kad.bootstrap[0]?)",
            "KAD_MAX_VALUE_BYTS is not a kad property (did you mean KAD_MAX_VALUE_BYTES?)");
  }

  @Test
  void anEnvironmentVariableLikeNoKadNameIsLeftToWhoeverReadsIt() {
    // The README's SSL bundle reads its password from ${KAD_TLS_PASSWORD}; the kad CLI in the
    // same container may read others.
    runner
        .withPropertyValues("app.store-password=${KAD_TLS_PASSWORD}")
        .withInitializer(
            environment(Map.of("KAD_TLS_PASSWORD", "secret", "KAD_NOTHING_LIKE_IT", "x")))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getEnvironment().getProperty("app.store-password"))
                  .isEqualTo("secret");
            });
    assertThat(log.text()).doesNotContain(NOT_A_PROPERTY);
  }

  @Test
  void validNamesInEveryFormAreNotWarnedAbout() {
    runner
        .withPropertyValues(
            "kad.bootstrap[0]=127.0.0.1:7101",
            "kad.metrics.tags.x=y",
            "kad.maxValueBytes=2048",
            "kad.max_stored_bytes=1MB",
            "kad.health.silence-threshold=2m",
            "kad.tls.require-client-auth=true",
            "kad.enabled=true")
        .withInitializer(
            environment(
                Map.of(
                    "KAD_MAX_VALUE_BYTES", "4096",
                    "KAD_MAXFRAMEBYTES", "64KB",
                    "KAD_METRICS_TAGS_RING", "blue",
                    "KAD_JOBS_0", "refresh",
                    "KADMIN_HOME", "/opt/kadmin")))
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(KadProperties.class).getMaxValueBytes().toBytes())
                  .isEqualTo(4096);
            });
    assertThat(log.text()).doesNotContain(NOT_A_PROPERTY);
  }

  /** Environment variables, read as Spring Boot reads the process's, ahead of other sources. */
  private static ApplicationContextInitializer<ConfigurableApplicationContext> environment(
      Map<String, Object> variables) {
    return context ->
        context
            .getEnvironment()
            .getPropertySources()
            .addFirst(new SystemEnvironmentPropertySource("test-systemEnvironment", variables));
  }

  @Test
  void theKnownNamesAreEveryPropertyTheStarterBinds() {
    UnknownKadProperties.KnownNames known =
        UnknownKadProperties.KnownNames.load(getClass().getClassLoader());
    for (String name :
        new String[] {
          "kad.enabled",
          "kad.max-value-bytes",
          "kad.tls.bundle",
          "kad.health.silence-threshold",
          "kad.metrics.tags.anything",
          "kad.bootstrap[3]",
          "kad.max-total-pending-write-bytes"
        }) {
      assertThat(known.contains(name, '.')).as(name).isTrue();
    }
    assertThat(known.contains("kad.bootstap", '.')).isFalse();
    assertThat(known.contains("kad.port.number", '.')).isFalse();
    assertThat(known.contains("kad.tls", '.')).isFalse();
  }
}
