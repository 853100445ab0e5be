package dev.kad.transport.tcp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that carried no message either way for {@code idleTimeout} and has no request
 * in flight in either direction. It sits after the {@link FrameDecoder}, so only whole frames count
 * as reads: bytes of a frame that never ends (a peer trickling one byte now and then, slowloris
 * style) do not keep a connection, and one of the bounded inbound slots, open. Writes count when
 * they complete, as before.
 */
final class IdleClose extends IdleStateHandler {

  private static final Logger log = LoggerFactory.getLogger(IdleClose.class);

  private final PeerConnection peer;
  private final TransportMetrics metrics;

  /**
   * @param idleTimeoutNanos in nanoseconds: whole milliseconds would turn a positive timeout under
   *     one into 0, which {@link IdleStateHandler} takes as "never"
   */
  IdleClose(PeerConnection peer, TransportMetrics metrics, long idleTimeoutNanos) {
    super(0, 0, idleTimeoutNanos, TimeUnit.NANOSECONDS);
    this.peer = peer;
    this.metrics = metrics;
  }

  @Override
  protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent evt) {
    if (!peer.busy()) {
      log.debug("closing idle connection {}", peer);
      metrics.idleClosed.increment();
      peer.closeChannel();
    }
  }
}
