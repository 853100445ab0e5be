package dev.kad.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPromise;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Closes a connection that should not stay open: one accepted over {@code
 * maxInboundConnectionsPerIp}, or over {@code maxInboundConnections} while no accepted connection
 * is quiet enough to make room (at activation, before anything is sent), and one whose peer does
 * not read (more than {@code maxPendingWriteBytes} still unwritten once flushed, or the largest
 * backlog of all connections while they together have more than {@code maxTotalPendingWriteBytes}
 * unwritten after a flush). Idle connections are {@link IdleClose}'s.
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
  private final Iterable<ConnectionGuard> guards;

  /**
   * This connection's share of the transport's total: its writes not yet completed. Read by the
   * guards of other connections, on other event loops, to find the largest backlog.
   */
  private final AtomicLong backlog = new AtomicLong();

  /** Set by whoever closes this connection as a slow reader, so it is closed and counted once. */
  private final AtomicBoolean closing = new AtomicBoolean();

  /**
   * @param rejected the limit an accepted connection is over, or {@code null} to keep it
   * @param rejectedDetail the log line's detail for {@code rejected}
   * @param guards the guards of the transport's open connections, this one's included: where the
   *     largest backlog is looked for when the total is over {@code maxTotalPendingWriteBytes}
   */
  ConnectionGuard(
      PeerConnection peer,
      TransportMetrics metrics,
      Violation rejected,
      String rejectedDetail,
      long maxPendingWriteBytes,
      long maxTotalPendingWriteBytes,
      Iterable<ConnectionGuard> guards) {
    this.peer = peer;
    this.metrics = metrics;
    this.rejected = rejected;
    this.rejectedDetail = rejectedDetail;
    this.maxPendingWriteBytes = maxPendingWriteBytes;
    this.maxTotalPendingWriteBytes = maxTotalPendingWriteBytes;
    this.guards = guards;
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
   * maxTotalPendingWriteBytes} flushes, and if the total is still over, the connections with the
   * largest backlogs are closed, this one included, until what is left is within the bound ({@link
   * #closeLargestBacklogs}). Peers that never read hold the largest backlogs, so they are closed,
   * not the writer whose small backlog merely took the total over.
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
      backlog.addAndGet(bytes);
      tracked.addListener(new Written(metrics.pendingWriteBytes, backlog, bytes));
    }
    super.write(ctx, msg, tracked);
    ChannelOutboundBuffer buffer = ctx.channel().unsafe().outboundBuffer();
    if (buffer == null
        || (buffer.totalPendingWriteBytes() <= maxPendingWriteBytes
            && metrics.pendingWriteBytes.get() <= maxTotalPendingWriteBytes)) {
      return;
    }
    ctx.flush();
    if (!ctx.channel().isActive()) {
      return;
    }
    long own = buffer.totalPendingWriteBytes();
    if (own > maxPendingWriteBytes) {
      if (claimClose()) {
        metrics.violation(
            Violation.SLOW_READER,
            ctx.channel().remoteAddress(),
            own
                + " bytes unwritten after a flush, over maxPendingWriteBytes "
                + maxPendingWriteBytes);
        peer.closeChannel();
      }
    } else if (metrics.pendingWriteBytes.get() > maxTotalPendingWriteBytes) {
      closeLargestBacklogs();
    }
  }

  /**
   * Brings the transport's unwritten bytes back within {@code maxTotalPendingWriteBytes} by closing
   * the connections with the largest backlogs, largest first, each counted as a slow reader. Bytes
   * of connections already being closed are about to be released (their writes fail on their own
   * event loops), so they count as gone: without that, writers on other loops would close more
   * connections while one close is still on its way. Stops when the rest is within the bound or no
   * open connection has anything unwritten; backlogs are read from each guard's counter, so this
   * needs no other loop's thread, and closing another connection only schedules its close on its
   * loop.
   */
  private void closeLargestBacklogs() {
    for (int round = 0; round < 64; round++) {
      long releasing = 0;
      ConnectionGuard largest = null;
      long largestBacklog = 0;
      for (ConnectionGuard g : guards) {
        long b = g.backlog.get();
        if (g.closing.get() || g.peer.closedByUs() || !g.peer.channel().isActive()) {
          releasing += b;
        } else if (b > largestBacklog) {
          largest = g;
          largestBacklog = b;
        }
      }
      long total = metrics.pendingWriteBytes.get();
      if (total - releasing <= maxTotalPendingWriteBytes || largest == null) {
        return;
      }
      if (largest.claimClose()) {
        metrics.violation(
            Violation.SLOW_READER,
            largest.peer.channel().remoteAddress(),
            largestBacklog
                + " bytes unwritten, the largest backlog while all connections have "
                + total
                + ", over maxTotalPendingWriteBytes "
                + maxTotalPendingWriteBytes);
        largest.peer.closeChannel();
      }
    }
  }

  /** Whether this call is the one that closes the connection as a slow reader (once only). */
  private boolean claimClose() {
    return closing.compareAndSet(false, true);
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
    private final AtomicLong backlog;
    private final long bytes;

    Written(AtomicLong total, AtomicLong backlog, long bytes) {
      this.total = total;
      this.backlog = backlog;
      this.bytes = bytes;
    }

    @Override
    public void operationComplete(ChannelFuture future) {
      backlog.addAndGet(-bytes);
      total.addAndGet(-bytes);
    }
  }
}
