package dev.kad.examples.web;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.scheduler.Schedulers;

/** A DHT operation past the web timeout is a 504 problem. */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"kad.web.timeout=300ms"})
@org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient
class KadWebTimeoutTest {

  /** A node whose only contact never answers: every lookup waits for its hard timeout. */
  @TestConfiguration
  static class SilentNetwork {
    @Bean
    KadNode kadNode() {
      SimulatedNetwork network = new SimulatedNetwork(Schedulers.parallel(), 7);
      KadNode node =
          KadNodes.builder()
              .config(KadConfig.builder().maintenance(false).build())
              .transport(network.newTransport())
              .start()
              .block(Duration.ofSeconds(10));
      Contact silent =
          new Contact(NodeId.random(new SplittableRandom(7)), network.newTransport().address());
      KadNodes.learn(node, List.of(silent));
      return node;
    }
  }

  @Autowired WebTestClient http;

  @Test
  void aDhtTimeoutIsA504Problem() {
    http.get()
        .uri("/keys/{key}", "slow")
        .exchange()
        .expectStatus()
        .isEqualTo(504)
        .expectHeader()
        .contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
        .expectBody()
        .jsonPath("$.title")
        .isEqualTo("DHT timeout");
  }
}
