package dev.kad.transport.tcp;

import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.UnreachableContactException;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.util.regex.Pattern;
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
 *
 * <p>A failure over a certificate (one side does not trust the other's, or its name does not fit)
 * is a setting of one of the nodes, which no retry mends: the requests fail with {@link
 * IncompatiblePeerException}. Any other (a timeout, a close during the handshake, a peer that does
 * not speak TLS, a certificate that is expired or not yet valid, which a renewal or the clock
 * mends) may pass: they fail with a transient {@link UnreachableContactException}.
 */
final class TlsFailures extends ChannelInboundHandlerAdapter {

  private static final Logger log = LoggerFactory.getLogger(TlsFailures.class);

  /**
   * The TLS alerts a peer sends when it refuses this node's certificate, by the names the JDK's TLS
   * layer gives them in its message ({@code Received fatal alert: bad_certificate}): a TLS 1.3
   * server sends them after the client considers the handshake done, so on the client they arrive
   * without a certificate exception as their cause.
   */
  private static final Pattern CERTIFICATE_ALERT =
      Pattern.compile(
          "\\b(bad_certificate|unsupported_certificate|certificate_revoked"
              + "|certificate_unknown|unknown_ca|certificate_required)\\b");

  /**
   * The TLS alert a peer sends when it refuses this node's certificate as expired: renewing the
   * certificate mends it, so it is transient, unlike {@link #CERTIFICATE_ALERT}.
   */
  private static final Pattern EXPIRED_ALERT = Pattern.compile("\\bcertificate_expired\\b");

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
        fail(ctx, handshakeFailed(peer, done.cause()), false, false);
      } else {
        fail(ctx, handshakeFailed(peer, done.cause()), untrusted(done.cause()), true);
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
      fail(
          ctx,
          "TLS with " + HostPort.of(peer.remote()) + " failed: " + reason(e),
          untrusted(e),
          true);
      log.debug("{}: TLS error", peer, e);
      return;
    }
    super.exceptionCaught(ctx, cause);
  }

  /**
   * Records {@code message} for the connection's requests, {@code incompatible} when over a
   * certificate, counts and logs a violation unless {@code counted} is false or this side closed
   * it, and closes it.
   */
  private void fail(
      ChannelHandlerContext ctx, String message, boolean incompatible, boolean counted) {
    if (failed) {
      return;
    }
    failed = true;
    peer.tlsFailed(message, incompatible);
    if (counted && !peer.closedByUs()) {
      metrics.violation(Violation.TLS, ctx.channel().remoteAddress(), message);
    }
    peer.closeChannel();
  }

  /** What a failed handshake's requests fail with: the peer's address and the TLS layer's words. */
  static String handshakeFailed(PeerConnection peer, Throwable cause) {
    return "TLS handshake with " + HostPort.of(peer.remote()) + " failed: " + reason(cause);
  }

  /**
   * What the requests of a dial whose handshake failed with {@code cause} fail with, when this
   * handler has not recorded why: {@link IncompatiblePeerException} over a certificate, else a
   * transient {@link UnreachableContactException}.
   */
  static UnreachableContactException handshakeFailure(PeerConnection peer, Throwable cause) {
    String message = handshakeFailed(peer, cause);
    return untrusted(cause)
        ? new IncompatiblePeerException(message, cause)
        : new UnreachableContactException(message, cause);
  }

  /**
   * Whether a TLS failure is over a certificate, which no retry mends until a node is given other
   * key or trust material: a certificate exception among its causes (this side refused the peer's
   * certificate: not signed by a trusted CA, not naming the dialed host), or a certificate alert
   * from the peer (the peer refused this side's). Not when a certificate is only outside its
   * validity period (see {@link #outsideValidity}): that passes without reconfiguring either node.
   */
  static boolean untrusted(Throwable failure) {
    boolean certificate = false;
    int depth = 0;
    for (Throwable e = failure; e != null && depth < 32; e = e.getCause(), depth++) {
      if (outsideValidity(e)) {
        return false;
      }
      if (e instanceof CertificateException
          || e instanceof CertPathBuilderException
          || e instanceof CertPathValidatorException) {
        certificate = true;
      }
      if (e instanceof SSLException
          && e.getMessage() != null
          && CERTIFICATE_ALERT.matcher(e.getMessage()).find()) {
        certificate = true;
      }
      if (e.getCause() == e) {
        break;
      }
    }
    return certificate;
  }

  /**
   * Whether {@code e} says a certificate is expired or not yet valid: mended by renewing it (a node
   * reloads its TLS material at run time, {@link TcpTransport#updateTls}) or by a clock skew
   * passing, so a retry may succeed. The JDK wraps this side's refusal as {@code
   * SSLHandshakeException} → {@code ValidatorException} → {@link CertPathValidatorException} of
   * reason {@code EXPIRED} or {@code NOT_YET_VALID} → {@link CertificateExpiredException}; a peer
   * that refuses this side's certificate as expired may send {@code certificate_expired}. A JDK 17
   * peer does not: it refuses an expired or not-yet-valid client certificate with {@code
   * certificate_unknown} (or {@code bad_certificate}), which cannot be told from distrust and stays
   * a misfit; only that peer's log says why ("validity check failed").
   */
  private static boolean outsideValidity(Throwable e) {
    if (e instanceof CertificateExpiredException || e instanceof CertificateNotYetValidException) {
      return true;
    }
    if (e instanceof CertPathValidatorException v
        && (v.getReason() == CertPathValidatorException.BasicReason.EXPIRED
            || v.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID)) {
      return true;
    }
    return e instanceof SSLException
        && e.getMessage() != null
        && EXPIRED_ALERT.matcher(e.getMessage()).find();
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
