package dev.kad.spring;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The start-up messages of bad values read as sentences about their property. */
class KadPropertyMessagesTest {

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(KadAutoConfiguration.class))
          .withPropertyValues("kad.maintenance=false");

  /** It said "kad.node-id id must be 40 or 64 hex digits": the parser's "node id" half-renamed. */
  @Test
  void aNodeIdThatIsNoIdIsNamedOnce() {
    runner
        .withPropertyValues("kad.node-id=abc")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.node-id must be 40 or 64 hex digits but was 3: 'abc'")
                    .hasMessageNotContaining("id id"));
    runner
        .withPropertyValues("kad.node-id=" + "zz".repeat(20))
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.node-id is not hexadecimal")
                    .hasMessageNotContaining("id id"));
  }
}
