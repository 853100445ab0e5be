package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.message.Request;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Idle close on an embedded channel whose clock the test moves: no timing involved. */
class IdleCloseTest {

  private static final long IDLE_NANOS = Duration.ofSeconds(1).toNanos();

  private final WireCodec codec = new WireCodec(WireFormat.JSON, 160, 1024, 64 * 1024);
  private final TransportMetrics metrics = new TransportMetrics("test");
  private EmbeddedChannel channel;

  @AfterEach
  void release() {
    if (channel != null) {
      channel.finishAndReleaseAll();
    }
  }

  private PeerConnection connection(boolean inbound) {
    channel = new EmbeddedChannel();
    channel.freezeTime();
    PeerConnection pc =
        new PeerConnection(
            channel,
            inbound,
            codec,
            metrics,
            new StubOwner(),
            16,
            inbound ? null : new byte[Preface.NONCE_BYTES],
            null);
    channel.closeFuture().addListener(f -> pc.onChannelClosed());
    channel.pipeline().addLast(new IdleClose(pc, metrics, IDLE_NANOS));
    return pc;
  }

  private void idleFor(long nanos) {
    channel.advanceTimeBy(nanos, TimeUnit.NANOSECONDS);
    channel.runScheduledPendingTasks();
  }

  @Test
  void aDialedConnectionIsNotIdleBeforeItsDialHandedItToItsSenders() {
    PeerConnection pc = connection(false);

    idleFor(3 * IDLE_NANOS); // a stalled machine between the connect and the first request

    assertThat(channel.isOpen()).as("open while its dial hands it out").isTrue();
    assertThat(metrics.idleClosed.sum()).isZero();
    assertThat(pc.dialSettled()).as("no sender took it").isTrue();
    idleFor(2 * IDLE_NANOS);
    assertThat(channel.isOpen()).as("idle once no sender took it").isFalse();
    assertThat(metrics.idleClosed.sum()).isEqualTo(1);
  }

  @Test
  void aDialedConnectionWhoseRequestWasCancelledStillClosesWhenIdle() {
    PeerConnection pc = connection(false);
    pc.request(new Request.Ping(Messages.contact(2, new Address("127.0.0.1", 1))))
        .subscribe(r -> {}, e -> {})
        .dispose();
    assertThat(pc.dialSettled()).as("a sender took it").isFalse();

    idleFor(2 * IDLE_NANOS);

    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void anAcceptedConnectionIsIdleFromTheStart() {
    connection(true);

    idleFor(2 * IDLE_NANOS);

    assertThat(channel.isOpen()).isFalse();
  }
}
