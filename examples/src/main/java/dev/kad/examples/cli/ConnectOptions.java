package dev.kad.examples.cli;

import dev.kad.transport.tcp.TcpTransportOptions;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The {@code --connect-timeout} option of {@code kad node|put|get|watch}: how long the node's
 * transport gives a dial, a TLS handshake and an accepted peer's preface.
 */
final class ConnectOptions {

  @Option(
      names = "--connect-timeout",
      defaultValue = "5s",
      paramLabel = "DURATION",
      converter = DurationConverter.class,
      description =
          "Bound on dialing a peer, on a TLS handshake, and on an accepted peer's first bytes"
              + " (default: ${DEFAULT-VALUE}); a request, its dial included, still fails after"
              + " 5s without an answer.")
  private Duration connectTimeout;

  /** Sets the transport's connect timeout: positive and at most a day, as the converter checked. */
  void applyTo(TcpTransportOptions.Builder transport) {
    transport.connectTimeout(connectTimeout);
  }
}
