package dev.kad.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/** Runs kad-bench in-process and reads its JSON line. */
final class Cli {

  private static final Pattern FIELD =
      Pattern.compile("\"([a-z0-9_]+)\":(\"[^\"]*\"|[-0-9.eE]+|null)");

  record Run(int exitCode, String out, String err) {

    /** The one JSON line of a successful run, as field name to raw value. */
    Map<String, String> json() {
      assertThat(exitCode).as("stderr: %s", err).isZero();
      List<String> lines = out.lines().toList();
      assertThat(lines).as("stdout has one line").hasSize(1);
      return parse(lines.get(0));
    }

    /**
     * Asserts a failure while running: code 1, nothing on stdout, no stack trace, and a last line
     * on stderr (after the progress lines) that names the failure.
     */
    String failed() {
      assertThat(exitCode).as("stderr: %s", err).isEqualTo(1);
      assertThat(out).isEmpty();
      List<String> lines = err.lines().toList();
      assertThat(lines).as("no stack trace").noneMatch(l -> l.startsWith("\tat "));
      assertThat(lines).isNotEmpty();
      return lines.get(lines.size() - 1);
    }

    /** Asserts a bad-option exit: code 2, nothing on stdout, one line on stderr. */
    String rejected() {
      assertThat(exitCode).as("stderr: %s", err).isEqualTo(2);
      assertThat(out).isEmpty();
      List<String> lines = err.lines().toList();
      assertThat(lines).hasSize(1);
      return lines.get(0);
    }
  }

  private Cli() {}

  static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine commandLine = Bench.commandLine();
    commandLine.setOut(new PrintWriter(out));
    commandLine.setErr(new PrintWriter(err));
    int code = commandLine.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  static Map<String, String> parse(String line) {
    assertThat(line).startsWith("{").endsWith("}");
    Map<String, String> fields = new LinkedHashMap<>();
    Matcher m = FIELD.matcher(line);
    while (m.find()) {
      fields.put(m.group(1), m.group(2));
    }
    return fields;
  }

  static double number(Map<String, String> fields, String name) {
    assertThat(fields).containsKey(name);
    return Double.parseDouble(fields.get(name));
  }
}
