package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * The README's recipe for testing an application on the starter without sockets for the DHT: its
 * node on kad-testkit's in-memory network, built from the starter's {@link KadConfig} (so the
 * test's {@code kad.*} properties hold), and a peer on the same network playing the rest of the
 * DHT.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"kad.bootstrap=", "kad.k=4", "kad.maintenance=false"})
@org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient
class KadWebInMemoryTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  @TestConfiguration
  static class InMemoryDht {

    @Bean
    SimulatedNetwork kadNetwork() {
      return new SimulatedNetwork(Schedulers.parallel(), 42);
    }

    /** Replaces the starter's node on TCP; the starter still closes it with the context. */
    @Bean
    KadNode kadNode(SimulatedNetwork network, KadConfig config) {
      return KadNodes.builder()
          .config(config)
          .transport(network.newTransport())
          .random(network.newRandom())
          .start()
          .block(BOUND);
    }

    /** Not a {@code KadNode} bean: a second one would make injecting the node ambiguous. */
    @Bean(destroyMethod = "close")
    Peer kadPeer(SimulatedNetwork network, KadNode node) {
      KadNode peer =
          KadNodes.builder()
              .config(node.config())
              .transport(network.newTransport())
              .random(network.newRandom())
              .start()
              .block(BOUND);
      peer.bootstrap(List.of(node.contact().address())).block(BOUND);
      return new Peer(peer);
    }
  }

  record Peer(KadNode node) implements AutoCloseable {
    @Override
    public void close() {
      node.close().block(BOUND);
    }
  }

  @Autowired WebTestClient http;
  @Autowired KadNode node;
  @Autowired Peer peer;

  @Test
  void theApplicationRunsOnTheInMemoryNetworkWithItsOwnSettings() {
    assertThat(node.config().k()).isEqualTo(4);
    assertThat(node.contact().address().host()).startsWith("10.");

    http.put()
        .uri("/keys/{key}", "in-memory")
        .contentType(MediaType.TEXT_PLAIN)
        .bodyValue("hello")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.accepted.length()")
        .isEqualTo(2);

    StepVerifier.create(peer.node().get(Key.of("in-memory")))
        .assertNext(
            v -> assertThat(new String(v.data(), StandardCharsets.UTF_8)).isEqualTo("hello"))
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void aWatchServedByTheApplicationSeesAPutMadeByThePeer() {
    var events =
        http.get()
            .uri("/keys/{key}/watch", "in-memory-watch")
            .accept(MediaType.TEXT_EVENT_STREAM)
            .exchange()
            .expectStatus()
            .isOk()
            .returnResult(new ParameterizedTypeReference<ServerSentEvent<Views.ValueView>>() {})
            .getResponseBody();

    StepVerifier.create(events.filter(e -> e.data() != null))
        .then(
            () ->
                peer.node()
                    .put(Key.of("in-memory-watch"), "pushed".getBytes(StandardCharsets.UTF_8))
                    .subscribe())
        .assertNext(e -> assertThat(e.data().text()).isEqualTo("pushed"))
        .thenCancel()
        .verify(BOUND);
  }
}
