package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import reactor.core.publisher.Mono;

/**
 * A transport that remembers why the last request to each address failed, so that {@code kad node
 * --retry-join} can tell a seed that is not up yet from one whose settings do not fit this node's:
 * the engine reports a failed join as one {@code NoSeedAnsweredException} whose message lists each
 * seed's reason, with the first seed's failure alone as its cause. An answer to a request forgets
 * the failure before it.
 */
final class SendFailures implements Transport {

  /**
   * The TLS alerts a peer sends when it refuses this node's certificate: a TLS 1.3 server sends
   * them after the client considers the handshake done, so they arrive as a message without the
   * certificate exception as their cause.
   */
  private static final Pattern CERTIFICATE_ALERT =
      Pattern.compile(
          "\\b(bad_certificate|unsupported_certificate|certificate_revoked|certificate_expired"
              + "|certificate_unknown|unknown_ca|certificate_required)\\b");

  private final Transport delegate;
  private final Map<Address, Throwable> failures = new ConcurrentHashMap<>();

  SendFailures(Transport delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public void checkCompatible(KadConfig config) {
    delegate.checkCompatible(config);
  }

  @Override
  public Mono<Void> start(RequestHandler handler) {
    return delegate.start(handler);
  }

  @Override
  public Address localAddress() {
    return delegate.localAddress();
  }

  @Override
  public Mono<Response> send(Address to, Request request) {
    return delegate
        .send(to, request)
        .doOnEach(
            signal -> {
              if (signal.isOnNext()) {
                failures.remove(to);
              } else if (signal.isOnError()) {
                failures.put(to, signal.getThrowable());
              }
            });
  }

  @Override
  public Mono<Void> close() {
    return delegate.close();
  }

  /**
   * Why the last request to {@code to} failed, when no retry can change it: a setting of this node
   * and of the peer do not fit (TLS on one side only, another wire format, protocol version or id
   * width, a certificate the other side does not trust).
   *
   * @return the transport's words for it, naming the peer, or null when the last request to {@code
   *     to} was answered, failed in a way a retry may mend (refused, timed out, closed), or none
   *     was sent
   */
  String mismatch(Address to) {
    Throwable failure = failures.get(to);
    return failure != null && mismatch(failure) ? failure.getMessage() : null;
  }

  /**
   * Whether {@code failure}, a failed request of the TCP transport, comes from settings that do not
   * fit. The transport reports them all as {@code UnreachableContactException}s, told apart by
   * their words, which name both sides' settings ({@code PlaintextKadPeer}, {@code Preface}), or by
   * a certificate failure among their causes ({@code TlsFailures}). A peer that is not a kad node
   * (its first bytes are neither a preface nor a TLS record) may be another program holding the
   * port for now, a proxy starting before its node: not a mismatch.
   */
  static boolean mismatch(Throwable failure) {
    for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof CertificateException
          || e instanceof CertPathBuilderException
          || e instanceof CertPathValidatorException) {
        return true;
      }
    }
    String message = failure.getMessage();
    if (message == null) {
      return false;
    }
    return message.contains("requires TLS, which this node has off")
        || message.contains("speaks TLS, which this node has off")
        || message.contains("and this node requires TLS")
        || message.contains(" but this node speaks v")
        || message.contains("-bit ids but this node ")
        || message.contains("claims both 160-bit and 256-bit ids")
        || ((message.startsWith("TLS handshake with ") || message.startsWith("TLS with "))
            && (message.contains("PKIX path") || CERTIFICATE_ALERT.matcher(message).find()));
  }
}
