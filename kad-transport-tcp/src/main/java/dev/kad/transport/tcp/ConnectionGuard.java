package dev.kad.transport.tcp;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.timeout.IdleStateEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that should not stay open: one accepted over {@code maxInboundConnections}
 * (at activation, before anything is sent), one whose peer does not read (the outbound buffer
 * passed {@code maxPendingWriteBytes}, the channel's high water mark), and one idle for {@code
 * idleTimeout} with no request in flight in either direction.
 */
final class ConnectionGuard extends ChannelDuplexHandler {

  private static final Logger log = LoggerFactory.getLogger(ConnectionGuard.class);

  private final PeerConnection peer;
  private final TransportMetrics metrics;
  private final boolean rejected;
  private final long maxPendingWriteBytes;

  ConnectionGuard(
      PeerConnection peer, TransportMetrics metrics, boolean rejected, long maxPendingWriteBytes) {
    this.peer = peer;
    this.metrics = metrics;
    this.rejected = rejected;
    this.maxPendingWriteBytes = maxPendingWriteBytes;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (rejected) {
      metrics.violation(
          Violation.CONNECTION_LIMIT,
          ctx.channel().remoteAddress(),
          "maxInboundConnections reached");
      peer.closeChannel();
      return;
    }
    super.channelActive(ctx);
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
    if (!ctx.channel().isWritable() && ctx.channel().isActive()) {
      metrics.violation(
          Violation.SLOW_READER,
          ctx.channel().remoteAddress(),
          "more than maxPendingWriteBytes " + maxPendingWriteBytes + " unwritten");
      peer.closeChannel();
      return;
    }
    super.channelWritabilityChanged(ctx);
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof IdleStateEvent) {
      if (!peer.busy()) {
        log.debug("closing idle connection {}", peer);
        metrics.idleClosed.increment();
        peer.closeChannel();
      }
      return;
    }
    super.userEventTriggered(ctx, evt);
  }
}
