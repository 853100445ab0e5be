package dev.kad.reactor.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.spi.NodeListener;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.KadNodes;
import dev.kad.reactor.SchedulerClock;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.TimeGauge;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.test.scheduler.VirtualTimeScheduler;

/** {@link NodeMetrics} and {@link NodeGauges}: a node's meters without Spring. */
class NodeMetricsTest {

  private static final Duration ELAPSED = Duration.ofMillis(3);

  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(vts, 17);
  private final List<KadNode> nodes = new ArrayList<>();

  /** The nodes' clock: virtual time, from the epoch. */
  private final Clock virtualClock = SchedulerClock.of(vts);

  @AfterEach
  void closeEverything() {
    for (KadNode n : nodes) {
      VirtualTime.await(vts, n.close());
    }
    vts.dispose();
  }

  @Test
  void aNodeBuiltWithTheListenerCountsItsOperationsAndRequests() {
    NodeMetrics metrics = new NodeMetrics(registry);
    KadNode a = start(network.newTransport(), metrics);
    KadNode b = start(network.newTransport(), NodeListener.NONE);
    new NodeGauges(a, Tags.empty(), virtualClock).bindTo(registry);
    VirtualTime.await(vts, b.bootstrap(List.of(a.address())));

    VirtualTime.await(vts, a.put(Key.of("greeting"), new byte[] {1}));

    assertThat(registry.get("kad.operations").tags("kind", "put", "outcome", "ok").timer().count())
        .isEqualTo(1);
    assertThat(registry.get("kad.rpc.sent").tags("type", "store", "outcome", "ok").timer().count())
        .isEqualTo(1);
    assertThat(registry.get("kad.rpc.received").tags("outcome", "ok").counters())
        .as("b's requests while it joined through a")
        .isNotEmpty();
    assertThat(registry.get("kad.routing.contacts").gauge().value()).isEqualTo(1);
    assertThat(registry.get("kad.store.values").gauge().value()).isEqualTo(1);
  }

  @Test
  void aReportOfAMeterThatExistsAllocatesNoBuilder() {
    NodeMetrics metrics = new NodeMetrics(registry);
    int reports = 20_000;
    for (int i = 0; i < reports; i++) {
      report(metrics);
    }
    com.sun.management.ThreadMXBean threads =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long before = threads.getCurrentThreadAllocatedBytes();
    for (int i = 0; i < reports; i++) {
      report(metrics);
    }
    long perReport = (threads.getCurrentThreadAllocatedBytes() - before) / (3L * reports);
    // Building a meter id (a builder, its tags, the id) costs hundreds of bytes per report.
    assertThat(perReport).as("bytes allocated per report").isLessThan(32);
    assertThat(registry.get("kad.rpc.sent").tags("type", "ping", "outcome", "ok").timer().count())
        .isEqualTo(2L * reports);
    assertThat(registry.get("kad.rpc.received").tags("type", "store").counter().count())
        .isEqualTo(2.0 * reports);
    assertThat(registry.get("kad.operations").tags("kind", "get").timer().count())
        .isEqualTo(2L * reports);
  }

  private static void report(NodeMetrics metrics) {
    metrics.rpcSent("ping", "ok", ELAPSED);
    metrics.rpcReceived("store", "ok");
    metrics.operationFinished("get", "ok", ELAPSED);
  }

  @Test
  void aMeterRemovedFromTheRegistryComesBackOnTheNextReport() {
    NodeMetrics metrics = new NodeMetrics(registry);
    metrics.rpcSent("ping", "ok", ELAPSED);
    registry.remove(registry.get("kad.rpc.sent").timer());
    metrics.rpcSent("ping", "ok", ELAPSED);
    assertThat(registry.get("kad.rpc.sent").timer().count()).isEqualTo(1);
  }

  @Test
  void aMeterTheRegistryRefusesNeverFailsAReportNorStopsTheOthers() {
    registry
        .config()
        .meterFilter(
            new MeterFilter() {
              @Override
              public Meter.Id map(Meter.Id id) {
                if (id.getName().equals("kad.rpc.sent")) {
                  throw new IllegalArgumentException("refused " + id.getName());
                }
                return id;
              }
            });
    NodeMetrics metrics = new NodeMetrics(registry);
    assertThatCode(
            () -> {
              metrics.rpcSent("ping", "ok", ELAPSED);
              metrics.rpcSent("ping", "ok", ELAPSED);
            })
        .doesNotThrowAnyException();
    metrics.operationFinished("get", "ok", ELAPSED);
    assertThat(registry.find("kad.rpc.sent").timer()).isNull();
    assertThat(registry.get("kad.operations").timer().count()).isEqualTo(1);
  }

  @Test
  void twoNodesInOneRegistryAreToldApartByTheirTags() {
    NodeMetrics metricsOfA = new NodeMetrics(registry, Tags.of("node", "a"));
    NodeMetrics metricsOfB = new NodeMetrics(registry, Tags.of("node", "b"));
    KadNode a = start(network.newTransport());
    KadNode b = start(network.newTransport());
    new NodeGauges(a, Tags.of("node", "a"), virtualClock).bindTo(registry);
    new NodeGauges(b, Tags.of("node", "b"), virtualClock).bindTo(registry);
    // b stores a value: only b's gauge counts it.
    VirtualTime.await(vts, b.put(Key.of("only-b"), new byte[] {1}));
    metricsOfA.operationFinished("get", "ok", ELAPSED);
    metricsOfB.operationFinished("get", "ok", ELAPSED);
    metricsOfB.operationFinished("get", "ok", ELAPSED);

    assertThat(registry.get("kad.store.values").tag("node", "a").gauge().value()).isZero();
    assertThat(registry.get("kad.store.values").tag("node", "b").gauge().value()).isEqualTo(1);
    assertThat(registry.get("kad.watches.polling").tag("node", "b").gauge().value()).isZero();
    assertThat(registry.get("kad.operations").tag("node", "a").timer().count()).isEqualTo(1);
    assertThat(registry.get("kad.operations").tag("node", "b").timer().count()).isEqualTo(2);
  }

  @Test
  void silenceIsTheTimeSinceTheNodeLastHeardFromAnotherNodeInSecondsAndNoValueBefore() {
    KadNode a = start(network.newTransport());
    KadNode b = start(network.newTransport());
    new NodeGauges(a, Tags.empty(), virtualClock).bindTo(registry);
    TimeGauge silence = registry.get("kad.network.silence").timeGauge();
    assertThat(silence.getId().getBaseUnit()).isEqualTo("seconds");
    // Nobody heard yet: NaN, which registries leave out, not 0, which would say all is well.
    vts.advanceTimeBy(Duration.ofMinutes(5));
    assertThat(silence.value()).isNaN();

    VirtualTime.await(vts, b.bootstrap(List.of(a.address())));
    assertThat(silence.value(TimeUnit.SECONDS)).isZero();
    vts.advanceTimeBy(Duration.ofSeconds(90));
    assertThat(silence.value(TimeUnit.SECONDS)).isEqualTo(90.0);
    assertThat(silence.value(TimeUnit.MILLISECONDS)).isEqualTo(90_000.0);
  }

  @Test
  void aTagNamedLikeOneKadSetsPerReportIsRefused() {
    KadNode a = start(network.newTransport());
    assertThatThrownBy(() -> new NodeMetrics(registry, Tags.of("outcome", "x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'outcome'");
    assertThatThrownBy(() -> new NodeGauges(a, Tags.of("type", "x"), virtualClock))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'type'");
  }

  private KadNode start(Transport transport) {
    return start(transport, NodeListener.NONE);
  }

  private KadNode start(Transport transport, NodeListener listener) {
    KadNode n =
        VirtualTime.await(
            vts,
            KadNodes.builder()
                .config(KadConfig.builder().maintenance(false).build())
                .transport(transport)
                .listener(listener)
                .scheduler(vts)
                .clock(virtualClock)
                .start());
    nodes.add(n);
    return n;
  }
}
