package dev.kad.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The first inbound handler of every connection. The dialing side sends its {@link Preface} on
 * activation, the accepting side once it has read the dialer's (its answer to a dial-back depends
 * on it), also when it refuses a kad peer's preface (another format, version or id width, or a TLS
 * ClientHello when this node has TLS off): then it writes its own, ends its output and closes the
 * connection when the dialer does (within the connect timeout), so that the dialer learns why. A
 * dialer that refuses the acceptor's preface fails the connection's requests with the reason
 * ({@link PeerConnection#refusedPeer}), naming the peer's format, version or id width and this
 * node's. Each side expects the peer's preface within the connect timeout, followed by frames of
 * {@code 4-byte big-endian length + body}, and passes each body on as a retained slice. A wrong
 * preface, a length outside {@code [1, maxFrameBytes]} or a connection that ends inside a frame is
 * a {@link Violation}: it is reported once and the connection closed, nothing after it is read; the
 * frames before it are passed on first, even those that came in the same read. Bytes left unread
 * when this side closed the connection are not a truncation.
 */
final class FrameDecoder extends ByteToMessageDecoder {

  private final WireFormat format;
  private final int idBits;
  private final int maxFrameBytes;
  private final TransportMetrics metrics;
  private final PeerConnection peer;
  private final long prefaceTimeoutNanos;
  private boolean prefaceSeen;
  private boolean failed;

  /** Set while a read is decoded and its frames passed on. */
  private boolean reading;

  /**
   * A violation found while {@link #reading}, reported and closed on once the read's frames are
   * passed on; {@code null} when there is none.
   */
  private Violation afterRead;

  private String afterReadDetail;

  /**
   * Set when this accepting side refuses a kad peer's preface: the close answers it with this
   * node's preface first.
   */
  private boolean answerBeforeClose;

  private ScheduledFuture<?> prefaceDeadline;

  FrameDecoder(
      WireFormat format,
      int idBits,
      int maxFrameBytes,
      long prefaceTimeoutNanos,
      TransportMetrics metrics,
      PeerConnection peer) {
    this.format = format;
    this.idBits = idBits;
    this.prefaceTimeoutNanos = prefaceTimeoutNanos;
    this.peer = peer;
    this.maxFrameBytes = maxFrameBytes;
    this.metrics = metrics;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) throws Exception {
    if (!peer.inbound()) {
      PeerConnection.Claim checking = peer.checking();
      byte[] echo = checking == null ? null : checking.echo();
      ctx.writeAndFlush(
          Preface.encode(
              ctx.alloc(),
              format,
              Preface.READS | Preface.widthFlag(idBits) | (echo == null ? 0 : Preface.ECHO),
              peer.nonce(),
              echo));
    }
    // a peer that says nothing must not hold one of the bounded connection slots for long
    prefaceDeadline =
        ctx.executor()
            .schedule(
                () -> {
                  if (answerBeforeClose) {
                    // answered, and the dialer has not closed yet: long enough
                    peer.closeChannel();
                    return;
                  }
                  if (!prefaceSeen && !failed && ctx.channel().isActive() && !handshaking(ctx)) {
                    failed = true;
                    long millis = TcpTransport.ceilMillis(Duration.ofNanos(prefaceTimeoutNanos));
                    int got = actualReadableBytes();
                    String detail =
                        got == 0
                            ? "no preface within "
                                + millis
                                + " ms (connectTimeout): the peer sent nothing (a hung process,"
                                + " or not a kad node)"
                            : "no whole preface within "
                                + millis
                                + " ms (connectTimeout): the peer sent "
                                + got
                                + " of its "
                                + Preface.LENGTH
                                + " bytes and stopped (a hung process?)";
                    metrics.violation(Violation.BAD_PREFACE, ctx.channel().remoteAddress(), detail);
                    peer.violated(Violation.BAD_PREFACE, detail);
                    peer.closeChannel();
                  }
                },
                prefaceTimeoutNanos,
                TimeUnit.NANOSECONDS);
    super.channelActive(ctx);
  }

  /**
   * Decodes a read and passes its frames on, then closes the connection if the read broke the
   * protocol: the frames before the violation, decoded in the same read, are the peer's as much as
   * those of an earlier read, and are handled (a request answered, a response completing its
   * request) before the close fails what is still pending. Closing from {@link #decode} would drop
   * them, since {@link ByteToMessageDecoder} passes a read's frames on only after decoding it. When
   * one of those frames broke the protocol itself (a body that does not decode), the connection is
   * closed for that, and what followed it is not reported: one violation per connection.
   */
  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
    reading = true;
    try {
      super.channelRead(ctx, msg);
    } finally {
      reading = false;
      Violation v = afterRead;
      if (v != null) {
        afterRead = null;
        if (!peer.closedByUs()) {
          close(ctx, v, afterReadDetail);
        }
        afterReadDetail = null;
      }
    }
  }

  /**
   * Whether the connection's TLS handshake is still going on: its own timeout, of the same length
   * and started first, closes it as a TLS failure, which is what it is.
   */
  private static boolean handshaking(ChannelHandlerContext ctx) {
    SslHandler tls = ctx.pipeline().get(SslHandler.class);
    return tls != null && !tls.handshakeFuture().isDone();
  }

  @Override
  protected void handlerRemoved0(ChannelHandlerContext ctx) {
    cancelDeadline();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancelDeadline();
    super.channelInactive(ctx);
  }

  private void cancelDeadline() {
    if (prefaceDeadline != null) {
      prefaceDeadline.cancel(false);
      prefaceDeadline = null;
    }
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (failed) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (!prefaceSeen) {
      if (!Preface.plausiblePrefix(in)) {
        if (Preface.mayStartTlsRecord(in)) {
          return; // one byte of what may be a ClientHello: the next tells
        }
        failPreface(ctx, in, Preface.check(firstBytes(in), format, idBits).orElseThrow());
        return;
      }
      if (in.readableBytes() < Preface.LENGTH) {
        // Another version shows in the first five bytes: a version 1 peer sends only those, then
        // closes on ours, which must not pass for a truncated preface. Another format of this
        // version waits for the flags, which may say something to act on first (TLS_REQUIRED).
        if (in.readableBytes() >= Preface.VERSIONED_BYTES && !Preface.thisVersion(in)) {
          failPreface(ctx, in, Preface.check(firstBytes(in), format, idBits).orElseThrow());
        }
        return;
      }
      byte[] preface = firstBytes(in);
      Optional<Preface.Problem> problem = Preface.check(preface, format, idBits);
      in.skipBytes(Preface.LENGTH);
      if (problem.isPresent()) {
        failPreface(ctx, in, problem.get());
        return;
      }
      prefaceSeen = true;
      cancelDeadline();
      // A whole preface is a message too: the idle timer counts from here, not from the accept.
      IdleClose idle = ctx.pipeline().get(IdleClose.class);
      if (idle != null) {
        idle.resetReadTimeout();
      }
      boolean confirmed = peer.prefaceReceived(Preface.parse(preface));
      if (peer.inbound()) {
        // written before any answer to the frames that follow
        ctx.writeAndFlush(acceptorPreface(ctx, confirmed ? Preface.CONFIRMED : 0));
      }
    }
    while (in.readableBytes() >= WireCodec.LENGTH_BYTES) {
      long length = in.getUnsignedInt(in.readerIndex());
      if (length == 0) {
        fail(ctx, in, Violation.MALFORMED_MESSAGE, Optional.of("empty frame"));
        return;
      }
      if (length > maxFrameBytes) {
        fail(
            ctx,
            in,
            Violation.OVERSIZED_FRAME,
            Optional.of("length prefix " + length + " over maxFrameBytes " + maxFrameBytes));
        return;
      }
      if (in.readableBytes() < WireCodec.LENGTH_BYTES + length) {
        return;
      }
      in.skipBytes(WireCodec.LENGTH_BYTES);
      out.add(in.readRetainedSlice((int) length));
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
      throws Exception {
    if (in.isReadable()) {
      decode(ctx, in, out);
    }
    if (!failed && in.isReadable() && !peer.closedByUs()) {
      String where = prefaceSeen ? "a frame" : "the preface";
      failed = true;
      metrics.violation(
          Violation.TRUNCATED_FRAME,
          ctx.channel().remoteAddress(),
          "connection ended inside " + where + " with " + in.readableBytes() + " bytes unread");
      in.skipBytes(in.readableBytes());
    }
  }

  /** The first bytes of {@code in} padded to a preface's length, for the log line. */
  private static byte[] firstBytes(ByteBuf in) {
    byte[] b = new byte[Preface.LENGTH];
    in.getBytes(in.readerIndex(), b, 0, Math.min(Preface.LENGTH, in.readableBytes()));
    return b;
  }

  /** An accepting side's preface: no nonces; {@code flags} added to what every one says. */
  private ByteBuf acceptorPreface(ChannelHandlerContext ctx, int flags) {
    return Preface.encode(
        ctx.alloc(), format, Preface.READS | Preface.widthFlag(idBits) | flags, null, null);
  }

  /**
   * Refuses the peer's preface. When the peer is a kad node (of another format, version or id
   * width), a dialing side keeps the reason for the connection's requests, and an accepting side
   * answers with its own preface before the close. Anything else (a web server's answer, say) fails
   * the requests as a closed connection, as it always has.
   */
  private void failPreface(ChannelHandlerContext ctx, ByteBuf in, Preface.Problem problem) {
    if (problem.answered()) {
      if (peer.inbound()) {
        answerBeforeClose = true;
      } else {
        peer.refusedPeer(problem.of(ctx.channel().remoteAddress()));
      }
    }
    fail(ctx, in, Violation.BAD_PREFACE, Optional.of(problem.detail()));
  }

  private void fail(
      ChannelHandlerContext ctx, ByteBuf in, Violation violation, Optional<String> detail) {
    failed = true;
    in.skipBytes(in.readableBytes());
    if (reading) {
      afterRead = violation;
      afterReadDetail = detail.orElse("invalid");
    } else {
      close(ctx, violation, detail.orElse("invalid"));
    }
  }

  private void close(ChannelHandlerContext ctx, Violation violation, String detail) {
    metrics.violation(violation, ctx.channel().remoteAddress(), detail);
    peer.violated(violation, detail);
    if (answerBeforeClose) {
      answerAndClose(ctx);
    } else {
      peer.closeChannel();
    }
  }

  /**
   * Writes this node's preface to a refused dialer, then ends the output: the connection closes
   * when the dialer closes it, having read the preface, or at the preface deadline. Closing at once
   * could lose the preface: a socket closed with bytes of the peer unread (the dialer's first
   * request, still arriving) sends a reset, and the peer's system may drop what it has received but
   * not yet handed to the dialer. With TLS, the session's close comes after the preface.
   */
  private void answerAndClose(ChannelHandlerContext ctx) {
    peer.closingByUs();
    ctx.writeAndFlush(acceptorPreface(ctx, 0))
        .addListener(
            f -> {
              if (f.isSuccess()
                  && ctx.channel() instanceof DuplexChannel duplex
                  && ctx.pipeline().get(SslHandler.class) == null) {
                duplex.shutdownOutput();
              } else {
                peer.closeChannel();
              }
            });
  }
}
