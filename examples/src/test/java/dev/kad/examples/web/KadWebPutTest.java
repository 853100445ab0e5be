package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.testkit.SimulatedNetwork;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.http.HttpHeaders;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A put that only the application's own node accepted, while it knows another node, is not a 200:
 * the value would leave with this node.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient
class KadWebPutTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  /**
   * How long a request may go unanswered, in real time: the put to a killed peer waits it out, and
   * a live peer's answer, through a cold application on a stalled machine, must come within it.
   */
  private static final Duration TIMEOUT = Duration.ofSeconds(3);

  private static final SimulatedNetwork network =
      new SimulatedNetwork(Schedulers.parallel(), 5).requestTimeout(TIMEOUT);
  private static final KadConfig FAST =
      KadConfig.builder()
          .maintenance(false)
          .softTimeout(Duration.ofMillis(200))
          .hardTimeout(TIMEOUT)
          .build();

  /** The one other node: it refuses values over 4 bytes. */
  private static KadNode peer;

  /** The application's node, which knows {@link #peer}. */
  @TestConfiguration
  static class TwoNodes {
    @Bean
    KadNode kadNode() {
      peer =
          KadNodes.builder()
              .config(FAST.toBuilder().maxValueBytes(4).build())
              .transport(network.newTransport())
              .start()
              .block(BOUND);
      // Its Stores of the key "busy" are refused as a node over its rate limit refuses them.
      Transport transport =
          new ForwardingTransport(network.newTransport()) {
            @Override
            public Mono<Response> send(Address to, Request request) {
              return super.send(to, request)
                  .map(
                      r ->
                          request instanceof Request.Store s && s.key().equals(Key.of("busy"))
                              ? new Response.Failure(
                                  r.sender(),
                                  Response.Code.RATE_LIMITED,
                                  "more than 1000 requests a second from 10.0.0.2")
                              : r);
            }
          };
      KadNode node = KadNodes.builder().config(FAST).transport(transport).start().block(BOUND);
      node.bootstrap(List.of(peer.contact().address())).block(BOUND);
      return node;
    }
  }

  @AfterAll
  static void closePeer() {
    if (peer != null) {
      peer.close().block(BOUND);
    }
  }

  @Autowired WebTestClient http;
  @Autowired KadNode node;

  @Test
  void aValueAnotherNodeAcceptedIsA200() {
    http.put()
        .uri("/keys/{key}", "small")
        .bodyValue("hi".getBytes(StandardCharsets.UTF_8))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.accepted.length()")
        .isEqualTo(2);
  }

  @Test
  void aValueEveryOtherNodeRefusedForItsRateLimitIsA503ToRetry() {
    Problems.expect(
            http.put()
                .uri("/keys/{key}", "busy")
                .bodyValue("hi".getBytes(StandardCharsets.UTF_8))
                .exchange()
                .expectHeader()
                .valueEquals(HttpHeaders.RETRY_AFTER, "1"),
            503)
        .jsonPath("$.title")
        .isEqualTo("DHT busy")
        .jsonPath("$.detail")
        .value(d -> assertThat((String) d).contains("every refusal was RATE_LIMITED"))
        .jsonPath("$.put.rejected[0].reason")
        .value(r -> assertThat((String) r).startsWith("RATE_LIMITED: "));
  }

  @Test
  void aValueEveryOtherNodeRefusedIsA502WithThePutResult() {
    Problems.expect(
            http.put()
                .uri("/keys/{key}", "large")
                .bodyValue("hello world".getBytes(StandardCharsets.UTF_8))
                .exchange(),
            502)
        .jsonPath("$.title")
        .isEqualTo("Store rejected")
        .jsonPath("$.detail")
        .value(
            d ->
                assertThat((String) d)
                    .startsWith(
                        "no other node accepted the value for key "
                            + Key.of("large").toShortHex()
                            + ": rejected [")
                    .contains(peer.contact().toString())
                    .endsWith(
                        "failed 0; the value is stored only at this node, which republishes it"))
        .jsonPath("$.put.key")
        .isEqualTo(Key.of("large").toHex())
        .jsonPath("$.put.accepted")
        .isEqualTo(List.of(Views.describe(node.contact())))
        .jsonPath("$.put.rejected[0].node")
        .isEqualTo(Views.describe(peer.contact()))
        .jsonPath("$.put.rejected[0].reason")
        .isNotEmpty()
        .jsonPath("$.put.failed.length()")
        .isEqualTo(0);
  }

  @Test
  void aValueNoOtherNodeAnsweredForIsA503WithThePutResult() {
    Address peerAddress = peer.contact().address();
    network.kill(peerAddress);
    try {
      Problems.expect(
              // waits out the hard timeout: more than the client's default 5 s on a loaded host
              http.mutate()
                  .responseTimeout(BOUND)
                  .build()
                  .put()
                  .uri("/keys/{key}", "lonely")
                  .bodyValue("x".getBytes(StandardCharsets.UTF_8))
                  .exchange(),
              503)
          .jsonPath("$.title")
          .isEqualTo("DHT unavailable")
          .jsonPath("$.detail")
          .isEqualTo(
              "no other node answered the stores for key "
                  + Key.of("lonely").toShortHex()
                  + ": none of the 1 nodes its lookup asked answered; the value is stored only at"
                  + " this node, which republishes it")
          .jsonPath("$.put.accepted")
          .isEqualTo(List.of(Views.describe(node.contact())))
          .jsonPath("$.put.failed")
          .isEqualTo(List.of(Views.describe(peer.contact())));
    } finally {
      network.revive(peerAddress);
    }
  }

  @Test
  void aGetNoOtherNodeAnsweredIsA503NotAnEmptyArray() {
    Address peerAddress = peer.contact().address();
    network.kill(peerAddress);
    try {
      Problems.expect(
              http.mutate()
                  .responseTimeout(BOUND)
                  .build()
                  .get()
                  .uri("/keys/{key}", "held-nowhere")
                  .exchange(),
              503)
          .jsonPath("$.title")
          .isEqualTo("DHT unavailable")
          .jsonPath("$.detail")
          .isEqualTo(
              "no node answered the get of key "
                  + Key.of("held-nowhere").toShortHex()
                  + ": none of the 1 nodes its lookup asked answered (this node may be cut off)");
    } finally {
      network.revive(peerAddress);
    }
  }
}
