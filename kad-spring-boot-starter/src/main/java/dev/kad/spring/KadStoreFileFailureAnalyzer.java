package dev.kad.spring;

import dev.kad.reactor.store.RecordStoreFileException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports a {@code kad.store-file} that cannot be opened as Spring Boot's short "APPLICATION FAILED
 * TO START" description and action, instead of the hundred-line stack trace of the failed bean: in
 * use by another node, not a kad store (or of another format or id width), or not a file that can
 * be created and written. Registered in {@code META-INF/spring.factories}.
 */
final class KadStoreFileFailureAnalyzer extends AbstractFailureAnalyzer<KadStoreFileException> {

  @Override
  protected FailureAnalysis analyze(Throwable root, KadStoreFileException cause) {
    String why = String.valueOf(cause.getMessage());
    RecordStoreFileException.Reason reason =
        cause.getCause() instanceof RecordStoreFileException refused ? refused.reason() : null;
    String action;
    if (reason == RecordStoreFileException.Reason.IN_USE) {
      action =
          "Stop the other node that uses this file (another instance of this application, a"
              + " `kad node`), or give each node its own kad.store-file.";
    } else if (reason == RecordStoreFileException.Reason.NOT_A_STORE
        || reason == RecordStoreFileException.Reason.INCOMPATIBLE) {
      action =
          "Point kad.store-file at the file this node wrote before, or move this file aside to"
              + " start with an empty store.";
    } else {
      action =
          "Set kad.store-file to a file this application can create and write (its directory is"
              + " created when missing), or leave it empty to keep values in memory.";
    }
    return new FailureAnalysis(why + ".", action, cause);
  }
}
