package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.MaintenanceJob;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.spi.NodeListener;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.reflect.RecordComponent;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.validation.BeanPropertyBindingResult;
import org.springframework.validation.Errors;
import reactor.core.publisher.Mono;
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
  void aStoppedContextStartsAgainWithItsNodeOpenAndClosesItOnlyWhenItCloses() {
    AtomicReference<KadNode> node = new AtomicReference<>();
    runner.run(
        first -> {
          KadNode kad = first.getBean(KadNode.class);
          node.set(kad);
          KadNodeLifecycle lifecycle = first.getBean(KadNodeLifecycle.class);
          first.stop();
          assertThat(lifecycle.isRunning()).isFalse();
          first.start();
          assertThat(lifecycle.isRunning()).isTrue();
          // Spring's test framework pauses a cached context it is not using, and restarts it.
          first.pause();
          first.restart();
          assertThat(lifecycle.isRunning()).isTrue();
          // Still serving: another node joins through it.
          runner
              .withPropertyValues("kad.bootstrap=" + kad.contact().address())
              .run(
                  second ->
                      awaitHealth(second.getBean(KadHealthIndicator.class), Status.UP, "DONE"));
          assertThat(kad.routingTable().size()).isPositive();
        });
    StepVerifier.create(node.get().findNode(NodeId.random(new SplittableRandom(6))))
        .expectError(NodeClosedException.class)
        .verify(BOUND);
  }

  @Test
  void metricTagsFromThePropertiesAreOnEveryMeterOfTheNode() {
    runner
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues("kad.metrics.tags.node=a", "kad.metrics.tags.ring=blue")
        .run(
            context -> {
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              context.getBean(KadNodeMeters.class).bindTo(registry);
              context
                  .getBean(KadNode.class)
                  .findNode(NodeId.random(new SplittableRandom(8)))
                  .onErrorResume(e -> Mono.empty())
                  .block(BOUND);
              assertThat(registry.getMeters())
                  .filteredOn(m -> m.getId().getName().startsWith("kad."))
                  .extracting(m -> m.getId().getName())
                  .contains(
                      "kad.operations", "kad.routing.contacts", "kad.transport.connections.open");
              assertThat(registry.getMeters())
                  .filteredOn(m -> m.getId().getName().startsWith("kad."))
                  .allSatisfy(
                      m -> {
                        assertThat(m.getId().getTag("node")).isEqualTo("a");
                        assertThat(m.getId().getTag("ring")).isEqualTo("blue");
                      });
            });
    assertFailure(
        "kad.metrics.tags.outcome=x",
        "kad.metrics.tags must not use the key 'outcome': kad's meters set");
    assertFailure("kad.metrics.tags.node=", "kad.metrics.tags.node must not be blank");
  }

  @Test
  void connectionPropertiesReachTheTransport() {
    runner
        .withPropertyValues(
            "kad.idle-timeout=90s",
            "kad.max-inbound-connections=100",
            "kad.max-inbound-connections-per-ip=8",
            "kad.max-outbound-connections=50",
            "kad.connect-timeout=2s",
            "kad.max-concurrent-requests-per-connection=16",
            "kad.per-ip-limit-for-local-peers=true",
            "kad.max-requests-per-second-per-ip=250",
            "kad.check-sender-address=true",
            "kad.native-transport=false",
            "kad.max-pending-write-bytes=2MB",
            "kad.max-total-pending-write-bytes=32MB")
        .run(
            context -> {
              TcpTransportOptions options = context.getBean(TcpTransport.class).options();
              assertThat(options.idleTimeout()).isEqualTo(Duration.ofSeconds(90));
              assertThat(options.maxInboundConnections()).isEqualTo(100);
              assertThat(options.maxInboundConnectionsPerIp()).isEqualTo(8);
              assertThat(options.maxOutboundConnections()).isEqualTo(50);
              assertThat(options.connectTimeout()).isEqualTo(Duration.ofSeconds(2));
              assertThat(options.maxConcurrentRequestsPerConnection()).isEqualTo(16);
              assertThat(options.perIpLimitForLocalPeers()).isTrue();
              assertThat(options.maxRequestsPerSecondPerIp()).isEqualTo(250);
              assertThat(options.checkSenderAddress()).isTrue();
              assertThat(options.nativeTransport()).isFalse();
              assertThat(options.maxPendingWriteBytes()).isEqualTo(2 * 1024 * 1024);
              assertThat(options.maxTotalPendingWriteBytes()).isEqualTo(32L * 1024 * 1024);
            });
  }

  @Test
  void unsetTransportPropertiesAreTheTransportsDefaults() {
    assertThat(
            KadAutoConfiguration.transportOptions(new KadProperties(), KadConfig.defaults(), null)
                .build())
        .isEqualTo(TcpTransportOptions.builder().fromConfig(KadConfig.defaults()).build());
    // Unset, the pending-write bounds grow with the frame size as the transport's own do.
    runner
        .withPropertyValues("kad.max-frame-bytes=8MB")
        .run(
            context -> {
              TcpTransportOptions options = context.getBean(TcpTransport.class).options();
              TcpTransportOptions transportDefaults =
                  TcpTransportOptions.builder()
                      .fromConfig(context.getBean(KadNode.class).config())
                      .build();
              assertThat(options.maxPendingWriteBytes())
                  .isEqualTo(transportDefaults.maxPendingWriteBytes())
                  .isEqualTo(2 * (8 * 1024 * 1024 + 1024));
              assertThat(options.maxTotalPendingWriteBytes())
                  .isEqualTo(transportDefaults.maxTotalPendingWriteBytes());
            });
  }

  @Test
  void aBadConnectionPropertyFailsStartUpNamingTheProperty() {
    assertFailure("kad.connect-timeout=0s", "kad.connect-timeout must be positive but was PT0S");
    assertFailure(
        "kad.max-concurrent-requests-per-connection=0",
        "kad.max-concurrent-requests-per-connection must be in [1, 65536] but was 0");
    assertFailure(
        "kad.max-pending-write-bytes=10",
        "kad.max-pending-write-bytes must be in [1024, 2147483647] but was 10");
    assertFailure(
        "kad.max-pending-write-bytes=4GB",
        "kad.max-pending-write-bytes must be at most 2147483647 bytes");
    assertFailure(
        "kad.max-total-pending-write-bytes=10",
        "kad.max-total-pending-write-bytes must be at least 1024 but was 10");
    // Room for two frames of kad.max-frame-bytes, checked with the other values.
    runner
        .withPropertyValues(
            "kad.max-pending-write-bytes=100KB",
            "kad.max-total-pending-write-bytes=100KB",
            "kad.k=0")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.k must be")
                    .hasMessageContaining(
                        "kad.max-pending-write-bytes must be at least 2 * (kad.max-frame-bytes"
                            + " + 1024) = 133120 for kad.max-frame-bytes 65536 but was 102400")
                    .hasMessageContaining(
                        "kad.max-total-pending-write-bytes must be at least 2 *"
                            + " (kad.max-frame-bytes + 1024) = 133120"));
    runner
        .withPropertyValues("kad.max-frame-bytes=32KB", "kad.max-pending-write-bytes=100KB")
        .run(
            context ->
                assertThat(context.getBean(TcpTransport.class).options().maxPendingWriteBytes())
                    .isEqualTo(100 * 1024));
  }

  @Test
  void aWildcardHostWithoutAnAdvertisedAddressIsAnErrorOfAdvertise() {
    assertFailure(
        "kad.host=0.0.0.0",
        "kad.advertise must be set when kad.host is the wildcard '0.0.0.0': other nodes cannot"
            + " dial it");
    assertFailure("kad.host=::", "kad.advertise must be set when kad.host is the wildcard '::'");
    // A field error of kad.advertise, the property to set; with it set there is none. (Checked
    // on the properties alone: tests bind 127.0.0.1, never every interface.)
    KadProperties properties = new KadProperties();
    properties.setHost("0.0.0.0");
    Errors errors = new BeanPropertyBindingResult(properties, "kad");
    properties.validate(properties, errors);
    assertThat(errors.getAllErrors()).hasSize(1);
    assertThat(errors.getFieldError("advertise")).isNotNull();
    properties.setAdvertise("node1.example.com:7000");
    Errors none = new BeanPropertyBindingResult(properties, "kad");
    properties.validate(properties, none);
    assertThat(none.getAllErrors()).isEmpty();
  }

  @Test
  void aTransportBeanNamingAnotherNodeIdFailsStartUpNamingBoth() {
    NodeId own = NodeId.parse("11".repeat(20));
    NodeId other = NodeId.parse("22".repeat(20));
    runner
        .withBean(
            TcpTransport.class,
            () ->
                TcpTransport.create(
                    TcpTransportOptions.builder().bindHost("127.0.0.1").nodeId(other).build()))
        .withPropertyValues("kad.node-id=" + own)
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("nodeId " + other + " is not the node's id " + own));
  }

  @Test
  void settingsThatDisagreeAreNamedAsTheirProperties() {
    runner
        .withPropertyValues("kad.soft-timeout=6s", "kad.hard-timeout=5s")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.* settings disagree: kad.soft-timeout must not exceed kad.hard-timeout"));
    assertThat(KadProperties.inPropertyNames("maxValueBytes must be in [1, 65536] but was 102400"))
        .isEqualTo("kad.max-value-bytes must be in [1, 65536] but was 102400");
    assertThat(KadProperties.inPropertyNames("keyWireBudget is not a property"))
        .isEqualTo("keyWireBudget is not a property");
  }

  @Test
  void aBadPropertyFailsStartUpNamingTheValue() {
    runner
        .withPropertyValues("kad.k=0")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.k must be in [1, 256] but was 0"));
    runner
        .withPropertyValues("kad.format=xml")
        .run(context -> StartupFailure.rootCause(context).hasMessageContaining("'xml'"));
    runner
        .withPropertyValues("kad.max-outbound-connections=0")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.max-outbound-connections must be in [1, 1000000] but was 0"));
    // Parsed before the node binds its port: nothing is left open.
    Created created = new Created();
    runner
        .withBean(Created.class, () -> created)
        .withPropertyValues("kad.bootstrap=nowhere")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.bootstrap[0] must be HOST:PORT but was 'nowhere'"));
    created.assertAllClosed();
  }

  @Test
  void aBadTransportOrAddressPropertyFailsStartUpNamingTheProperty() {
    assertFailure("kad.port=99999", "kad.port must be in [0, 65535] but was 99999");
    assertFailure("kad.host=", "kad.host must not be blank");
    assertFailure("kad.advertise=foo", "kad.advertise must be HOST:PORT but was 'foo'");
    // Peers drop a contact at the wildcard: the node would never enter a routing table.
    assertFailure(
        "kad.advertise=0.0.0.0:7000",
        "kad.advertise must be an address peers can dial, not the wildcard '0.0.0.0'");
    assertFailure("kad.idle-timeout=0s", "kad.idle-timeout must be positive but was PT0S");
    assertFailure(
        "kad.max-inbound-connections-per-ip=0",
        "kad.max-inbound-connections-per-ip must be in [1, 1000000] but was 0");
    assertFailure(
        "kad.max-requests-per-second-per-ip=-1",
        "kad.max-requests-per-second-per-ip must be in [0, 1000000] but was -1");
    assertFailure("kad.hard-timeout=-1s", "kad.hard-timeout must be positive but was PT-1S");
    assertFailure(
        "kad.bootstrap=127.0.0.1:7000,bad", "kad.bootstrap[1] must be HOST:PORT but was 'bad'");
    // The engine's bootstrap would refuse it at every attempt, after start-up.
    assertFailure(
        "kad.bootstrap=127.0.0.1:0",
        "kad.bootstrap[0] must be an address a node can dial (not port 0, a wildcard or multicast"
            + " IP) but was '127.0.0.1:0'");
    // Every bad value is reported, not only the first.
    runner
        .withPropertyValues("kad.k=0", "kad.port=-1")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.k must be")
                    .hasMessageContaining("kad.port must be"));
  }

  @Test
  void sizesTakeUnitsAndPlainNumbersAreBytes() {
    runner
        .withPropertyValues(
            "kad.max-value-bytes=8KB", "kad.max-stored-bytes=1GB", "kad.max-frame-bytes=131072")
        .run(
            context -> {
              KadConfig config = context.getBean(KadNode.class).config();
              assertThat(config.maxValueBytes()).isEqualTo(8192);
              assertThat(config.maxStoredBytes()).isEqualTo(1L << 30);
              assertThat(config.maxFrameBytes()).isEqualTo(131072);
            });
    assertFailure(
        "kad.max-value-bytes=4GB", "kad.max-value-bytes must be at most 2147483647 bytes");
  }

  @Test
  void aValueSizeOverWhatOneMessageHoldsIsRefusedNamingTheLargestThatFitsAndTheFrameProperty() {
    for (String size : List.of("1MB", "64KB")) {
      runner
          .withPropertyValues("kad.max-value-bytes=" + size)
          .run(
              context -> {
                String message = context.getStartupFailure().getMessage();
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.max-value-bytes must be at most ")
                    .hasMessageContaining("kad.max-frame-bytes (64KB)")
                    .hasMessageNotContaining("[1, 65536]");
                int largest = largestIn(context.getStartupFailure());
                // The bound the message names works, one byte more does not.
                runner
                    .withPropertyValues("kad.max-value-bytes=" + largest)
                    .run(
                        ok ->
                            assertThat(ok.getBean(KadNode.class).config().maxValueBytes())
                                .as(message)
                                .isEqualTo(largest));
                runner
                    .withPropertyValues("kad.max-value-bytes=" + (largest + 1))
                    .run(
                        bad ->
                            StartupFailure.rootCause(bad)
                                .hasMessageContaining(
                                    "kad.max-value-bytes must be at most " + largest + " bytes"));
              });
    }
    // A larger frame raises the bound.
    runner
        .withPropertyValues("kad.max-value-bytes=1MB", "kad.max-frame-bytes=2MB")
        .run(
            context ->
                assertThat(context.getBean(KadNode.class).config().maxValueBytes())
                    .isEqualTo(1 << 20));
  }

  /** The bound in "kad.max-value-bytes must be at most N bytes". */
  private static int largestIn(Throwable failure) {
    Throwable root = failure;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("kad.max-value-bytes must be at most (\\d+) bytes")
            .matcher(String.valueOf(root.getMessage()));
    assertThat(m.find()).as(root.getMessage()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  @Test
  void closingCompletesWhenTheContextBeginsToCloseNotBeforeAndAtOnceForALateSubscriber() {
    AtomicReference<KadNodeLifecycle> lifecycle = new AtomicReference<>();
    AtomicBoolean closed = new AtomicBoolean();
    // Whether the node's lifecycle still ran when closing() completed: before the web server's.
    AtomicBoolean runningAtClosing = new AtomicBoolean();
    runner.run(
        context -> {
          KadNodeLifecycle l = context.getBean(KadNodeLifecycle.class);
          lifecycle.set(l);
          l.closing()
              .subscribe(
                  null,
                  null,
                  () -> {
                    runningAtClosing.set(l.isRunning());
                    closed.set(true);
                  });
          // Neither stopping and starting again nor a child context closing is this one closing.
          context.stop();
          context.start();
          var child = new org.springframework.context.support.GenericApplicationContext();
          child.setParent(context);
          child.refresh();
          child.close();
          assertThat(closed).isFalse();
        });
    assertThat(closed).isTrue();
    assertThat(runningAtClosing).isTrue();
    StepVerifier.create(lifecycle.get().closing()).expectComplete().verify(BOUND);
  }

  @Test
  void aTrailingCommaInTheBootstrapListIsNoAddress() {
    runner
        .withPropertyValues("kad.bootstrap=127.0.0.1:7000, 127.0.0.1:7001,")
        .run(
            context ->
                assertThat(context.getBean(KadProperties.class).bootstrapAddresses())
                    .containsExactly(
                        Address.parse("127.0.0.1:7000"), Address.parse("127.0.0.1:7001")));
  }

  private void assertFailure(String property, String message) {
    runner
        .withPropertyValues(property)
        .run(
            context ->
                assertThat(context)
                    .as(property)
                    .getFailure()
                    .rootCause()
                    .hasMessageContaining(message));
  }

  @Test
  void aBeanFailingAfterTheNodeStartedClosesTheNode() {
    Created created = new Created();
    runner
        .withBean(Created.class, () -> created)
        .withUserConfiguration(BrokenAfterTheNode.class)
        .run(
            context ->
                StartupFailure.rootCause(context).hasMessage("broken after the node started"));
    assertThat(created.nodes).hasSize(1);
    created.assertAllClosed();
  }

  @Configuration(proxyBeanMethods = false)
  static class BrokenAfterTheNode {
    @Bean
    Object brokenAfterTheNode(KadNode kadNode) {
      throw new IllegalStateException("broken after the node started");
    }
  }

  /**
   * Records every node and transport a context creates, to check that none outlives a failed start.
   */
  static final class Created implements BeanPostProcessor {
    final List<KadNode> nodes = new CopyOnWriteArrayList<>();
    final List<TcpTransport> transports = new CopyOnWriteArrayList<>();

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
      if (bean instanceof KadNode node) {
        nodes.add(node);
      } else if (bean instanceof TcpTransport transport) {
        transports.add(transport);
      }
      return bean;
    }

    /**
     * Every transport and node is closed, and every node's port free again: no listening socket, no
     * event loop left.
     */
    void assertAllClosed() {
      for (TcpTransport transport : transports) {
        // Only a closed transport refuses to start with NodeClosedException, binding nothing.
        StepVerifier.create(transport.start(request -> Mono.empty()))
            .expectError(NodeClosedException.class)
            .verify(BOUND);
      }
      for (KadNode node : nodes) {
        StepVerifier.create(node.findNode(NodeId.random(new SplittableRandom(3))))
            .expectError(NodeClosedException.class)
            .verify(BOUND);
        int port = node.contact().address().port();
        try (ServerSocket again = new ServerSocket(port, 1, InetAddress.getByName("127.0.0.1"))) {
          assertThat(again.getLocalPort()).isEqualTo(port);
        } catch (IOException e) {
          throw new AssertionError("port " + port + " of a failed context is still bound", e);
        }
      }
    }
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
        .run(context -> StartupFailure.rootCause(context).hasMessageContaining("xyz"));
    runner
        .withPropertyValues("kad.node-id=" + hex, "kad.id-bits=256")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
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
  void aUserNodeReplacesTheAutoConfiguredOneAndNoTransportIsMade() {
    runner
        .withUserConfiguration(UserNode.class)
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              assertThat(context).hasSingleBean(KadNode.class);
              assertThat(context.getBean(KadNode.class))
                  .isSameAs(context.getBean(UserNode.class).node);
              assertThat(context).doesNotHaveBean(TcpTransport.class);
              MeterRegistry registry = context.getBean(MeterRegistry.class);
              context.getBean(KadNodeMeters.class).bindTo(registry);
              assertThat(registry.find("kad.routing.contacts").gauge()).isNotNull();
              assertThat(registry.find("kad.transport.connections.open").gauge()).isNull();
            });
  }

  @Test
  void everyNodeListenerBeanHearsTheNodeAndSoDoTheMetrics() {
    List<String> first = new CopyOnWriteArrayList<>();
    List<String> second = new CopyOnWriteArrayList<>();
    runner
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean("firstListener", NodeListener.class, () -> operations(first))
        .withBean("secondListener", NodeListener.class, () -> operations(second))
        .run(
            context -> {
              KadNode kad = context.getBean(KadNode.class);
              kad.findNode(NodeId.random(new SplittableRandom(2)))
                  .onErrorResume(e -> Mono.empty())
                  .block(BOUND);
              assertThat(first).contains("find_node");
              assertThat(second).contains("find_node");
              assertThat(
                      context
                          .getBean(MeterRegistry.class)
                          .find("kad.operations")
                          .tag("kind", "find_node")
                          .timer())
                  .isNotNull();
            });
  }

  @Test
  void metricsThatFindNoSingleRegistryNeverBreakTheNode() {
    // Two registries and no primary: the metrics cannot choose, and must not fail the node's
    // operations for it (a listener's exception would fail the request it reports).
    AtomicReference<Throwable> failure = new AtomicReference<>();
    runner
        .withBean("firstRegistry", MeterRegistry.class, SimpleMeterRegistry::new)
        .withBean("secondRegistry", MeterRegistry.class, SimpleMeterRegistry::new)
        .run(
            context -> {
              KadNode kad = context.getBean(KadNode.class);
              kad.findNode(NodeId.random(new SplittableRandom(4)))
                  .doOnError(failure::set)
                  .onErrorResume(e -> Mono.empty())
                  .block(BOUND);
            });
    // Without contacts a lookup ends at once, empty or as a kad error: never a bean lookup error.
    assertThat(failure.get())
        .satisfiesAnyOf(
            f -> assertThat(f).isNull(),
            f -> assertThat(f).isInstanceOf(dev.kad.api.KadException.class));
  }

  private static NodeListener operations(List<String> kinds) {
    return new NodeListener() {
      @Override
      public void operationFinished(String kind, String outcome, Duration elapsed) {
        kinds.add(kind);
      }
    };
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
  void theHealthIndicatorTurnsOffLikeBootsOwn() {
    runner
        .withPropertyValues("management.health.kad.enabled=false")
        .run(
            context -> {
              assertThat(context).doesNotHaveBean(KadHealthIndicator.class);
              assertThat(context).hasSingleBean(KadNodeLifecycle.class);
            });
    runner
        .withPropertyValues("management.health.defaults.enabled=false")
        .run(context -> assertThat(context).doesNotHaveBean(KadHealthIndicator.class));
    runner
        .withPropertyValues(
            "management.health.defaults.enabled=false", "management.health.kad.enabled=true")
        .run(context -> assertThat(context).hasSingleBean(KadHealthIndicator.class));
  }

  @Test
  void aNodeListenerBeanThatThrowsBreaksNeitherTheNodeNorTheMetrics() {
    runner.run(
        first -> {
          KadNode seed = first.getBean(KadNode.class);
          runner
              .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
              .withBean("brokenListener", NodeListener.class, ThrowingListener::new)
              .withPropertyValues("kad.bootstrap=" + seed.contact().address())
              .run(
                  second -> {
                    // The join's pings and lookups succeed though the listener throws on each.
                    awaitHealth(second.getBean(KadHealthIndicator.class), Status.UP, "DONE");
                    assertThat(
                            second
                                .getBean(MeterRegistry.class)
                                .find("kad.operations")
                                .tag("kind", "bootstrap")
                                .tag("outcome", "ok")
                                .timer())
                        .isNotNull();
                  });
        });
  }

  /** A listener with a bug: it throws on every report. */
  static final class ThrowingListener implements NodeListener {
    @Override
    public void rpcSent(String type, String outcome, Duration elapsed) {
      throw new IllegalStateException("listener bug");
    }

    @Override
    public void rpcReceived(String type, String outcome) {
      throw new IllegalStateException("listener bug");
    }

    @Override
    public void operationFinished(String kind, String outcome, Duration elapsed) {
      throw new IllegalStateException("listener bug");
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
                    // Read on the node's clock, the system's: it has just heard from its seed.
                    assertThat(
                            registry.get("kad.network.silence").timeGauge().value(TimeUnit.SECONDS))
                        .isBetween(0.0, BOUND.toSeconds() + 1.0);
                    assertThat(registry.find("kad.transport.connections.dropped").functionCounter())
                        .isNotNull();
                    assertThat(registry.find("kad.transport.connections.evicted").functionCounter())
                        .isNotNull();
                    assertThat(
                            registry
                                .find("kad.transport.connections.evicted.inbound")
                                .functionCounter())
                        .isNotNull();
                    assertThat(registry.find("kad.transport.claims.refuted").functionCounter())
                        .isNotNull();
                    assertThat(
                            registry
                                .get("kad.transport.requests.rate.limited")
                                .functionCounter()
                                .count())
                        .isZero();
                    assertThat(
                            registry.get("kad.transport.senders.spoofed").functionCounter().count())
                        .isZero();
                  });
        });
  }

  @Test
  void theHealthSilenceThresholdIsTwiceTheRefreshIntervalUnlessSet() {
    runner
        .withPropertyValues("kad.maintenance=true", "kad.refresh-interval=30m")
        .run(
            context ->
                assertThat(context.getBean(KadHealthIndicator.class).health().getDetails())
                    .containsEntry("silenceThreshold", "PT1H"));
    runner
        .withPropertyValues("kad.health.silence-threshold=5m")
        .run(
            context -> {
              assertThat(context.getBean(KadHealthIndicator.class).health().getDetails())
                  .containsEntry("silenceThreshold", "PT5M");
              // The same silence makes the node bootstrap again through its seeds.
              assertThat(context.getBean(KadNodeLifecycle.class).silenceThreshold())
                  .isEqualTo(Duration.ofMinutes(5));
            });
    // Without maintenance an idle node never reaches out: no check unless asked for.
    runner.run(
        context ->
            assertThat(context.getBean(KadHealthIndicator.class).health().getDetails())
                .doesNotContainKey("silenceThreshold"));
    assertFailure(
        "kad.health.silence-threshold=-1s",
        "kad.health.silence-threshold must not be negative but was PT-1S");
  }

  @Test
  void aSilenceThresholdUnderAMinuteFailsStartUpAndZeroTurnsTheCheckOff() {
    // 100ms would make an idle node bootstrap again about once a second.
    assertFailure(
        "kad.health.silence-threshold=100ms",
        "kad.health.silence-threshold must be 0 (off) or at least PT1M but was PT0.1S");
    runner
        .withPropertyValues("kad.maintenance=true", "kad.health.silence-threshold=0")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(KadNodeLifecycle.class).silenceThreshold()).isZero();
              assertThat(context.getBean(KadHealthIndicator.class).health().getDetails())
                  .doesNotContainKey("silenceThreshold");
            });
    // The default from a short refresh interval is a minute, not less.
    runner
        .withPropertyValues("kad.maintenance=true", "kad.refresh-interval=10s")
        .run(
            context ->
                assertThat(context.getBean(KadNodeLifecycle.class).silenceThreshold())
                    .isEqualTo(KadNodeLifecycle.MIN_SILENCE_THRESHOLD));
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

  @Test
  void aFailedBootstrapIsRetriedUntilASeedAnswers() {
    SimulatedNetwork network = new SimulatedNetwork(Schedulers.parallel(), 5);
    // Never handed out by the network: sending there fails at once, until a node starts there.
    Address seed = Address.parse("10.9.0.1:4000");
    runner
        .withBean(KadNode.class, () -> simulatedNode(network.newTransport()))
        .withPropertyValues("kad.bootstrap=" + seed)
        .run(
            context -> {
              KadHealthIndicator health = context.getBean(KadHealthIndicator.class);
              awaitHealth(health, Status.DOWN, "FAILED");
              KadNode seedNode = simulatedNode(network.newTransport(seed));
              try {
                // The first retries come after 1 to 1.5 s, then 1 to 3 s.
                Health report = awaitHealth(health, Status.UP, "DONE");
                assertThat(report.getDetails()).doesNotContainKey("bootstrapError");
              } finally {
                seedNode.close().block(BOUND);
              }
            });
  }

  private static KadNode simulatedNode(Transport transport) {
    return KadNodes.builder()
        .config(KadConfig.builder().maintenance(false).build())
        .transport(transport)
        .start()
        .block(BOUND);
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
        .contains("\"name\": \"kad.hard-timeout\"")
        .contains("\"name\": \"kad.health.silence-threshold\"")
        // IDEs offer the wire formats and take sizes with units.
        .contains("\"value\": \"smile\"")
        .contains("\"defaultValue\": \"16KB\"");
    for (RecordComponent setting : KadConfig.class.getRecordComponents()) {
      String property =
          "kad." + setting.getName().replaceAll("([A-Z])", "-$1").toLowerCase(Locale.ROOT);
      assertThat(metadata)
          .as("a property for KadConfig.%s", setting.getName())
          .contains("\"name\": \"" + property + "\"");
    }
    // The transport's settings too, but for those that are the engine's (idBits, the frame and
    // value sizes, hardTimeout as requestTimeout) and those about the process, not the node.
    Map<String, String> renamed =
        Map.of(
            "bindHost", "host",
            "bindPort", "port",
            "advertisedAddress", "advertise",
            "requestTimeout", "hardTimeout");
    Set<String> notProperties = Set.of("name", "eventLoopThreads", "eventLoops", "scheduler");
    for (RecordComponent setting : TcpTransportOptions.class.getRecordComponents()) {
      if (notProperties.contains(setting.getName())) {
        continue;
      }
      String property =
          "kad."
              + renamed
                  .getOrDefault(setting.getName(), setting.getName())
                  .replaceAll("([A-Z])", "-$1")
                  .toLowerCase(Locale.ROOT);
      assertThat(metadata)
          .as("a property for TcpTransportOptions.%s", setting.getName())
          .contains("\"name\": \"" + property + "\"");
    }
  }

  @Test
  void everyEngineSettingBindsFromItsProperty() {
    runner
        .withPropertyValues(
            "kad.relaxed-split=true",
            "kad.replacement-cache-size=7",
            "kad.ping-grace=30s",
            "kad.max-failures=9",
            "kad.max-per-subnet=2",
            "kad.max-per-ip=0",
            "kad.job-jitter=5s",
            "kad.jobs=refresh,expiry",
            "kad.expiry-interval=2m",
            "kad.client-mode=true")
        .run(
            context -> {
              KadConfig config = context.getBean(KadNode.class).config();
              assertThat(config.relaxedSplit()).isTrue();
              assertThat(config.replacementCacheSize()).isEqualTo(7);
              assertThat(config.pingGrace()).isEqualTo(Duration.ofSeconds(30));
              assertThat(config.maxFailures()).isEqualTo(9);
              assertThat(config.maxPerSubnet()).isEqualTo(2);
              assertThat(config.maxPerIp()).isZero();
              assertThat(config.jobJitter()).isEqualTo(Duration.ofSeconds(5));
              assertThat(config.jobs())
                  .containsExactlyInAnyOrder(MaintenanceJob.REFRESH, MaintenanceJob.EXPIRY);
              assertThat(config.expiryInterval()).isEqualTo(Duration.ofMinutes(2));
              assertThat(config.clientMode()).isTrue();
            });
    runner
        .withPropertyValues("kad.max-failures=0")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.max-failures must be in [2, 1000] but was 0"));
    runner
        .withPropertyValues("kad.max-per-ip=300")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.max-per-ip must be in [0, 256] but was 300"));
    runner.run(
        context -> assertThat(context.getBean(KadNode.class).config().maxPerIp()).isEqualTo(2));
  }

  @Test
  void anEmptyJobListIsRefusedRatherThanStoppingEveryJobUnsaid() {
    runner
        .withPropertyValues("kad.maintenance=true", "kad.jobs=")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining("kad.jobs is empty, which would run no maintenance job"));
    runner
        .withPropertyValues("kad.maintenance=false", "kad.jobs=")
        .run(
            context -> assertThat(context.getBean(KadNode.class).config().maintenance()).isFalse());
  }

  @Test
  void aPortInUseFailsStartUpWithAClearMessage() throws Exception {
    Created created = new Created();
    try (java.net.ServerSocket taken =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      runner
          .withBean(Created.class, () -> created)
          .withPropertyValues("kad.port=" + taken.getLocalPort())
          .run(
              context ->
                  assertThat(context)
                      .hasFailed()
                      .getFailure()
                      .hasStackTraceContaining("kad node could not start"));
    }
    assertThat(created.transports).hasSize(1);
    created.assertAllClosed();
  }

  @Test
  void aStartThatOutlivesTheWaitIsCancelledNotLeftRunningUnowned() {
    AtomicBoolean cancelled = new AtomicBoolean();
    CompletableFuture<KadNode> start =
        Mono.<KadNode>never().doOnCancel(() -> cancelled.set(true)).toFuture();
    assertThatThrownBy(() -> KadAutoConfiguration.awaitStart(start, Duration.ofMillis(20)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("kad node did not start within PT0.02S");
    assertThat(cancelled).isTrue();
  }

  @Test
  void aStartThatCompletesAsTheWaitEndsIsUsed() {
    CompletableFuture<String> start =
        new CompletableFuture<>() {
          @Override
          public String get(long timeout, TimeUnit unit) throws TimeoutException {
            complete("started");
            throw new TimeoutException();
          }
        };
    assertThat(KadAutoConfiguration.awaitStart(start, Duration.ofSeconds(30))).isEqualTo("started");
  }
}
