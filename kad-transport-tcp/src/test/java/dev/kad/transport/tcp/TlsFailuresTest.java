package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertPathValidatorException.BasicReason;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * Which TLS failures {@link TlsFailures#untrusted} takes for settings no retry mends (a peer's
 * requests then fail with {@code IncompatiblePeerException}) and which may pass. The causes are
 * built as the JDK's TLS layer chains them: {@code SSLHandshakeException} → {@code
 * ValidatorException} (a {@link CertificateException}) → {@link CertPathValidatorException} → the
 * certificate's own exception.
 */
class TlsFailuresTest {

  @Test
  void anExpiredOrNotYetValidCertificateMayBeRenewedSoItIsNotAMisfit() {
    assertThat(
            TlsFailures.untrusted(refused(BasicReason.EXPIRED, new CertificateExpiredException())))
        .isFalse();
    assertThat(
            TlsFailures.untrusted(
                refused(BasicReason.NOT_YET_VALID, new CertificateNotYetValidException())))
        .isFalse();
    // The reason alone, without the certificate's exception as its cause.
    assertThat(TlsFailures.untrusted(refused(BasicReason.EXPIRED, null))).isFalse();
    assertThat(TlsFailures.untrusted(refused(BasicReason.NOT_YET_VALID, null))).isFalse();
    // The certificate's exception alone.
    assertThat(TlsFailures.untrusted(handshake(new CertificateExpiredException("expired"))))
        .isFalse();
    assertThat(TlsFailures.untrusted(handshake(new CertificateNotYetValidException("not yet"))))
        .isFalse();
  }

  @Test
  void aPeerRefusingThisNodesCertificateAsExpiredIsNotAMisfit() {
    assertThat(
            TlsFailures.untrusted(
                new SSLHandshakeException("Received fatal alert: certificate_expired")))
        .isFalse();
    assertThat(
            TlsFailures.untrusted(
                new DecoderException(
                    new SSLHandshakeException("Received fatal alert: certificate_expired"))))
        .isFalse();
  }

  @Test
  void aCertificateThisNodeDoesNotTrustIsAMisfit() {
    CertPathValidatorException unknownCa =
        new CertPathValidatorException(
            "Path does not chain with any of the trust anchors",
            null,
            null,
            -1,
            BasicReason.UNSPECIFIED);
    assertThat(
            TlsFailures.untrusted(
                handshake(new CertificateException("PKIX path validation failed", unknownCa))))
        .isTrue();
    assertThat(
            TlsFailures.untrusted(
                handshake(
                    new CertificateException(
                        "No subject alternative names matching IP address 127.0.0.1 found"))))
        .isTrue();
    assertThat(TlsFailures.untrusted(refused(BasicReason.REVOKED, null))).isTrue();
    assertThat(TlsFailures.untrusted(refused(BasicReason.INVALID_SIGNATURE, null))).isTrue();
  }

  @Test
  void aPeerRefusingThisNodesCertificateOtherwiseIsAMisfit() {
    for (String alert :
        new String[] {
          "bad_certificate", "unknown_ca", "certificate_unknown", "certificate_required"
        }) {
      assertThat(TlsFailures.untrusted(new SSLHandshakeException("Received fatal alert: " + alert)))
          .as(alert)
          .isTrue();
    }
  }

  @Test
  void failuresNotOverACertificateMayPass() {
    assertThat(TlsFailures.untrusted(new SslHandshakeTimeoutException("handshake timed out")))
        .isFalse();
    assertThat(TlsFailures.untrusted(new ClosedChannelException())).isFalse();
    assertThat(
            TlsFailures.untrusted(
                new SSLHandshakeException("Received fatal alert: internal_error")))
        .isFalse();
  }

  /** This side refusing the peer's certificate for {@code reason}, as the JDK chains it. */
  private static SSLHandshakeException refused(BasicReason reason, Throwable certificateCause) {
    CertPathValidatorException path =
        new CertPathValidatorException("validity check failed", certificateCause, null, -1, reason);
    return handshake(new CertificateException("PKIX path validation failed: " + path, path));
  }

  private static SSLHandshakeException handshake(Throwable cause) {
    SSLHandshakeException e = new SSLHandshakeException(cause.getMessage());
    e.initCause(cause);
    return e;
  }
}
