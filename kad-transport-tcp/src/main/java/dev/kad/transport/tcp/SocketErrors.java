package dev.kad.transport.tcp;

import java.nio.channels.UnresolvedAddressException;
import java.util.regex.Pattern;

/**
 * Why a socket operation failed, in the words a user knows ({@code Connection refused}, {@code
 * Address already in use}): the innermost cause's message, without what Netty's wrappers and its
 * native transport add. On epoll a refused dial reads {@code finishConnect(..) failed with
 * error(-111): Connection refused}, and the system call and error number say nothing more.
 */
public final class SocketErrors {

  /** What Netty's native transport puts before the system's words: the call and its errno. */
  private static final Pattern NATIVE_PREFIX =
      Pattern.compile("^[A-Za-z_]+\\(\\.\\.\\) failed(?: with error\\(-?\\d+\\))?: ");

  private SocketErrors() {}

  /**
   * The reason {@code error} gives, from its innermost cause.
   *
   * @param error a failed dial, bind or write, with its causes
   * @return the innermost cause's message without a native call's prefix, "the host name cannot be
   *     resolved" for an unresolvable host, or the cause's class's simple name when it has no
   *     message
   */
  public static String reason(Throwable error) {
    Throwable root = error;
    for (int i = 0; i < 16 && root.getCause() != null && root.getCause() != root; i++) {
      root = root.getCause();
    }
    if (root instanceof UnresolvedAddressException) {
      return "the host name cannot be resolved"; // the JDK's has no message
    }
    String message = root.getMessage();
    if (message == null || message.isBlank()) {
      return root.getClass().getSimpleName();
    }
    return NATIVE_PREFIX.matcher(message).replaceFirst("");
  }
}
