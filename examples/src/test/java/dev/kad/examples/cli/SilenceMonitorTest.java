package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.examples.cli.SilenceMonitor.CutOff;
import dev.kad.examples.cli.SilenceMonitor.Reconnected;
import dev.kad.examples.cli.SilenceMonitor.StillCutOff;
import dev.kad.examples.cli.SilenceMonitor.Transition;
import dev.kad.reactor.KadNodes;
import dev.kad.reactor.SchedulerClock;
import dev.kad.testkit.SimulatedNetwork;
import dev.kad.testkit.VirtualTime;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.test.scheduler.VirtualTimeScheduler;

/** {@link SilenceMonitor} on the simulated network, in virtual time. */
class SilenceMonitorTest {

  private static final Duration THRESHOLD = Duration.ofSeconds(10);

  private final VirtualTimeScheduler vts = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(vts, 11);
  private final List<KadNode> nodes = new CopyOnWriteArrayList<>();
  private Disposable monitoring;

  @AfterEach
  void closeEverything() {
    if (monitoring != null) {
      monitoring.dispose();
    }
    VirtualTime.await(vts, Flux.fromIterable(nodes).flatMap(KadNode::close).then());
    vts.dispose();
  }

  private KadNode start(boolean client) {
    // No maintenance jobs: the node reaches out only when someone makes it.
    KadConfig config = KadConfig.builder().maintenance(false).clientMode(client).build();
    KadNode node =
        VirtualTime.await(
            vts,
            KadNodes.builder()
                .config(config)
                .transport(network.newTransport())
                .scheduler(vts)
                .random(network.newRandom())
                .start());
    nodes.add(node);
    return node;
  }

  @Test
  void reportsOnceWhenCutOffAndOnceWhenASeedAnswersAgainAndNeverWhileNodesAnswer() {
    KadNode seed = start(false);
    KadNode client = start(true);
    Address seedAddress = seed.contact().address();
    VirtualTime.await(vts, client.bootstrap(List.of(seedAddress)));
    List<Transition> seen = new CopyOnWriteArrayList<>();
    monitoring =
        new SilenceMonitor(
                client,
                List.of(seedAddress),
                THRESHOLD,
                vts,
                SchedulerClock.of(vts),
                (dropped, why, retrying) -> {})
            .transitions()
            .subscribe(seen::add);

    // Nothing else reaches out, yet the monitor's own lookups are answered: not cut off.
    vts.advanceTimeBy(Duration.ofMinutes(5));
    assertThat(seen).isEmpty();

    network.kill(seedAddress);
    vts.advanceTimeBy(THRESHOLD.plus(THRESHOLD.dividedBy(2)));
    assertThat(seen).singleElement().isInstanceOf(CutOff.class);
    assertThat(((CutOff) seen.get(0)).silence()).isGreaterThanOrEqualTo(THRESHOLD);
    // Still cut off, still trying: reminded once a minute (the threshold, at least a minute).
    vts.advanceTimeBy(Duration.ofMinutes(5));
    assertThat(seen).hasSize(6);
    assertThat(seen.subList(1, 6))
        .allSatisfy(t -> assertThat(t).isInstanceOf(StillCutOff.class))
        .extracting(t -> ((StillCutOff) t).silence())
        .isSorted()
        .allSatisfy(s -> assertThat(s).isGreaterThan(Duration.ofMinutes(1)));

    network.revive(seedAddress);
    vts.advanceTimeBy(Backoff.MAX_DELAY.multipliedBy(2));
    assertThat(seen.get(seen.size() - 1)).isEqualTo(new Reconnected(1));
    int reconnectedAt = seen.size();
    // Reminders end with the reconnection, and nothing more is said while nodes answer.
    vts.advanceTimeBy(Duration.ofMinutes(5));
    assertThat(seen).hasSize(reconnectedAt);
  }

  @Test
  void aThresholdUnderTwoSecondsIsRefused() {
    KadNode client = start(true);
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                new SilenceMonitor(
                    client,
                    List.of(),
                    Duration.ofSeconds(1),
                    vts,
                    SchedulerClock.of(vts),
                    (dropped, why, retrying) -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threshold must be at least PT2S but was PT1S");
  }
}
