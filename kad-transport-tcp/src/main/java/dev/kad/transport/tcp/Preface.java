package dev.kad.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Optional;

/**
 * The {@value #LENGTH} bytes each side sends first on a connection: {@code 'K' 'A' 'D'}, the
 * protocol version, the {@link WireFormat} code, a flags byte, this connection's nonce and an
 * echoed nonce (16 bytes each). A peer whose magic, version or format differs is closed, and so is
 * one whose flags name another id width ({@link #IDS_160}, {@link #IDS_256}). A node that refuses
 * the preface of a kad peer that dialed it still answers with its own before it closes the
 * connection, so that the dialer learns why (the acceptor's format, version and id width) instead
 * of seeing a bare close. It answers a TLS ClientHello the same way, when it has TLS off, and a
 * node with TLS on answers a kad preface in plaintext with {@link #TLS_REQUIRED} ({@link
 * PlaintextKadPeer}): a node that was given TLS and one that was not learn which is which.
 *
 * <p>The dialing side speaks first, with a fresh random nonce for the connection. When it dials to
 * check a connection that a peer opened to it claiming this address (a dial-back), it also sets
 * {@link #ECHO} and sends, in the echo field, the {@linkplain #binding binding} of the nonce that
 * peer sent to the socket address that peer's connection reached. The accepting side answers with
 * its preface once it has read the dialer's, setting {@link #CONFIRMED} when the echo is the
 * binding of a connection it dialed itself, to that socket, and still has open. The nonce alone
 * would not do: a node sends it to whoever it dials, so an impostor it dialed could present it as
 * its own; the binding holds only for the nonce sent to the node that asks.
 */
final class Preface {

  /** Length of the preface in bytes. */
  static final int LENGTH = 38;

  /** Length of a nonce in bytes. */
  static final int NONCE_BYTES = 16;

  /** The protocol version this transport speaks. */
  static final int VERSION = 2;

  /** Flag of a dialer's preface: the echo field carries a binding to check. */
  static final int ECHO = 1;

  /**
   * Flag of an acceptor's preface: the echo is the binding of a connection this side dialed to the
   * asking node's address and still has open.
   */
  static final int CONFIRMED = 2;

  /**
   * Flag of either side's preface: it reads a {@code subscribed} answer's {@code renewed} field.
   * Earlier versions ignore the flag and refuse the field (an unknown field closes the connection),
   * so a node writes the field only to a peer that set it.
   */
  static final int READS_RENEWED = 4;

  /**
   * Flag of either side's preface: it reads the {@code token} field of a {@code subscribe}, {@code
   * unsubscribe}, {@code notify} and {@code subscribed}, a live-stream subscription's secret.
   * Earlier versions ignore the flag and refuse the field, so a node writes it only to a peer that
   * set the flag, and on a connection it dialed, waits for the peer's preface before it writes a
   * request that carries one.
   */
  static final int READS_TOKEN = 64;

  /** The flags of what this version reads, which every preface it writes sets. */
  static final int READS = READS_RENEWED | READS_TOKEN;

  /**
   * Flag of either side's preface: this node's ids are 160 bits wide ({@code idBits}). Set, like
   * {@link #IDS_256}, by every node since the flags were added; a preface with neither comes from
   * an earlier release, whose width is not known, and is taken as fitting (as every preface was): a
   * peer of another width then closes the connection at its first message, as before.
   */
  static final int IDS_160 = 8;

  /** Flag of either side's preface: this node's ids are 256 bits wide ({@link #IDS_160}). */
  static final int IDS_256 = 16;

  /**
   * Flag of an acceptor's preface, written in plaintext before it closes a connection: this node
   * has TLS on and the dialer, a kad node, does not. Earlier versions ignore the flag and see the
   * close.
   */
  static final int TLS_REQUIRED = 32;

  /** Length of the magic that starts every preface, {@code 'K' 'A' 'D'}. */
  static final int MAGIC_BYTES = 3;

  /**
   * Bytes that name the version and format: magic, version and format code, the same in every
   * version, and all a version 1 peer ever sends as its preface.
   */
  static final int VERSIONED_BYTES = 5;

  private static final int HEADER = 6;
  private static final byte[] MAGIC = {'K', 'A', 'D'};

  /** The first bytes of every TLS handshake record (SSL 3.0 to TLS 1.3): a ClientHello's. */
  private static final byte TLS_HANDSHAKE_RECORD = 0x16;

  private static final byte TLS_MAJOR_VERSION = 0x03;
  private static final byte[] NO_NONCE = new byte[NONCE_BYTES];

  /**
   * Why a peer's preface is refused, said of the peer ({@code "speaks kad protocol v2 with format
   * CBOR but ..."}), built from the fields this node parsed, never from the peer's bytes as text.
   *
   * @param answered whether the peer is a kad node that learns why from this node's preface, which
   *     an accepting side writes before the close: one of another format, version or id width, or
   *     one with TLS on (its first bytes are a TLS record)
   * @param said what is wrong, after the subject
   */
  record Problem(boolean answered, String said) {

    /** For the log line, which names the peer's address itself. */
    String detail() {
      return answered ? "peer " + said : said;
    }

    /** For the requests that fail on the connection: names the peer's address. */
    String of(SocketAddress remote) {
      return "peer at " + HostPort.of(remote) + (answered ? " " : " is ") + said;
    }
  }

  /** A peer's preface, once checked. */
  record Received(int flags, byte[] nonce, byte[] echo) {
    boolean has(int flag) {
      return (flags & flag) != 0;
    }
  }

  private Preface() {}

  /** The flag that names ids of {@code idBits}. */
  static int widthFlag(int idBits) {
    return idBits == 256 ? IDS_256 : IDS_160;
  }

  static ByteBuf encode(
      ByteBufAllocator alloc, WireFormat format, int flags, byte[] nonce, byte[] echo) {
    return alloc
        .buffer(LENGTH)
        .writeBytes(MAGIC)
        .writeByte(VERSION)
        .writeByte(format.code())
        .writeByte(flags)
        .writeBytes(nonce == null ? NO_NONCE : nonce)
        .writeBytes(echo == null ? NO_NONCE : echo);
  }

  /**
   * What identifies a dialed connection to the node it was dialed to: the first {@value
   * #NONCE_BYTES} bytes of SHA-256 over the connection's nonce and the socket address it reached
   * there (IP and port). The dialer computes it from the connection's remote address, the node
   * asking from the local address of the connection it checks: the same socket, whatever name
   * either used for the other.
   *
   * @param nonce the nonce the dialer sent in its preface
   * @param reached the IP and port the connection reached at the node it was dialed to
   * @return the binding, {@value #NONCE_BYTES} bytes, or null when the address is not resolved
   */
  static byte[] binding(byte[] nonce, SocketAddress reached) {
    if (nonce == null
        || !(reached instanceof InetSocketAddress socket)
        || socket.getAddress() == null) {
      return null;
    }
    MessageDigest sha;
    try {
      sha = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
    sha.update(nonce);
    sha.update(socket.getAddress().getAddress());
    sha.update(new byte[] {(byte) (socket.getPort() >>> 8), (byte) socket.getPort()});
    return Arrays.copyOf(sha.digest(), NONCE_BYTES);
  }

  /**
   * Reads a checked preface's flags and nonces.
   *
   * @param b the {@link #LENGTH} bytes the peer sent, for which {@link #check} found no problem
   */
  static Received parse(byte[] b) {
    byte[] nonce = new byte[NONCE_BYTES];
    byte[] echo = new byte[NONCE_BYTES];
    System.arraycopy(b, HEADER, nonce, 0, NONCE_BYTES);
    System.arraycopy(b, HEADER + NONCE_BYTES, echo, 0, NONCE_BYTES);
    return new Received(b[HEADER - 1] & 0xff, nonce, echo);
  }

  /**
   * Whether the first readable bytes can still start a valid preface, so garbage is refused without
   * waiting for the whole preface.
   */
  static boolean plausiblePrefix(ByteBuf in) {
    int n = Math.min(in.readableBytes(), MAGIC.length);
    for (int i = 0; i < n; i++) {
      if (in.getByte(in.readerIndex() + i) != MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Whether the only readable byte is the first of a TLS handshake record: the peer may be a kad
   * node with TLS on, told so once its second byte arrives.
   */
  static boolean mayStartTlsRecord(ByteBuf in) {
    return in.readableBytes() == 1 && in.getByte(in.readerIndex()) == TLS_HANDSHAKE_RECORD;
  }

  /** Whether the version byte of a preface with kad's magic is {@link #VERSION}. */
  static boolean thisVersion(ByteBuf in) {
    return (in.getByte(in.readerIndex() + MAGIC_BYTES) & 0xff) == VERSION;
  }

  /**
   * Describes what is wrong with a preface.
   *
   * @param b the first {@link #LENGTH} bytes the peer sent (zero-padded when fewer)
   * @param expected the format this node speaks
   * @param idBits the width of this node's ids; a preface without a width flag passes
   * @return the problem, empty when the preface matches
   */
  static Optional<Problem> check(byte[] b, WireFormat expected, int idBits) {
    if (b.length > 1 && b[0] == TLS_HANDSHAKE_RECORD && b[1] == TLS_MAJOR_VERSION) {
      return Optional.of(new Problem(true, "speaks TLS, which this node has off"));
    }
    for (int i = 0; i < MAGIC.length; i++) {
      if (b[i] != MAGIC[i]) {
        return Optional.of(
            new Problem(
                false,
                String.format(
                    "not a kad peer: preface %02x %02x %02x %02x %02x instead of 'KAD' v%d %s",
                    b[0], b[1], b[2], b[3], b[4], VERSION, expected)));
      }
    }
    int version = b[3] & 0xff;
    int flags = b.length > HEADER - 1 ? b[HEADER - 1] & 0xff : 0;
    if (version == VERSION && (flags & TLS_REQUIRED) != 0) {
      // before the format: a dialer that turns TLS on learns the rest then
      return Optional.of(new Problem(true, "requires TLS, which this node has off"));
    }
    int formatCode = b[4] & 0xff;
    Optional<WireFormat> format = WireFormat.ofCode(formatCode);
    if (version != VERSION || format.filter(expected::equals).isEmpty()) {
      return Optional.of(
          new Problem(
              true,
              "speaks kad protocol v"
                  + version
                  + " with format "
                  + format.map(WireFormat::name).orElse("#" + formatCode)
                  + " but this node speaks v"
                  + VERSION
                  + " with "
                  + expected));
    }
    boolean narrow = (flags & IDS_160) != 0;
    boolean wide = (flags & IDS_256) != 0;
    if (narrow && wide) {
      return Optional.of(new Problem(true, "claims both 160-bit and 256-bit ids"));
    }
    int peerBits = narrow ? 160 : wide ? 256 : idBits;
    if (peerBits != idBits) {
      return Optional.of(
          new Problem(true, "uses " + peerBits + "-bit ids but this node " + idBits + "-bit"));
    }
    return Optional.empty();
  }
}
