package dev.kad.spring;

import java.io.IOException;

/** {@code kad.store-file} cannot be opened; {@link KadStoreFileFailureAnalyzer} reports it. */
final class KadStoreFileException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  KadStoreFileException(IOException cause) {
    super("kad.store-file cannot be opened: " + cause.getMessage(), cause);
  }
}
