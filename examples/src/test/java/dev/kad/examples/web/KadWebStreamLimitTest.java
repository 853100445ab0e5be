package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.SimulatedNetwork;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.netty.http.client.HttpClient;
import reactor.test.StepVerifier;

/**
 * One client cannot hold an unbounded number of watch or lookup streams open: past its bound, or
 * the application's, a stream is a 429 problem with a {@code Retry-After}, and a stream that ends,
 * however it ends, gives its place back.
 */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "kad.web.max-watches-per-client=2",
      "kad.web.max-watches=3",
      "kad.web.max-lookups-per-client=1",
      "kad.web.max-lookups=8"
    })
class KadWebStreamLimitTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  /**
   * A node whose only contact never answers: its watches stay subscribing and its lookups wait a
   * hard timeout longer than any test here, so every stream stays open until its client leaves.
   */
  @TestConfiguration
  static class SilentNetwork {
    @Bean
    KadNode kadNode() {
      SimulatedNetwork network = new SimulatedNetwork(Schedulers.parallel(), 11);
      KadConfig config =
          KadConfig.builder()
              .maintenance(false)
              .softTimeout(Duration.ofSeconds(60))
              .hardTimeout(Duration.ofSeconds(60))
              .build();
      KadNode node =
          KadNodes.builder().config(config).transport(network.newTransport()).start().block(BOUND);
      KadNodes.learn(
          node,
          List.of(
              new Contact(
                  NodeId.random(new SplittableRandom(11)), network.newTransport().address())));
      return node;
    }
  }

  @Autowired ApplicationContext context;
  @Autowired KadNode node;
  @Autowired StreamLimits limits;

  /** A client of the application from {@code address}, a loopback address of its own. */
  private WebTestClient clientFrom(String address) {
    HttpClient client = HttpClient.create().bindAddress(() -> new InetSocketAddress(address, 0));
    return WebTestClient.bindToServer(new ReactorClientHttpConnector(client))
        .baseUrl("http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port"))
        .responseTimeout(BOUND)
        .build();
  }

  private static Flux<ServerSentEvent<String>> open(WebTestClient http, String path) {
    return http.get()
        .uri(path)
        .accept(MediaType.TEXT_EVENT_STREAM)
        .exchange()
        .expectStatus()
        .isOk()
        .returnResult(new ParameterizedTypeReference<ServerSentEvent<String>>() {})
        .getResponseBody();
  }

  /**
   * Reads {@code stream} until the test disposes of what this returns, as a client that leaves. The
   * stream is open at the server already: its 200 has arrived.
   */
  private static Disposable holding(Flux<ServerSentEvent<String>> stream) {
    return stream.subscribe();
  }

  private static void refused(WebTestClient http, String path, String detail, String retryAfter) {
    Problems.expect(
            http.get()
                .uri(path)
                .accept(MediaType.TEXT_EVENT_STREAM)
                .exchange()
                .expectHeader()
                .valueEquals(HttpHeaders.RETRY_AFTER, retryAfter),
            429)
        .jsonPath("$.title")
        .isEqualTo("Too many streams")
        .jsonPath("$.status")
        .isEqualTo(429)
        .jsonPath("$.detail")
        .isEqualTo(detail)
        .jsonPath("$.instance")
        .isEqualTo(path);
  }

  /** Waits (bounded: 10 s) until {@code actual} is {@code expected}, then asserts it. */
  private static void await(String what, IntSupplier actual, int expected) {
    for (int i = 0; i < 200 && actual.getAsInt() != expected; i++) {
      Mono.delay(Duration.ofMillis(50)).block(BOUND);
    }
    assertThat(actual.getAsInt()).as(what).isEqualTo(expected);
  }

  @Test
  void aClientPastItsWatchBoundGetsA429ProblemWithRetryAfterAndNoWatch() {
    WebTestClient http = clientFrom("127.0.0.1");
    int before = node.stats().activeWatches();
    Disposable first = holding(open(http, "/keys/a/watch"));
    Disposable second = holding(open(http, "/keys/b/watch"));
    await("watches at the node", () -> node.stats().activeWatches(), before + 2);
    refused(
        http,
        "/keys/c/watch",
        "this client has 2 watch streams open, the most one client may have"
            + " (kad.web.max-watches-per-client): close one before opening another",
        "15");
    // The refused stream started no watch, so sent no Subscribe into the DHT.
    assertThat(node.stats().activeWatches()).isEqualTo(before + 2);
    first.dispose();
    second.dispose();
    await("open watch streams", () -> limits.watches().open(), 0);
    await("watches at the node", () -> node.stats().activeWatches(), before);
  }

  @Test
  void aCancelledWatchStreamGivesItsPlaceBackOnce() {
    WebTestClient http = clientFrom("127.0.0.1");
    Disposable held = holding(open(http, "/keys/held/watch"));
    // A leak would refuse the second round; a second release would let a third stream open.
    for (int round = 0; round < 10; round++) {
      StepVerifier.create(open(http, "/keys/k" + round + "/watch"))
          .expectNextCount(1)
          .thenCancel()
          .verify(BOUND);
      await("open watch streams after round " + round, () -> limits.watches().open(), 1);
    }
    Disposable other = holding(open(http, "/keys/other/watch"));
    refused(
        http,
        "/keys/third/watch",
        "this client has 2 watch streams open, the most one client may have"
            + " (kad.web.max-watches-per-client): close one before opening another",
        "15");
    held.dispose();
    other.dispose();
    await("open watch streams", () -> limits.watches().open(), 0);
  }

  @Test
  void theApplicationsWatchBoundCountsEveryClient() {
    WebTestClient one = clientFrom("127.0.0.1");
    WebTestClient two = clientFrom("127.0.0.2");
    Disposable a = holding(open(one, "/keys/a/watch"));
    Disposable b = holding(open(one, "/keys/b/watch"));
    Disposable c = holding(open(two, "/keys/c/watch"));
    await("open watch streams", () -> limits.watches().open(), 3);
    assertThat(limits.watches().open("127.0.0.2")).isEqualTo(1);
    refused(
        two,
        "/keys/d/watch",
        "the server has 3 watch streams open, the most it keeps (kad.web.max-watches):"
            + " retry later",
        "15");
    a.dispose();
    await("open watch streams", () -> limits.watches().open(), 2);
    Disposable d = holding(open(two, "/keys/d/watch"));
    b.dispose();
    c.dispose();
    d.dispose();
    await("open watch streams", () -> limits.watches().open(), 0);
  }

  @Test
  void aClientPastItsLookupBoundGetsA429UntilItLeavesOne() {
    WebTestClient http = clientFrom("127.0.0.1");
    String target = "/lookups/" + NodeId.random(new SplittableRandom(1)).toHex();
    Disposable first = holding(open(http, target));
    refused(
        http,
        "/lookups/" + NodeId.random(new SplittableRandom(2)).toHex(),
        "this client has 1 lookup streams open, the most one client may have"
            + " (kad.web.max-lookups-per-client): close one before opening another",
        "60");
    first.dispose();
    await("open lookup streams", () -> limits.lookups().open(), 0);
    StepVerifier.create(open(http, target)).expectNextCount(1).thenCancel().verify(BOUND);
    await("open lookup streams", () -> limits.lookups().open(), 0);
  }

  @Test
  void aRequestWithoutARemoteAddressCountsUnderTheSharedBucket() {
    // The mock connection has no remote address, as no TCP connection would.
    WebTestClient http =
        WebTestClient.bindToApplicationContext(context)
            .configureClient()
            .responseTimeout(BOUND)
            .build();
    Disposable first = holding(open(http, "/keys/a/watch"));
    await("streams without an address", () -> limits.watches().open(StreamLimit.NO_ADDRESS), 1);
    Disposable second = holding(open(http, "/keys/b/watch"));
    await("streams without an address", () -> limits.watches().open(StreamLimit.NO_ADDRESS), 2);
    refused(
        http,
        "/keys/c/watch",
        "this client has 2 watch streams open, the most one client may have"
            + " (kad.web.max-watches-per-client): close one before opening another",
        "15");
    first.dispose();
    second.dispose();
    await("open watch streams", () -> limits.watches().open(), 0);
  }
}
