package dev.kad.transport.tcp;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.Optional;

/**
 * The five bytes each side sends first on a connection: {@code 'K' 'A' 'D'}, the protocol version
 * and the {@link WireFormat} code. A peer whose preface differs is closed.
 */
final class Preface {

  /** Length of the preface in bytes. */
  static final int LENGTH = 5;

  /** The protocol version this transport speaks. */
  static final int VERSION = 1;

  private static final byte[] MAGIC = {'K', 'A', 'D'};

  private Preface() {}

  static ByteBuf encode(ByteBufAllocator alloc, WireFormat format) {
    return alloc.buffer(LENGTH).writeBytes(MAGIC).writeByte(VERSION).writeByte(format.code());
  }

  /**
   * Whether the first readable bytes can still start a valid preface, so garbage is refused without
   * waiting for five bytes.
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
   * Describes what is wrong with a preface.
   *
   * @param b the first {@link #LENGTH} bytes the peer sent (zero-padded when fewer)
   * @param expected the format this node speaks
   * @return the problem, empty when the preface matches
   */
  static Optional<String> check(byte[] b, WireFormat expected) {
    for (int i = 0; i < MAGIC.length; i++) {
      if (b[i] != MAGIC[i]) {
        return Optional.of(
            String.format(
                "not a kad peer: preface %02x %02x %02x %02x %02x instead of 'KAD' v%d %s",
                b[0], b[1], b[2], b[3], b[4], VERSION, expected));
      }
    }
    int version = b[3] & 0xff;
    int formatCode = b[4] & 0xff;
    Optional<WireFormat> format = WireFormat.ofCode(formatCode);
    if (version != VERSION || format.filter(expected::equals).isEmpty()) {
      return Optional.of(
          "peer speaks kad protocol v"
              + version
              + " with format "
              + format.map(WireFormat::name).orElse("#" + formatCode)
              + " but this node speaks v"
              + VERSION
              + " with "
              + expected);
    }
    return Optional.empty();
  }
}
