package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.kad.api.KadException;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.diagnostics.FailureAnalysis;
import reactor.core.publisher.Mono;
import reactor.netty.ChannelBindException;

class KadBindFailureAnalyzerTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  private final KadBindFailureAnalyzer analyzer = new KadBindFailureAnalyzer();

  private static ChannelBindException bindFailure(int port) {
    return ChannelBindException.fail(
        new InetSocketAddress("127.0.0.1", port), new BindException("Address already in use"));
  }

  @Test
  void aKadPortInUseIsDescribedByItsAddressAndPropertiesWithAnAction() {
    ChannelBindException bind = bindFailure(7000);
    Throwable startUp =
        new IllegalStateException(
            "kad node could not start", new KadException("cannot listen on 127.0.0.1:7000", bind));

    FailureAnalysis analysis = analyzer.analyze(startUp);

    assertThat(analysis).isNotNull();
    assertThat(analysis.getDescription())
        .isEqualTo(
            "The kad node could not listen on 127.0.0.1:7000 (kad.host, kad.port):"
                + " Address already in use.");
    assertThat(analysis.getAction()).contains("kad.port").contains("127.0.0.1:7000");
  }

  @Test
  void aPortTakenIsDescribedInTheSystemsWordsOnTheDefaultTransport() {
    TcpTransport first = TcpTransport.create();
    first.start(request -> Mono.empty()).block(BOUND);
    int port = first.localAddress().port();
    TcpTransport second =
        TcpTransport.create(
            TcpTransportOptions.builder().bindHost("127.0.0.1").bindPort(port).build());
    try {
      Throwable failed = catchThrowable(() -> second.start(request -> Mono.empty()).block(BOUND));
      FailureAnalysis analysis =
          analyzer.analyze(new IllegalStateException("kad node could not start", failed));

      assertThat(analysis).isNotNull();
      // Epoll's own exception, not a BindException: its reason was lost as "bind failed".
      assertThat(analysis.getDescription())
          .isEqualTo(
              "The kad node could not listen on 127.0.0.1:"
                  + port
                  + " (kad.host, kad.port): Address already in use.");
    } finally {
      second.close().block(BOUND);
      first.close().block(BOUND);
    }
  }

  @Test
  void aBindFailureOutsideKadIsLeftToSpringBootsOwnAnalyzers() {
    // The web server's port taken: not kad's to describe.
    Throwable webServer =
        new IllegalStateException("web server failed to start", bindFailure(8080));

    assertThat(analyzer.analyze(webServer)).isNull();
  }
}
