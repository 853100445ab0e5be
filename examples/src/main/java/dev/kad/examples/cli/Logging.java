package dev.kad.examples.cli;

/**
 * The runnable jar logs with slf4j-simple to stderr ({@code simplelogger.properties}: kad at INFO,
 * Netty and Reactor at WARN). Commands whose stdout is the point ({@code demo}, {@code put}, {@code
 * get}, {@code watch}) lower kad's own loggers to ERROR unless {@code --verbose}, so a user sees
 * the result, and a failure as the one line the command prints, rather than a dozen lifecycle lines
 * per node or a transport's WARN about a peer (a bootstrap address that is a web server, say)
 * before that line.
 */
final class Logging {

  private static final String KAD_LEVEL = "org.slf4j.simpleLogger.log.dev.kad";

  private Logging() {}

  /**
   * Lowers kad's loggers to ERROR unless the user chose a level ({@code -D...log.dev.kad=...}).
   * slf4j-simple reads the level when a logger is created, so this takes effect for the engine and
   * transport loggers created after it: call it before the first node starts.
   */
  static void quietUnless(boolean verbose) {
    if (!verbose && System.getProperty(KAD_LEVEL) == null) {
      System.setProperty(KAD_LEVEL, "error");
    }
  }
}
