package dev.kad.transport.tcp;

/**
 * Text a peer sent (a violation's detail quoting an unknown type name, a {@code Failure}'s message,
 * a store's rejection reason), made fit for the log lines and exception messages it reaches.
 */
final class PeerText {

  private PeerText() {}

  /** How much of a peer's text is kept; a frame's worth of it would flood a log line. */
  static final int MAX_CHARS = 300;

  /**
   * {@code text} fit for one log line: control characters (line breaks and terminal escapes a peer
   * could use to forge log lines of its own) written as Java escapes, and cut after {@value
   * #MAX_CHARS} characters, saying how many more there were.
   */
  static String printable(String text) {
    int end = Math.min(text.length(), MAX_CHARS);
    StringBuilder out = null;
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      boolean control = Character.isISOControl(c) || c == '\u2028' || c == '\u2029';
      if (control && out == null) {
        out = new StringBuilder(end + 16).append(text, 0, i);
      }
      if (out == null) {
        continue;
      }
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (control) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    String shown = out != null ? out.toString() : text.substring(0, end);
    return text.length() > end
        ? shown + "... (" + (text.length() - end) + " more characters)"
        : shown;
  }
}
