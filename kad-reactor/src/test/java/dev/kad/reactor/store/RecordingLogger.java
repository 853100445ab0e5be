package dev.kad.reactor.store;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Marker;
import org.slf4j.event.Level;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;

/**
 * A logger that keeps every line it is given, as "LEVEL message": for tests of what a component
 * logs (the engine's jobs, the file store).
 */
public class RecordingLogger extends LegacyAbstractLogger {
  private static final long serialVersionUID = 1L;

  public final List<String> lines = new CopyOnWriteArrayList<>();

  public RecordingLogger() {
    this.name = "recording";
  }

  public List<String> at(String level) {
    return lines.stream().filter(l -> l.startsWith(level + " ")).toList();
  }

  @Override
  public boolean isTraceEnabled() {
    return true;
  }

  @Override
  public boolean isDebugEnabled() {
    return true;
  }

  @Override
  public boolean isInfoEnabled() {
    return true;
  }

  @Override
  public boolean isWarnEnabled() {
    return true;
  }

  @Override
  public boolean isErrorEnabled() {
    return true;
  }

  @Override
  protected String getFullyQualifiedCallerName() {
    return null;
  }

  @Override
  protected void handleNormalizedLoggingCall(
      Level level, Marker marker, String pattern, Object[] arguments, Throwable throwable) {
    lines.add(level + " " + MessageFormatter.basicArrayFormat(pattern, arguments));
  }
}
