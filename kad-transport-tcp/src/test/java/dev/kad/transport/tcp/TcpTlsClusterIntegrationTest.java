package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.PutResult;
import dev.kad.api.Value;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.NoBlocking;
import dev.kad.testkit.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;

/** Five real nodes on 127.0.0.1 over mutual TLS: bootstrap, put and get. */
class TcpTlsClusterIntegrationTest {

  private static final Duration BOUND = Duration.ofSeconds(30);
  private static final KadConfig CONFIG =
      KadConfig.builder().k(4).maintenance(false).hardTimeout(Duration.ofSeconds(5)).build();
  private static TcpTls tls;

  private final List<KadNode> nodes = new ArrayList<>();
  private final List<TcpTransport> transports = new ArrayList<>();
  private final SplittableRandom random = new SplittableRandom(5);

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

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }

  @AfterEach
  void closeAll() {
    Flux.fromIterable(nodes).flatMap(KadNode::close).then().block(BOUND);
    assertThat(NoBlocking.calls()).isEmpty();
  }

  private KadNode start() {
    TcpTransport transport =
        TcpTransport.create(
            TcpTransportOptions.builder().fromConfig(CONFIG).eventLoopThreads(1).tls(tls).build());
    transports.add(transport);
    KadNode node =
        KadNodes.builder()
            .config(CONFIG)
            .transport(transport)
            .random(random.split())
            .start()
            .block(BOUND);
    nodes.add(node);
    return node;
  }

  @Test
  void fiveNodesBootstrapAndShareValuesOverMutualTls() {
    start();
    for (int i = 1; i < 5; i++) {
      start().bootstrap(List.of(nodes.get(0).contact().address())).block(BOUND);
    }
    Key key = Key.of("over tls");
    PutResult put = nodes.get(1).put(key, "secret".getBytes(StandardCharsets.UTF_8)).block(BOUND);
    assertThat(put.acceptedCount()).isGreaterThanOrEqualTo(CONFIG.k());
    List<Value> got = nodes.get(4).get(key).collectList().block(BOUND);
    assertThat(got)
        .singleElement()
        .satisfies(
            v -> assertThat(new String(v.data(), StandardCharsets.UTF_8)).isEqualTo("secret"));
    for (TcpTransport t : transports) {
      assertThat(t.stats().violations()).as("violations of %s", t).isZero();
    }
  }
}
