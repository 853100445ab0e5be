package dev.kad.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Sits nearest the socket on a connection with TLS on, before the {@code SslHandler}, and tells a
 * kad node without TLS from a TLS peer by the peer's first bytes: a preface's {@code 'K' 'A' 'D'}
 * where a TLS record should be. Without it both sides of such a connection saw only a close (the
 * node with TLS logged that the peer "does not speak TLS"), and the operator of a node that was not
 * given TLS had nothing to go on.
 *
 * <ul>
 *   <li>Accepting: the dialer is a kad node without TLS. This side writes its own preface in
 *       plaintext with {@link Preface#TLS_REQUIRED}, so that the dialer fails its requests with
 *       "requires TLS" ({@link dev.kad.api.IncompatiblePeerException}), then ends its output; the
 *       connection closes when the dialer closes it, or at the TLS handshake's timeout.
 *   <li>Dialing: the acceptor is a kad node without TLS, which answered the ClientHello with its
 *       preface ({@link Preface#check} names TLS for it). The requests fail with "has TLS off", an
 *       {@link dev.kad.api.IncompatiblePeerException}.
 * </ul>
 *
 * <p>Either way it is one {@link Violation#TLS}, counted and logged once, and the bytes are not
 * passed on. Anything else (a TLS record, or garbage for the {@code SslHandler} to refuse) passes
 * on untouched: this handler leaves the pipeline at the first byte that cannot start a preface.
 */
final class PlaintextKadPeer extends ByteToMessageDecoder {

  private final PeerConnection peer;
  private final TransportMetrics metrics;
  private final WireFormat format;
  private final int idBits;
  private boolean refused;

  PlaintextKadPeer(PeerConnection peer, TransportMetrics metrics, WireFormat format, int idBits) {
    this.peer = peer;
    this.metrics = metrics;
    this.format = format;
    this.idBits = idBits;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (refused) {
      in.skipBytes(in.readableBytes());
      return;
    }
    if (!Preface.plausiblePrefix(in)) {
      ctx.pipeline().remove(this); // the bytes read so far go on to the SslHandler
      return;
    }
    if (in.readableBytes() < Preface.MAGIC_BYTES) {
      return;
    }
    refused = true;
    in.skipBytes(in.readableBytes());
    String said =
        peer.inbound()
            ? "is a kad node without TLS, and this node requires TLS"
            : "has TLS off (it answered in plaintext), and this node requires TLS";
    peer.tlsFailed("peer at " + HostPort.of(ctx.channel().remoteAddress()) + " " + said, true);
    metrics.violation(Violation.TLS, ctx.channel().remoteAddress(), "peer " + said);
    if (!peer.inbound()) {
      peer.closeChannel();
      return;
    }
    // Like the answer to a refused preface (FrameDecoder): closing at once could lose it.
    peer.closingByUs();
    ctx.writeAndFlush(
            Preface.encode(
                ctx.alloc(),
                format,
                Preface.READS | Preface.widthFlag(idBits) | Preface.TLS_REQUIRED,
                null,
                null))
        .addListener(
            f -> {
              if (f.isSuccess() && ctx.channel() instanceof DuplexChannel duplex) {
                duplex.shutdownOutput();
              } else {
                peer.closeChannel();
              }
            });
  }
}
