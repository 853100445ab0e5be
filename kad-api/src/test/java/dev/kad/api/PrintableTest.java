package dev.kad.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PrintableTest {

  @Test
  void aLineKeepsPlainTextAsItIsAndEscapesWhatCouldForgeOrHideALogLine() {
    String plain = "refused: limit reached (ключ 7)";
    assertThat(Printable.line(plain, 300)).isSameAs(plain);
    assertThat(Printable.line("ok\n2026-11-26 ERROR forged", 300))
        .isEqualTo("ok\\n2026-11-26 ERROR forged");
    // A right-to-left override would show the rest of the line reversed.
    assertThat(Printable.line("file\u202Etxt.exe", 300)).isEqualTo("file\\u202etxt.exe");
    assertThat(Printable.line("a\\b", 300)).isEqualTo("a\\b");
  }

  @Test
  void aLineIsCutSayingHowMuchMoreThereWasAndNeverInsideACharacter() {
    assertThat(Printable.line("x".repeat(10), 4)).isEqualTo("xxxx... (6 more characters)");
    String emoji = "ab\uD83D\uDE00cd";
    assertThat(Printable.line(emoji, 3)).isEqualTo("ab... (4 more characters)");
    assertThatThrownBy(() -> Printable.line("x", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxChars must be positive but was 0");
  }

  @Test
  void aQuoteShowsAtMostItsBoundWithTheWholeLength() {
    assertThat(Printable.quoted("a\tb\\")).isEqualTo("'a\\tb\\\\'");
    String long100 = "y".repeat(100);
    assertThat(Printable.quoted(long100))
        .isEqualTo("'" + "y".repeat(Printable.MAX_QUOTED_CHARS) + "'... (100 chars)");
  }
}
