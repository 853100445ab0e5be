package dev.kad.spring;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * What the starter's tests read of the log. The tests log through slf4j-simple, which writes each
 * line to the {@code System.err} of the moment: this one copies it, and still passes it on. (Spring
 * Boot's {@code OutputCaptureExtension} needs JUnit 6; the starter's tests run on JUnit 5.)
 */
final class CapturedLog implements AutoCloseable {

  private final PrintStream original = System.err;
  private final ByteArrayOutputStream copy = new ByteArrayOutputStream();

  private CapturedLog() {
    OutputStream both =
        new OutputStream() {
          @Override
          public void write(int b) {
            original.write(b);
            copy.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            original.write(b, off, len);
            copy.write(b, off, len);
          }

          @Override
          public void flush() {
            original.flush();
          }
        };
    System.setErr(new PrintStream(both, true, StandardCharsets.UTF_8));
  }

  /** Starts copying the log; {@link #close()} stops. */
  static CapturedLog start() {
    return new CapturedLog();
  }

  /** Everything logged since the start. */
  String text() {
    return copy.toString(StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    System.setErr(original);
  }
}
