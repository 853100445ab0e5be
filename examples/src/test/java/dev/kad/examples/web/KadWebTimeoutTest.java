package dev.kad.examples.web;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.reactor.KadNodes;
import dev.kad.reactor.store.InMemoryRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.testkit.SimulatedNetwork;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;
import reactor.test.StepVerifier;

/**
 * A DHT operation past the web timeout is a 504 problem, also when a value came in before the
 * deadline: the deadline bounds the whole response, not the gaps between values.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {"kad.web.timeout=300ms"})
@org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient
class KadWebTimeoutTest {

  /** Held by the node itself: a get emits it at once, then waits for the silent contact. */
  static final String HELD = "held";

  /**
   * A node whose only contact never answers: every lookup waits for its hard timeout. It holds a
   * value under the key {@link #HELD}.
   */
  @TestConfiguration
  static class SilentNetwork {
    @Bean
    KadNode kadNode() {
      SimulatedNetwork network = new SimulatedNetwork(Schedulers.parallel(), 7);
      KadConfig config = KadConfig.builder().maintenance(false).build();
      RecordStore store = new InMemoryRecordStore(config);
      Instant now = Instant.now();
      Instant expiry = now.plus(Duration.ofHours(1));
      store.store(
          Key.of(HELD),
          Value.of(
              "here".getBytes(StandardCharsets.UTF_8),
              NodeId.random(new SplittableRandom(8)),
              1,
              1,
              expiry),
          expiry,
          false,
          now);
      KadNode node =
          KadNodes.builder()
              .config(config)
              .transport(network.newTransport())
              .store(store)
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
    Problems.expect(http.get().uri("/keys/{key}", "slow").exchange(), 504)
        .jsonPath("$.title")
        .isEqualTo("DHT timeout");
  }

  @Test
  void aJsonArrayIsWrittenOnlyWhenTheLookupEndedInTime() {
    Problems.expect(
            http.get().uri("/keys/{key}", HELD).accept(MediaType.APPLICATION_JSON).exchange(), 504)
        .jsonPath("$.title")
        .isEqualTo("DHT timeout")
        .jsonPath("$.detail")
        .isEqualTo("get of key 'held' did not finish within 300 ms");
  }

  @Test
  void anNdjsonStreamEndsCleanlyAtTheDeadlineWithTheValuesSoFar() {
    Flux<Views.ValueView> values =
        http.get()
            .uri("/keys/{key}", HELD)
            .accept(MediaType.APPLICATION_NDJSON)
            .exchange()
            .expectStatus()
            .isOk()
            .returnResult(Views.ValueView.class)
            .getResponseBody();
    // The lookup goes on for the 5 s hard timeout; the stream ends at the 300 ms deadline.
    StepVerifier.create(values.map(Views.ValueView::text))
        .expectNext("here")
        .expectComplete()
        .verify(Duration.ofSeconds(3));
  }

  @Test
  void anNdjsonStreamWithoutAValueByTheDeadlineIsA504() {
    http.get()
        .uri("/keys/{key}", "slow")
        .accept(MediaType.APPLICATION_NDJSON)
        .exchange()
        .expectStatus()
        .isEqualTo(504)
        .expectBody()
        .jsonPath("$.detail")
        .isEqualTo("get of key 'slow' did not finish within 300 ms");
  }
}
