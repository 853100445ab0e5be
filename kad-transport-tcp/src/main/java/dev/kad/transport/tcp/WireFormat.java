package dev.kad.transport.tcp;

import java.util.Optional;

/**
 * The encoding of frame bodies. Both ends of a connection must use the same format: the connection
 * preface names it, and a mismatch closes the connection.
 */
public enum WireFormat {
  /** JSON text, the default: readable in a packet capture. */
  JSON(0),
  /** CBOR (RFC 8949), binary and compact. */
  CBOR(1),
  /** Jackson's Smile, binary JSON. */
  SMILE(2);

  private final int code;

  WireFormat(int code) {
    this.code = code;
  }

  /**
   * The byte that names this format in the connection preface.
   *
   * @return the format's code
   */
  public int code() {
    return code;
  }

  /**
   * The format a preface byte names.
   *
   * @param code the preface byte
   * @return the format, empty for an unknown code
   */
  static Optional<WireFormat> ofCode(int code) {
    for (WireFormat f : values()) {
      if (f.code == code) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }
}
