package dev.kad.api;

/**
 * Caller- or peer-supplied text as an exception message quotes it: between single quotes, at most
 * its first {@value #MAX_QUOTED_CHARS} characters followed by its length, control and format
 * characters (line breaks, terminal escapes, bidirectional overrides) and backslashes escaped. A
 * huge or hostile input then makes neither a huge message nor a log line that lies.
 */
final class QuotedText {

  /** The most characters of the input a message shows. */
  static final int MAX_QUOTED_CHARS = 80;

  private QuotedText() {}

  /**
   * {@code 'text'}, or {@code 'first 80 characters'... (N chars)} for a longer text, escaped.
   *
   * @param text the text, not null
   * @return the quoted form, at most a few hundred characters
   */
  static String of(String text) {
    int end = Math.min(text.length(), MAX_QUOTED_CHARS);
    if (end < text.length() && Character.isHighSurrogate(text.charAt(end - 1))) {
      end--; // not half a character
    }
    StringBuilder out = new StringBuilder(end + 24).append('\'');
    for (int i = 0; i < end; i++) {
      char c = text.charAt(i);
      switch (c) {
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\\' -> out.append("\\\\");
        default -> {
          if (needsEscape(c)) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('\'');
    if (end < text.length()) {
      out.append("... (").append(text.length()).append(" chars)");
    }
    return out.toString();
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
