package dev.kad.transport.tcp;

import dev.kad.api.Printable;

/**
 * Text a peer sent (a violation's detail quoting an unknown type name, a {@code Failure}'s message,
 * a store's rejection reason), made fit for the log lines and exception messages it reaches.
 */
final class PeerText {

  private PeerText() {}

  /** How much of a peer's text is kept; a frame's worth of it would flood a log line. */
  static final int MAX_CHARS = 300;

  /**
   * {@code text} fit for one log line ({@link Printable#line}): control and format characters (line
   * breaks, terminal escapes and bidirectional overrides a peer could use to forge log lines of its
   * own) written as Java escapes, and cut after {@value #MAX_CHARS} characters, saying how many
   * more there were.
   */
  static String printable(String text) {
    return Printable.line(text, MAX_CHARS);
  }
}
