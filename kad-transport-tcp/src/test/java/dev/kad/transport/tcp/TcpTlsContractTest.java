package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.spi.Transport;
import dev.kad.testkit.NoBlocking;
import dev.kad.testkit.TestCertificates;
import dev.kad.testkit.TransportContract;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import reactor.core.publisher.Flux;

/** The testkit's transport contract over mutual TLS, with nothing blocking an event loop. */
class TcpTlsContractTest implements TransportContract {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static TcpTls tls;

  private final List<TcpTransport> transports = new CopyOnWriteArrayList<>();

  @BeforeAll
  static void certificates() {
    TestCertificates certs = TestCertificates.shared();
    char[] password = certs.password().toCharArray();
    tls =
        TcpTls.builder()
            .keyStore(certs.issue("node", "IP:127.0.0.1").keyStore(), password)
            .trustStore(certs.trustStore(), password)
            .build();
  }

  @Override
  public Transport newTransport() {
    TcpTransport t =
        TcpTransport.create(
            TcpTransportOptions.builder().requestTimeout(requestTimeout()).tls(tls).build());
    transports.add(t);
    return t;
  }

  @Override
  public Duration requestTimeout() {
    // TcpTransportTest's 2 s, plus a TLS handshake's CPU (key agreement, certificate checks) on a
    // shared two-core machine under paranoid leak detection.
    return Duration.ofSeconds(5);
  }

  @Override
  public void cleanup() {
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
    for (TcpTransport t : transports) {
      assertThat(t.stats().tlsFailures()).as("TLS failures of %s", t).isZero();
    }
    assertThat(NoBlocking.calls()).as("blocking calls on event loops").isEmpty();
  }

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }
}
