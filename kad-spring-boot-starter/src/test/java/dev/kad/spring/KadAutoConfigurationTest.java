package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

class KadAutoConfigurationTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(AutoConfigurations.of(KadAutoConfiguration.class))
          .withPropertyValues("kad.host=127.0.0.1", "kad.port=0", "kad.maintenance=false");

  @Test
  void createsAStartedNodeFromThePropertiesAndClosesItWithTheContext() {
    AtomicReference<KadNode> node = new AtomicReference<>();
    runner
        .withPropertyValues(
            "kad.k=8",
            "kad.alpha=2",
            "kad.hard-timeout=3s",
            "kad.max-value-bytes=2048",
            "kad.max-subscriptions-per-peer=7")
        .run(
            context -> {
              assertThat(context).hasSingleBean(KadNode.class);
              KadNode kad = context.getBean(KadNode.class);
              node.set(kad);
              assertThat(kad.config().k()).isEqualTo(8);
              assertThat(kad.config().alpha()).isEqualTo(2);
              assertThat(kad.config().hardTimeout()).isEqualTo(Duration.ofSeconds(3));
              assertThat(kad.config().maxValueBytes()).isEqualTo(2048);
              assertThat(kad.config().maxSubscriptionsPerPeer()).isEqualTo(7);
              assertThat(kad.contact().address().port()).isPositive();
            });
    StepVerifier.create(node.get().findNode(NodeId.random(new java.util.SplittableRandom(1))))
        .expectError(NodeClosedException.class)
        .verify(BOUND);
  }

  @Test
  void connectionPropertiesReachTheTransport() {
    runner
        .withPropertyValues(
            "kad.idle-timeout=90s",
            "kad.max-inbound-connections=100",
            "kad.max-outbound-connections=50")
        .run(
            context -> {
              TcpTransportOptions options = context.getBean(TcpTransport.class).options();
              assertThat(options.idleTimeout()).isEqualTo(Duration.ofSeconds(90));
              assertThat(options.maxInboundConnections()).isEqualTo(100);
              assertThat(options.maxOutboundConnections()).isEqualTo(50);
            });
  }

  @Test
  void aBadPropertyFailsStartUpNamingTheValue() {
    runner
        .withPropertyValues("kad.k=0")
        .run(
            context ->
                assertThat(context)
                    .hasFailed()
                    .getFailure()
                    .rootCause()
                    .hasMessage("k must be in [1, 256] but was 0"));
    runner
        .withPropertyValues("kad.format=xml")
        .run(context -> assertThat(context).getFailure().rootCause().hasMessageContaining("'xml'"));
    runner
        .withPropertyValues("kad.max-outbound-connections=0")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage("maxOutboundConnections must be in [1, 1000000] but was 0"));
    runner
        .withPropertyValues("kad.bootstrap=nowhere")
        .run(
            context ->
                assertThat(context).getFailure().rootCause().hasMessageContaining("nowhere"));
  }

  @Test
  void aConfiguredNodeIdIsTheNodesIdAcrossRestartsAndABadOneFailsStartUp() {
    String hex = "00112233445566778899aabbccddeeff00112233";
    for (int start = 0; start < 2; start++) {
      runner
          .withPropertyValues("kad.node-id=" + hex)
          .run(context -> assertThat(context.getBean(KadNode.class).id().toHex()).isEqualTo(hex));
    }
    runner
        .withPropertyValues("kad.node-id=xyz")
        .run(context -> assertThat(context).getFailure().rootCause().hasMessageContaining("xyz"));
    runner
        .withPropertyValues("kad.node-id=" + hex, "kad.id-bits=256")
        .run(
            context ->
                assertThat(context)
                    .getFailure()
                    .rootCause()
                    .hasMessage(
                        "kad.node-id must have 64 hex digits for id-bits 256 but was '"
                            + hex
                            + "'"));
  }

  @Test
  void withoutANodeIdEachStartPicksADifferentOne() {
    AtomicReference<NodeId> first = new AtomicReference<>();
    runner.run(context -> first.set(context.getBean(KadNode.class).id()));
    runner.run(
        context -> assertThat(context.getBean(KadNode.class).id()).isNotEqualTo(first.get()));
  }

  @Test
  void aUserNodeReplacesTheAutoConfiguredOne() {
    runner
        .withUserConfiguration(UserNode.class)
        .run(
            context -> {
              assertThat(context).hasSingleBean(KadNode.class);
              assertThat(context.getBean(KadNode.class))
                  .isSameAs(context.getBean(UserNode.class).node);
            });
  }

  @Configuration(proxyBeanMethods = false)
  static class UserNode {
    final KadNode node =
        KadNodes.builder()
            .config(KadConfig.builder().maintenance(false).build())
            .transport(new SimulatedNetwork(Schedulers.single(), 1).newTransport())
            .start()
            .block(BOUND);

    @Bean
    KadNode kadNode() {
      return node;
    }
  }

  @Test
  void disabledMeansNoNode() {
    runner
        .withPropertyValues("kad.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(KadNode.class));
  }

  @Test
  void healthReportsTheBootstrapOutcomeAndMetersCountTheTraffic() {
    runner.run(
        first -> {
          KadNode seed = first.getBean(KadNode.class);
          assertThat(first.getBean(KadHealthIndicator.class).health().getStatus())
              .isEqualTo(Status.UP);
          runner
              .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
              .withPropertyValues("kad.bootstrap=" + seed.contact().address())
              .run(
                  second -> {
                    KadHealthIndicator health = second.getBean(KadHealthIndicator.class);
                    Health report = awaitHealth(health, Status.UP, "DONE");
                    assertThat(report.getDetails()).containsEntry("bootstrap", "DONE");
                    assertThat((Integer) report.getDetails().get("contacts")).isPositive();
                    MeterRegistry registry = second.getBean(MeterRegistry.class);
                    // Boot's metrics auto-configuration binds every MeterBinder bean; this
                    // context has none, so bind the gauges as it would.
                    second.getBean(KadNodeMeters.class).bindTo(registry);
                    assertThat(registry.find("kad.rpc.sent").tag("type", "ping").timer())
                        .isNotNull();
                    assertThat(
                            registry
                                .find("kad.operations")
                                .tag("kind", "bootstrap")
                                .tag("outcome", "ok")
                                .timer())
                        .isNotNull();
                    assertThat(registry.find("kad.routing.contacts").gauge().value()).isPositive();
                    assertThat(registry.find("kad.transport.connections.dropped").functionCounter())
                        .isNotNull();
                    assertThat(registry.find("kad.transport.connections.evicted").functionCounter())
                        .isNotNull();
                  });
        });
  }

  @Test
  void healthIsDownWhenNoSeedAnswers() {
    runner
        .withPropertyValues(
            "kad.bootstrap=127.0.0.1:1", "kad.hard-timeout=1s", "kad.soft-timeout=500ms")
        .run(
            context -> {
              Health report =
                  awaitHealth(context.getBean(KadHealthIndicator.class), Status.DOWN, "FAILED");
              assertThat(report.getDetails()).containsEntry("bootstrap", "FAILED");
              assertThat(report.getDetails()).containsKey("bootstrapError");
            });
  }

  /** Polls the indicator, bounded in count and time: bootstrap runs in the background. */
  private static Health awaitHealth(KadHealthIndicator indicator, Status wanted, String bootstrap) {
    Health last = indicator.health();
    for (int i = 0;
        i < 200
            && !(last.getStatus().equals(wanted)
                && bootstrap.equals(last.getDetails().get("bootstrap")));
        i++) {
      reactor.core.publisher.Mono.delay(Duration.ofMillis(50)).block(BOUND);
      last = indicator.health();
    }
    assertThat(last.getStatus()).isEqualTo(wanted);
    return last;
  }

  @Test
  void propertyDefaultsAreTheEngineDefaultsAndIdesSeeThem() throws Exception {
    assertThat(new KadProperties().toConfig()).isEqualTo(KadConfig.defaults());
    String metadata =
        new String(
            getClass()
                .getResourceAsStream("/META-INF/spring-configuration-metadata.json")
                .readAllBytes(),
            java.nio.charset.StandardCharsets.UTF_8);
    assertThat(metadata)
        .contains("\"name\": \"kad.k\"")
        .contains("Bucket size and replication factor.")
        .contains("\"name\": \"kad.hard-timeout\"");
  }

  @Test
  void aPortInUseFailsStartUpWithAClearMessage() throws Exception {
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      runner
          .withPropertyValues("kad.port=" + taken.getLocalPort())
          .run(
              context ->
                  assertThat(context)
                      .hasFailed()
                      .getFailure()
                      .hasStackTraceContaining("kad node could not start"));
    }
  }
}
