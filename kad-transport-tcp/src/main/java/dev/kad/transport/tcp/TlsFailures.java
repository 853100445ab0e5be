package dev.kad.transport.tcp;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits just after the {@code SslHandler} of a connection with TLS on, and turns a failed handshake,
 * or a TLS alert that ends the connection later (in TLS 1.3 a server refuses a client's certificate
 * after the client considers the handshake done), into one {@link Violation#TLS}: counted, logged
 * once at WARN, the reason kept on the {@link PeerConnection} for the requests it fails, the
 * connection closed. The exceptions the {@code SslHandler} raises for it stop here, so
 * reactor-netty does not log them again as unexpected errors. Only on connections with TLS: the
 * plaintext pipeline has no such handler.
 */
final class TlsFailures extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(TlsFailures.class);

  private final PeerConnection peer;
  private final TransportMetrics metrics;
  private boolean failed;

  TlsFailures(PeerConnection peer, TransportMetrics metrics) {
    this.peer = peer;
    this.metrics = metrics;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
    if (evt instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
      if (done.cause() instanceof ClosedChannelException && peer.inbound()) {
        // A peer that connected and left without a word: a TCP health check or a load balancer's
        // probe, which the plaintext pipeline does not count either (a real TLS peer that gives up
        // sends an alert, a plaintext one its preface). Not a violation, or every probe would be a
        // WARN line and a dropped connection.
        log.debug("{}: closed before a TLS handshake", peer);
        fail(ctx, handshakeFailed(peer, done.cause()), false);
      } else {
        fail(ctx, handshakeFailed(peer, done.cause()), true);
      }
    }
    super.userEventTriggered(ctx, evt);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
    Throwable e =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (e instanceof SSLException || failed) {
      // The handshake's failure, reported by its event, or an alert that ends the session.
      fail(ctx, "TLS with " + HostPort.of(peer.remote()) + " failed: " + reason(e), true);
      log.debug("{}: TLS error", peer, e);
      return;
    }
    super.exceptionCaught(ctx, cause);
  }

  /**
   * Records {@code message} for the connection's requests, counts and logs a violation unless
   * {@code counted} is false or this side closed it, and closes it.
   */
  private void fail(ChannelHandlerContext ctx, String message, boolean counted) {
    if (failed) {
      return;
    }
    failed = true;
    peer.tlsFailed(message);
    if (counted && !peer.closedByUs()) {
      metrics.violation(Violation.TLS, ctx.channel().remoteAddress(), message);
    }
    peer.closeChannel();
  }

  /** What a failed handshake's requests fail with: the peer's address and the TLS layer's words. */
  static String handshakeFailed(PeerConnection peer, Throwable cause) {
    return "TLS handshake with " + HostPort.of(peer.remote()) + " failed: " + reason(cause);
  }

  /** What a user can act on: the TLS layer's own words, not the innermost cause's. */
  static String reason(Throwable e) {
    if (e instanceof SslHandshakeTimeoutException) {
      return "no TLS handshake within connectTimeout (" + e.getMessage() + ")";
    }
    if (e instanceof NotSslRecordException) {
      return "the peer does not speak TLS (its first bytes are no TLS record)";
    }
    if (e instanceof ClosedChannelException) {
      // A kad node without TLS answers in plaintext instead (PlaintextKadPeer names it).
      return "the peer closed the connection during the handshake (it may be shutting down, may"
          + " not accept this node's certificate, or be a kad node of an earlier release without"
          + " TLS)";
    }
    String message = e.getMessage();
    return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
  }
}
