package dev.kad.examples.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import picocli.CommandLine;

/** Runs {@code kad} in-process through picocli, with stdout and stderr captured line by line. */
final class Cli {

  /** The slf4j-simple property that {@link Logging} sets for a quiet command. */
  private static final String KAD_LOG_LEVEL = "org.slf4j.simpleLogger.log.dev.kad";

  /** The result of one command: exit code and the lines it printed. */
  record Run(int exitCode, List<String> out, List<String> err) {
    String outText() {
      return String.join("\n", out);
    }

    String errText() {
      return String.join("\n", err);
    }
  }

  final Lines out = new Lines();
  final Lines err = new Lines();

  /** Runs {@code kad args...} on the calling thread. */
  static Run kad(String... args) {
    return new Cli().execute(args);
  }

  /** Runs {@code kad args...} on the calling thread with {@code environment} as its environment. */
  static Run kad(Map<String, String> environment, String... args) {
    Cli cli = new Cli();
    return cli.execute(KadCli.commandLine(environment::get), args);
  }

  /**
   * Runs {@code command} on a daemon thread of its own, added to {@code threads} so that the test
   * can interrupt it (what Ctrl-C is to an in-process command) and wait for it to end.
   */
  static CompletableFuture<Run> inBackground(Supplier<Run> command, List<Thread> threads) {
    CompletableFuture<Run> result = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                result.complete(command.get());
              } catch (Throwable e) {
                result.completeExceptionally(e);
              }
            },
            "kad-cli-test");
    t.setDaemon(true);
    threads.add(t);
    t.start();
    return result;
  }

  /** Runs {@code kad args...} on the calling thread; {@link #out} shows lines as they come. */
  Run execute(String... args) {
    return execute(KadCli.commandLine(), args);
  }

  /** Runs {@code args} on {@code cmd} (a command line of {@link KadCli}) on the calling thread. */
  Run execute(CommandLine cmd, String... args) {
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    // A quiet command lowers kad's log level for the JVM (Logging.quietUnless): put back, or every
    // logger a later test creates in this JVM (the starter's, in a web test) would be at ERROR.
    String level = System.getProperty(KAD_LOG_LEVEL);
    try {
      int code = cmd.execute(args);
      return new Run(code, out.all(), err.all());
    } finally {
      if (level == null) {
        System.clearProperty(KAD_LOG_LEVEL);
      } else {
        System.setProperty(KAD_LOG_LEVEL, level);
      }
    }
  }

  /** A writer that hands out every completed line, so tests wait for output without sleeping. */
  static class Lines extends Writer {
    private final StringBuilder partial = new StringBuilder();
    private final List<String> all = new ArrayList<>();
    private final BlockingQueue<String> fresh = new LinkedBlockingQueue<>();

    @Override
    public synchronized void write(char[] buf, int off, int len) {
      for (int i = off; i < off + len; i++) {
        char c = buf[i];
        if (c == '\n') {
          String line = partial.toString().replace("\r", "");
          partial.setLength(0);
          all.add(line);
          fresh.add(line);
        } else {
          partial.append(c);
        }
      }
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}

    synchronized List<String> all() {
      List<String> copy = new ArrayList<>(all);
      if (partial.length() > 0) {
        copy.add(partial.toString());
      }
      return copy;
    }

    /**
     * Waits for a line containing {@code text}, at most {@code seconds}.
     *
     * @return the line
     * @throws AssertionError naming what was printed when the time passes first
     */
    String await(String text, long seconds) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (true) {
        long left = deadline - System.nanoTime();
        String line = left > 0 ? fresh.poll(left, TimeUnit.NANOSECONDS) : null;
        if (line == null) {
          throw new AssertionError(
              "no line containing '" + text + "' within " + seconds + " s; printed: " + all());
        }
        if (line.contains(text)) {
          return line;
        }
      }
    }
  }
}
