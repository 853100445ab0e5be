package dev.kad.api;

/**
 * Caller- or peer-supplied text made fit for the exception messages and log lines it reaches:
 * control and format characters (line breaks, terminal escapes, bidirectional overrides, line and
 * paragraph separators) are written as Java escapes and the text is cut, so that a huge or hostile
 * input makes neither a huge message nor a log line that lies. Used by this module's validation and
 * by transports for what peers send.
 */
public final class Printable {

  /** The most characters of the input {@link #quoted} shows. */
  public static final int MAX_QUOTED_CHARS = 80;

  private Printable() {}

  /**
   * {@code 'text'}, or {@code 'first 80 characters'... (N chars)} for a longer text, escaped
   * (backslashes too, so that the quote reads back unambiguously).
   *
   * @param text the text, not null
   * @return the quoted form, at most a few hundred characters
   */
  public static String quoted(String text) {
    int end = cutAt(text, MAX_QUOTED_CHARS);
    StringBuilder out = new StringBuilder(end + 24).append('\'');
    appendEscaped(out, text, 0, end, true);
    out.append('\'');
    if (end < text.length()) {
      out.append("... (").append(text.length()).append(" chars)");
    }
    return out.toString();
  }

  /**
   * {@code text} fit for one log line: escaped as the class says, and cut after {@code maxChars}
   * characters, saying how many more there were. Text with nothing to escape and within the bound
   * is returned as it is.
   *
   * @param text the text, not null
   * @param maxChars how many characters of it to keep, positive
   * @return the printable form
   */
  public static String line(String text, int maxChars) {
    if (maxChars < 1) {
      throw new IllegalArgumentException("maxChars must be positive but was " + maxChars);
    }
    int end = cutAt(text, maxChars);
    int first = 0;
    while (first < end && !needsEscape(text.charAt(first))) {
      first++;
    }
    String shown;
    if (first == end) {
      shown = text.substring(0, end);
    } else {
      StringBuilder out = new StringBuilder(end + 16).append(text, 0, first);
      appendEscaped(out, text, first, end, false);
      shown = out.toString();
    }
    return end < text.length()
        ? shown + "... (" + (text.length() - end) + " more characters)"
        : shown;
  }

  /** Where to cut {@code text} to at most {@code max} characters, never inside a surrogate pair. */
  private static int cutAt(String text, int max) {
    int end = Math.min(text.length(), max);
    if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
      end--;
    }
    return end;
  }

  private static void appendEscaped(
      StringBuilder out, String text, int from, int to, boolean escapeBackslash) {
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\\' -> out.append(escapeBackslash ? "\\\\" : "\\");
        default -> {
          if (needsEscape(c)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
  }

  private static boolean needsEscape(char c) {
    if (Character.isISOControl(c)) {
      return true;
    }
    int type = Character.getType(c);
    return type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }
}
