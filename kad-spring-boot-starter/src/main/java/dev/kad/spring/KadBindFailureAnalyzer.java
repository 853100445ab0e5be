package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.KadException;
import dev.kad.transport.tcp.SocketErrors;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import reactor.netty.ChannelBindException;

/**
 * Reports a kad node that cannot listen on {@code kad.host:kad.port} (a {@code kad node} or another
 * instance already on the port) as Spring Boot's short "APPLICATION FAILED TO START" description
 * and action, instead of the hundred-line stack trace of the failed bean. The web server's own port
 * is left to Spring Boot's analyzer: only a bind failure under a {@link KadException} is taken.
 * Registered in {@code META-INF/spring.factories}.
 */
final class KadBindFailureAnalyzer extends AbstractFailureAnalyzer<ChannelBindException> {

  @Override
  protected FailureAnalysis analyze(Throwable root, ChannelBindException cause) {
    if (findCause(root, KadException.class) == null) {
      return null;
    }
    String address =
        cause.localHost() != null && cause.localPort() >= 0
            ? new Address(cause.localHost(), cause.localPort()).toString() // [v6]:port
            : "kad.host:kad.port";
    // BindException on NIO; epoll's own exception, whose words SocketErrors keeps, otherwise.
    String reason = SocketErrors.reason(cause);
    return new FailureAnalysis(
        "The kad node could not listen on " + address + " (kad.host, kad.port): " + reason + ".",
        "Stop the process that uses "
            + address
            + " (a `kad node`, another instance of this application), or set kad.port to a"
            + " free port (0 picks one); kad.host must be an address of this machine.",
        cause);
  }
}
