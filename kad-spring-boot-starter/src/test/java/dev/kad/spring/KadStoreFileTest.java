package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.reactor.store.FileRecordStore;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** {@code kad.store-file}: the values a node stores for the network outlive its context. */
class KadStoreFileTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  @TempDir Path temp;

  private final KadStoreFileFailureAnalyzer analyzer = new KadStoreFileFailureAnalyzer();

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  KadAutoConfiguration.class, KadStoreHealthAutoConfiguration.class))
          .withPropertyValues("kad.host=127.0.0.1", "kad.port=0", "kad.maintenance=false");

  @Test
  void valuesPutThroughANodeWithAStoreFileAreInTheFileAfterTheContextCloses() throws Exception {
    Path file = temp.resolve("values");
    Key key = Key.of("kept");
    runner
        .withPropertyValues("kad.store-file=" + file)
        .run(
            context -> {
              assertThat(context).hasSingleBean(FileRecordStore.class);
              KadNode node = context.getBean(KadNode.class);
              // alone in its network, the node stores at itself
              assertThat(node.put(key, "kept value".getBytes(StandardCharsets.UTF_8)).block(BOUND))
                  .satisfies(result -> assertThat(result.acceptedCount()).isEqualTo(1));
            });

    try (FileRecordStore reopened = FileRecordStore.open(file, KadConfig.defaults())) {
      assertThat(reopened.get(key, Instant.now()))
          .singleElement()
          .satisfies(
              v ->
                  assertThat(new String(v.data(), StandardCharsets.UTF_8)).isEqualTo("kept value"));
    }
  }

  @Test
  void withoutAStoreFileValuesAreKeptInMemory() {
    runner.run(
        context ->
            assertThat(context)
                .doesNotHaveBean(RecordStore.class)
                .doesNotHaveBean(KadStoreHealthIndicator.class));
  }

  @Test
  void theStoreHealthIndicatorReportsTheFileAndWhatItHolds() {
    Path file = temp.resolve("values");
    runner
        .withPropertyValues("kad.store-file=" + file)
        .run(
            context -> {
              KadNode node = context.getBean(KadNode.class);
              node.put(Key.of("held"), new byte[10]).block(BOUND);
              Health health = context.getBean(KadStoreHealthIndicator.class).health();
              assertThat(health.getStatus()).isEqualTo(Status.UP);
              assertThat(health.getDetails())
                  .containsEntry("file", file.toAbsolutePath().toString())
                  .containsEntry("values", 1)
                  .containsEntry("storedBytes", 10L + KadConfig.STORED_VALUE_OVERHEAD)
                  .doesNotContainKey("writeFailure");
            });
  }

  @Test
  void theStoreHealthIndicatorIsDownWhileTheFileCannotBeWrittenAndUpOnceItCan() throws Exception {
    Path file = temp.resolve("values");
    // Where the log's rewrite goes: a directory there fails every rewrite, as a full disk would.
    Path rewrite = temp.resolve("values.compact");
    runner
        .withPropertyValues("kad.store-file=" + file)
        .run(
            context -> {
              FileRecordStore store = context.getBean(FileRecordStore.class);
              KadStoreHealthIndicator indicator = context.getBean(KadStoreHealthIndicator.class);
              Files.createDirectory(rewrite);
              // Not empty, so the writer's clean-up of a failed rewrite cannot remove it.
              Files.createFile(rewrite.resolve("keep"));
              // One value replaced 300 times: a log of about 5 MiB holding 16 KiB live, which
              // the writer rewrites.
              Key key = Key.of("replaced");
              NodeId publisher = NodeId.random(new SplittableRandom(1));
              Instant now = Instant.now();
              for (int seq = 1; seq <= 300; seq++) {
                Value v =
                    Value.of(new byte[16 * 1024], publisher, 1, seq, now.plus(Duration.ofHours(1)));
                assertThat(store.store(key, v, v.expiresAt(), false, now).accepted()).isTrue();
              }
              assertThatThrownBy(store::flush).isInstanceOf(UncheckedIOException.class);

              Health down = indicator.health();
              assertThat(down.getStatus()).isEqualTo(Status.DOWN);
              assertThat(down.getDetails()).containsEntry("values", 1).containsKey("writeFailure");

              Files.delete(rewrite.resolve("keep"));
              Files.delete(rewrite);
              store.flush(); // the writer's next attempt, within about a second
              assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
              assertThat(indicator.health().getDetails()).doesNotContainKey("writeFailure");
            });
  }

  @Test
  void theStoreHealthIndicatorIsOffWithTheKadIndicator() {
    runner
        .withPropertyValues(
            "kad.store-file=" + temp.resolve("values"), "management.health.kad.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(KadStoreHealthIndicator.class));
  }

  @Test
  void anEmptyStoreFileIsNoStoreFile() {
    // what `kad.store-file=${KAD_STORE_FILE:}` gives when the variable is unset
    runner
        .withPropertyValues("kad.store-file=")
        .run(
            context -> {
              assertThat(context).hasNotFailed().doesNotHaveBean(RecordStore.class);
              assertThat(context).hasSingleBean(KadNode.class);
            });
  }

  @Test
  void aRecordStoreOfTheApplicationIsTheNodesStoreAndTheStoreFileBacksOff() {
    runner
        .withUserConfiguration(OwnStore.class)
        .withPropertyValues("kad.store-file=" + temp.resolve("values"))
        .run(
            context -> {
              assertThat(context).doesNotHaveBean(FileRecordStore.class);
              KadNode node = context.getBean(KadNode.class);
              node.put(Key.of("mine"), new byte[] {1}).block(BOUND);
              assertThat(context.getBean(RecordStore.class).size()).isEqualTo(1);
              assertThat(Files.exists(temp.resolve("values"))).isFalse();
            });
  }

  @Test
  void anApplicationsOwnNodeGetsNoStoreFileItWouldNotUse() {
    runner
        .withUserConfiguration(KadAutoConfigurationTest.UserNode.class)
        .withPropertyValues("kad.store-file=" + temp.resolve("values"))
        .run(
            context -> {
              assertThat(context).hasNotFailed().doesNotHaveBean(FileRecordStore.class);
              assertThat(temp.resolve("values")).doesNotExist();
            });
  }

  @Test
  void aStoreFileThatCannotBeOpenedFailsTheStartNamingTheProperty() throws Exception {
    Path directory = Files.createDirectories(temp.resolve("a-directory"));
    runner
        .withPropertyValues("kad.store-file=" + directory)
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .hasStackTraceContaining(
                        "kad.store-file cannot be opened: record store file "
                            + directory
                            + " is a directory"));
    runner
        .withPropertyValues("kad.store-file=" + directory)
        .run(
            context ->
                assertThat(analyzer.analyze(context.getStartupFailure()).getAction())
                    .contains("a file this application can create and write"));
  }

  @Test
  void aStoreOfAnotherIdWidthIsReportedWithWhatToDo() throws Exception {
    Path file = temp.resolve("values");
    FileRecordStore.open(file, KadConfig.builder().idBits(256).build()).close();

    runner
        .withPropertyValues("kad.store-file=" + file)
        .run(
            context -> {
              FailureAnalysis analysis = analyzer.analyze(context.getStartupFailure());
              assertThat(analysis.getDescription()).contains("holds ids of 256 bits");
              assertThat(analysis.getAction()).contains("move this file aside");
            });
  }

  @Test
  void aStoreFileInUseIsReportedShortlyWithWhatToDo() throws Exception {
    Path file = temp.resolve("values");
    FileRecordStore other = FileRecordStore.open(file, KadConfig.defaults());
    try {
      runner
          .withPropertyValues("kad.store-file=" + file)
          .run(
              context -> {
                FailureAnalysis analysis = analyzer.analyze(context.getStartupFailure());
                assertThat(analysis).isNotNull();
                assertThat(analysis.getDescription())
                    .startsWith("kad.store-file cannot be opened: record store file " + file)
                    .contains("is in use by another open store");
                assertThat(analysis.getAction()).contains("own kad.store-file");
              });
    } finally {
      other.close();
    }
  }

  @Test
  void aFileThatIsNotAStoreIsReportedWithWhatToDo() throws Exception {
    Path file = Files.writeString(temp.resolve("notes.txt"), "not a store at all");
    runner
        .withPropertyValues("kad.store-file=" + file)
        .run(
            context -> {
              FailureAnalysis analysis = analyzer.analyze(context.getStartupFailure());
              assertThat(analysis).isNotNull();
              assertThat(analysis.getDescription()).contains("is not a kad record store");
              assertThat(analysis.getAction()).contains("move this file aside");
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class OwnStore {
    @Bean
    RecordStore ownStore(KadConfig config) {
      return new InMemoryRecordStore(config);
    }
  }
}
