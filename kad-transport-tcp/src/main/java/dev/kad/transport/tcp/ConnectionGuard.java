package dev.kad.transport.tcp;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;

/**
 * Closes a connection that should not stay open: one accepted over {@code maxInboundConnections}
 * (at activation, before anything is sent), and one whose peer does not read (more than {@code
 * maxPendingWriteBytes} still unwritten once flushed). Idle connections are {@link IdleClose}'s.
 *
 * <p>It sits on the socket's side of the {@code FlushConsolidationHandler}, so that its own flush
 * reaches the socket at once.
 */
final class ConnectionGuard extends ChannelDuplexHandler {

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

  /**
   * Judges the peer by what the socket would not take. Netty counts a write against the buffer (its
   * body, prefix and about 100 bytes of bookkeeping) before anything is flushed, and answers
   * written during a read wait for the read's end: being over the bound at this point says nothing
   * about the peer. So the guard flushes first, and closes the connection only when the socket left
   * data behind and more than {@code maxPendingWriteBytes} is still waiting. Checking on every
   * write keeps the backlog within the bound and one frame, however many answers one read produces.
   */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    super.write(ctx, msg, promise);
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    if (buffer == null || buffer.totalPendingWriteBytes() <= maxPendingWriteBytes) {
      return;
    }
    ctx.flush();
    if (ctx.channel().isActive()
        && !buffer.isEmpty()
        && buffer.totalPendingWriteBytes() > maxPendingWriteBytes) {
      metrics.violation(
          Violation.SLOW_READER,
          ctx.channel().remoteAddress(),
          buffer.totalPendingWriteBytes()
              + " bytes unwritten after a flush, over maxPendingWriteBytes "
              + maxPendingWriteBytes);
      peer.closeChannel();
    }
  }
}
