package dev.kad.api;

/**
 * The peer and this node cannot talk because their settings do not fit: TLS on one side only,
 * another wire format, protocol version or id width, a certificate one side does not trust. No
 * retry helps until one of them is reconfigured, so {@link #isTransient()} is false, unlike other
 * {@link UnreachableContactException}s. The message names the peer and both sides' settings, e.g.
 * {@code peer at 192.0.2.7:7000 speaks kad protocol v2 with format CBOR but this node speaks v2
 * with JSON}.
 *
 * <p>Whether a transport can tell it from an unreachable peer is up to the transport: the TCP
 * transport raises it when the peer answered as a kad node of other settings or refused, or was
 * refused, in the TLS handshake for its certificate. A peer that is not a kad node at all (another
 * program on the port, a proxy starting before its node) is only unreachable.
 */
public class IncompatiblePeerException extends UnreachableContactException {

  private static final long serialVersionUID = 1L;

  /**
   * An exception with a message naming the peer and the settings that do not fit.
   *
   * @param message what does not fit, naming the peer
   */
  public IncompatiblePeerException(String message) {
    super(message);
  }

  /**
   * An exception with a message and its cause.
   *
   * @param message what does not fit, naming the peer
   * @param cause the underlying failure, e.g. the TLS layer's certificate exception
   */
  public IncompatiblePeerException(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * Never: the settings of the peer or of this node must change first.
   *
   * @return false
   */
  @Override
  public boolean isTransient() {
    return false;
  }
}
