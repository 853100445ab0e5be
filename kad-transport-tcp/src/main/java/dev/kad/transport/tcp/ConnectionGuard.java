package dev.kad.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closes a connection that should not stay open: one accepted over {@code maxInboundConnections} or
 * {@code maxInboundConnectionsPerIp} (at activation, before anything is sent), and one whose peer
 * does not read (more than {@code maxPendingWriteBytes} still unwritten once flushed, or part of
 * its backlog unwritten once flushed while all connections together have more than {@code
 * maxTotalPendingWriteBytes} unwritten). Idle connections are {@link IdleClose}'s.
 *
 * <p>It sits on the socket's side of the {@code FlushConsolidationHandler}, so that its own flush
 * reaches the socket at once, and every write passes it: it adds each write's bytes to the
 * transport's total when the write is queued and takes them off when the write completes (taken by
 * the socket, failed, or dropped with its closed connection).
 */
final class ConnectionGuard extends ChannelDuplexHandler {

  private final PeerConnection peer;
  private final TransportMetrics metrics;
  private final Violation rejected;
  private final String rejectedDetail;
  private final long maxPendingWriteBytes;
  private final long maxTotalPendingWriteBytes;

  /**
   * @param rejected the limit an accepted connection is over, or {@code null} to keep it
   * @param rejectedDetail the log line's detail for {@code rejected}
   */
  ConnectionGuard(
      PeerConnection peer,
      TransportMetrics metrics,
      Violation rejected,
      String rejectedDetail,
      long maxPendingWriteBytes,
      long maxTotalPendingWriteBytes) {
    this.peer = peer;
    this.metrics = metrics;
    this.rejected = rejected;
    this.rejectedDetail = rejectedDetail;
    this.maxPendingWriteBytes = maxPendingWriteBytes;
    this.maxTotalPendingWriteBytes = maxTotalPendingWriteBytes;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (rejected != null) {
      metrics.violation(rejected, ctx.channel().remoteAddress(), rejectedDetail);
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
   *
   * <p>The same holds for the transport's total: a write that takes it over {@code
   * maxTotalPendingWriteBytes} flushes, and if the total is still over and this connection's socket
   * left some of its backlog behind, this connection is the one whose backlog cannot be flushed
   * now, and is closed. Connections of peers that do not read are closed in turn as they write; one
   * whose peer reads has nothing left after a flush and is kept.
   */
  @Override
  public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise)
      throws Exception {
    long bytes = bytes(msg);
    ChannelPromise tracked = promise;
    if (bytes > 0) {
      // A void promise takes no listener; its unvoided copy still reports failures as it did.
      tracked = promise.unvoid();
      metrics.pendingWriteBytes.addAndGet(bytes);
      tracked.addListener(new Written(metrics.pendingWriteBytes, bytes));
    }
    super.write(ctx, msg, tracked);
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    if (buffer == null
        || (buffer.totalPendingWriteBytes() <= maxPendingWriteBytes
            && metrics.pendingWriteBytes.get() <= maxTotalPendingWriteBytes)) {
      return;
    }
    ctx.flush();
    if (!ctx.channel().isActive() || buffer.isEmpty()) {
      return;
    }
    long own = buffer.totalPendingWriteBytes();
    long total = metrics.pendingWriteBytes.get();
    if (own > maxPendingWriteBytes) {
      metrics.violation(
          Violation.SLOW_READER,
          ctx.channel().remoteAddress(),
          own
              + " bytes unwritten after a flush, over maxPendingWriteBytes "
              + maxPendingWriteBytes);
      peer.closeChannel();
    } else if (total > maxTotalPendingWriteBytes) {
      metrics.violation(
          Violation.SLOW_READER,
          ctx.channel().remoteAddress(),
          own
              + " bytes unwritten after a flush while all connections have "
              + total
              + ", over maxTotalPendingWriteBytes "
              + maxTotalPendingWriteBytes);
      peer.closeChannel();
    }
  }

  /** The bytes a write queues, as Netty's default size estimator counts them. */
  private static long bytes(Object msg) {
    if (msg instanceof ByteBuf b) {
      return b.readableBytes();
    }
    if (msg instanceof ByteBufHolder h) {
      return h.content().readableBytes();
    }
    return 0;
  }

  /** Takes a write's bytes off the transport's total once it completes, however it completes. */
  private static final class Written implements ChannelFutureListener {
    private final AtomicLong total;
    private final long bytes;

    Written(AtomicLong total, long bytes) {
      this.total = total;
      this.bytes = bytes;
    }

    @Override
    public void operationComplete(ChannelFuture future) {
      total.addAndGet(-bytes);
    }
  }
}
