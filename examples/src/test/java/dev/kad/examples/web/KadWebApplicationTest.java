package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.reactor.KadNodes;
import dev.kad.spring.KadNodeLifecycle;
import dev.kad.testkit.NoBlocking;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ApplicationContext;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** The application joined to a small in-JVM cluster of TCP nodes. */
@SpringBootTest(
    webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
    properties = {
      "kad.host=127.0.0.1",
      "kad.port=0",
      "kad.k=4",
      "kad.maintenance=false",
      "kad.hard-timeout=2s",
      "kad.max-value-bytes=64",
      "management.endpoints.web.exposure.include=health,metrics",
      "management.endpoint.health.show-details=always"
    })
@org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient
class KadWebApplicationTest {

  private static final Duration BOUND = Duration.ofSeconds(20);
  private static final KadConfig CLUSTER = KadConfig.builder().k(4).maintenance(false).build();
  private static final List<KadNode> cluster = new ArrayList<>();

  @Autowired WebTestClient http;
  @Autowired KadNode node;
  @Autowired ApplicationContext context;

  @BeforeAll
  static void startCluster() {
    for (int i = 0; i < 4; i++) {
      KadNode n =
          KadNodes.builder()
              .config(CLUSTER)
              .transport(
                  TcpTransport.create(
                      TcpTransportOptions.builder()
                          .fromConfig(CLUSTER)
                          .bindHost("127.0.0.1")
                          .bindPort(0)
                          .eventLoopThreads(1)
                          .build()))
              .start()
              .block(BOUND);
      if (!cluster.isEmpty()) {
        n.bootstrap(List.of(cluster.get(0).contact().address())).block(BOUND);
      }
      cluster.add(n);
    }
  }

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }

  @AfterEach
  void nothingBlockedAnEventLoop() {
    assertThat(NoBlocking.calls()).as("blocking calls on event loops").isEmpty();
  }

  @AfterAll
  static void stopCluster() {
    Flux.fromIterable(cluster).flatMap(KadNode::close).then().block(BOUND);
  }

  @DynamicPropertySource
  static void bootstrap(DynamicPropertyRegistry registry) {
    registry.add("kad.bootstrap", () -> cluster.get(0).contact().address().toString());
  }

  private void awaitJoined() {
    for (int i = 0; i < 200 && node.routingTable().size() < cluster.size(); i++) {
      reactor.core.publisher.Mono.delay(Duration.ofMillis(50)).block(BOUND);
    }
    assertThat(node.routingTable().size()).isGreaterThanOrEqualTo(1);
  }

  @Test
  void putThenGetAsAJsonArray() {
    awaitJoined();
    http.put()
        .uri("/keys/{key}", "greeting")
        .bodyValue("hello".getBytes(StandardCharsets.UTF_8))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.key")
        .isEqualTo(Key.of("greeting").toHex())
        .jsonPath("$.accepted.length()")
        .isEqualTo(4);
    http.get()
        .uri("/keys/{key}", "greeting")
        .accept(MediaType.APPLICATION_JSON)
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$[0].text")
        .isEqualTo("hello")
        .jsonPath("$[0].publisher")
        .isEqualTo(node.id().toHex());
    // What curl sends by default: the JSON array too.
    http.get()
        .uri("/keys/{key}", "greeting")
        .accept(MediaType.ALL)
        .exchange()
        .expectStatus()
        .isOk()
        .expectHeader()
        .contentTypeCompatibleWith(MediaType.APPLICATION_JSON)
        .expectBody()
        .jsonPath("$[0].text")
        .isEqualTo("hello");
  }

  @Test
  void aBareSemicolonInAKeyIsRefusedAndAnEncodedOneIsPartOfTheKey() {
    // WebFlux would take ";99" as matrix parameters and store under "user".
    Problems.expect(
            http.put()
                .uri("/keys/user;99")
                .bodyValue("x".getBytes(StandardCharsets.UTF_8))
                .exchange(),
            400)
        .jsonPath("$.detail")
        .isEqualTo(
            "key must not contain a bare ';', which starts matrix parameters: encode it as %3B");
    http.get()
        .uri("/keys/user;99")
        .accept(MediaType.APPLICATION_NDJSON)
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.status")
        .isEqualTo(400);
    http.get()
        .uri("/keys/user;99/watch")
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.status")
        .isEqualTo(400);
    awaitJoined();
    // The URI template encodes the ';' as %3B.
    http.put()
        .uri("/keys/{key}", "user;99")
        .bodyValue("x".getBytes(StandardCharsets.UTF_8))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.key")
        .isEqualTo(Key.of("user;99").toHex());
  }

  @Test
  void theNodeStopsAfterTheWebServer() {
    // Spring stops higher phases first: the web server drains its requests while the node is open.
    Map<String, SmartLifecycle> webServer =
        context.getBeansOfType(SmartLifecycle.class).entrySet().stream()
            .filter(
                e -> e.getValue().getClass().getName().startsWith("org.springframework.boot.web"))
            .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
    assertThat(webServer).isNotEmpty();
    int kad = context.getBean(KadNodeLifecycle.class).getPhase();
    assertThat(webServer.values()).allSatisfy(l -> assertThat(l.getPhase()).isGreaterThan(kad));
  }

  @Test
  void getStreamsNdjson() {
    awaitJoined();
    cluster.get(2).put(Key.of("streamed"), "one".getBytes(StandardCharsets.UTF_8)).block(BOUND);
    Flux<Views.ValueView> values =
        http.get()
            .uri("/keys/{key}", "streamed")
            .accept(MediaType.APPLICATION_NDJSON)
            .exchange()
            .expectStatus()
            .isOk()
            .expectHeader()
            .contentTypeCompatibleWith(MediaType.APPLICATION_NDJSON)
            .returnResult(Views.ValueView.class)
            .getResponseBody();
    StepVerifier.create(values.map(Views.ValueView::text)).expectNext("one").verifyComplete();
  }

  @Test
  void watchSendsTheCurrentValueThenAValuePutByAnotherNode() {
    awaitJoined();
    cluster.get(3).put(Key.of("live"), "first".getBytes(StandardCharsets.UTF_8)).block(BOUND);
    Flux<ServerSentEvent<Views.ValueView>> events = watch("live", BOUND);
    // Comments (the opening one, heartbeats) carry no data.
    StepVerifier.create(events.filter(e -> e.data() != null))
        .assertNext(
            e -> {
              assertThat(e.data().text()).isEqualTo("first");
              // An event id names the value's whole identity, (publisher, value id), and its seq.
              assertThat(e.id())
                  .isEqualTo(
                      cluster.get(3).id().toShortHex()
                          + ":"
                          + e.data().valueId()
                          + ":"
                          + e.data().seq());
            })
        .then(
            () ->
                cluster
                    .get(1)
                    .put(Key.of("live"), "second".getBytes(StandardCharsets.UTF_8))
                    .block(BOUND))
        .assertNext(e -> assertThat(e.data().text()).isEqualTo("second"))
        .thenCancel()
        .verify(BOUND);
  }

  @Test
  void nodeDescribesItselfAndItsTable() {
    awaitJoined();
    http.get()
        .uri("/node")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.id")
        .isEqualTo(node.id().toHex())
        .jsonPath("$.address")
        .isEqualTo(node.contact().address().toString())
        .jsonPath("$.contacts")
        .value(c -> assertThat((Integer) c).isPositive())
        .jsonPath("$.lastHeard")
        .value(
            at ->
                assertThat(java.time.Instant.parse((String) at))
                    .isBeforeOrEqualTo(node.stats().lastHeard().orElseThrow())
                    .isBeforeOrEqualTo(java.time.Instant.now()))
        .jsonPath("$.buckets.length()")
        .value(b -> assertThat((Integer) b).isPositive());
  }

  @Test
  void lookupsStreamTheirEventsEndingWithFinished() {
    awaitJoined();
    Flux<ServerSentEvent<String>> events =
        http.get()
            .uri("/lookups/{id}", cluster.get(1).id().toHex())
            .accept(MediaType.TEXT_EVENT_STREAM)
            .exchange()
            .expectStatus()
            .isOk()
            .returnResult(new ParameterizedTypeReference<ServerSentEvent<String>>() {})
            .getResponseBody();
    List<String> types = events.map(ServerSentEvent::event).collectList().block(BOUND);
    assertThat(types).startsWith("queried").endsWith("finished").contains("answered");
  }

  @Test
  void anEventStreamClientGetsItsErrorsAsProblemJson() {
    // What a browser's EventSource asks for: the problem must not come back as an event.
    Problems.expect(
            http.get()
                .uri("/lookups/{id}", "not-hex")
                .accept(MediaType.TEXT_EVENT_STREAM)
                .exchange(),
            400)
        .jsonPath("$.status")
        .isEqualTo(400);
  }

  @Test
  void badInputIsA400ProblemWithoutAStackTrace() {
    Problems.expect(http.get().uri("/lookups/{id}", "not-hex").exchange(), 400)
        .jsonPath("$.status")
        .isEqualTo(400)
        .jsonPath("$.detail")
        .value(d -> assertThat((String) d).contains("not-hex"))
        .jsonPath("$.trace")
        .doesNotExist();
    // The node's width, not "40 or 64": a 64-digit target is refused by a 160-bit node too.
    Problems.expect(http.get().uri("/lookups/{id}", "abc").exchange(), 400)
        .jsonPath("$.detail")
        .isEqualTo("node id must be 40 hex digits (160-bit ids) but was 3: 'abc'");
    Problems.expect(http.get().uri("/lookups/{id}", "ab".repeat(32)).exchange(), 400)
        .jsonPath("$.detail")
        .value(
            d ->
                assertThat((String) d)
                    .startsWith("node id must be 40 hex digits (160-bit ids) but was 64"));
    http.put()
        .uri("/keys/{key}", "big")
        .bodyValue(new byte[65])
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.detail")
        .value(d -> assertThat((String) d).contains("exceeds maxValueBytes 64"));
    http.put()
        .uri("/keys/{key}", "form")
        .contentType(MediaType.APPLICATION_FORM_URLENCODED)
        .bodyValue("a=b")
        .exchange()
        .expectStatus()
        .isEqualTo(415)
        .expectBody()
        .jsonPath("$.status")
        .isEqualTo(415)
        .jsonPath("$.detail")
        .value(
            d ->
                assertThat((String) d)
                    .contains("Content-Type 'application/x-www-form-urlencoded'")
                    .contains("text/plain or application/octet-stream"));
    http.get()
        .uri("/keys/{key}", "k".repeat(1025))
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.detail")
        .value(d -> assertThat((String) d).contains("at most 1024 bytes but was 1025"));
  }

  @Test
  void aMultipartFormBodyIsA415ProblemAndNotStored() throws java.io.IOException {
    // What curl -F sends: its envelope (boundary, part headers) was stored as the value.
    String form = "--x\r\nContent-Disposition: form-data; name=\"v\"\r\n\r\nhi\r\n--x--\r\n";
    assertThat(
            rawExchangeWith(
                "PUT /keys/multipart", "Content-Type: multipart/form-data; boundary=x", form))
        .startsWith("HTTP/1.1 415 ")
        .containsIgnoringCase("content-type: application/problem+json")
        .contains("Content-Type 'multipart/form-data")
        .contains("text/plain or application/octet-stream");
    awaitJoined();
    assertThat(node.get(Key.of("multipart")).collectList().block(BOUND)).isEmpty();
    // A Content-Type that does not parse is Spring's 415, with its own detail, and stays one.
    assertThat(rawExchangeWith("PUT /keys/untyped", "Content-Type: garbage", "v"))
        .startsWith("HTTP/1.1 415 ")
        .containsIgnoringCase("content-type: application/problem+json")
        .contains("Could not parse Content-Type");
    assertThat(rawExchangeWith("POST /keys/untyped", "Content-Type: garbage", "v"))
        .startsWith("HTTP/1.1 405 ")
        .containsIgnoringCase("content-type: application/problem+json");
    // A body without a Content-Type is still a value.
    assertThat(rawExchangeWith("PUT /keys/untyped", "Accept: */*", "v"))
        .startsWith("HTTP/1.1 200 ");
  }

  @Test
  void aCompressedBodyIsA415ProblemAndNotStored() throws java.io.IOException {
    // Nothing decodes a request's Content-Encoding: the compressed bytes were stored as the value.
    assertThat(rawExchangeWith("PUT /keys/gzipped", "Content-Encoding: gzip", "gzip bytes"))
        .startsWith("HTTP/1.1 415 ")
        .containsIgnoringCase("content-type: application/problem+json")
        .contains("Content-Encoding 'gzip' is not supported: send the value uncompressed")
        .doesNotContain("\tat ");
    awaitJoined();
    assertThat(node.get(Key.of("gzipped")).collectList().block(BOUND)).isEmpty();
    assertThat(rawExchangeWith("PUT /keys/plain", "Content-Encoding: identity", "v"))
        .startsWith("HTTP/1.1 200 ");
  }

  @Test
  void anAcceptHeaderThatDoesNotParseIsA406ProblemWithABody() throws java.io.IOException {
    // Spring read the header again to write the problem: a 406 without a body (GET), or Spring
    // Boot's error JSON instead of a problem (PUT).
    for (String request :
        List.of("GET /keys/k", "GET /keys/k/watch", "GET /lookups/" + "a".repeat(40))) {
      assertThat(rawExchangeAccepting(request, "garbage", ""))
          .as(request)
          .startsWith("HTTP/1.1 406 ")
          .containsIgnoringCase("content-type: application/problem+json")
          .contains("\"status\":406")
          .contains("\"detail\":\"the Accept header 'garbage' is not a list of media types")
          .doesNotContain("\tat ");
    }
    // Spring sorts at most 50 media types: more were a 500, with a stack trace logged at ERROR.
    String many =
        java.util.stream.IntStream.range(0, 51)
            .mapToObj(i -> "application/x-" + i)
            .collect(Collectors.joining(", "));
    assertThat(rawExchangeAccepting("GET /keys/k", many + ", application/json", ""))
        .startsWith("HTTP/1.1 406 ")
        .containsIgnoringCase("content-type: application/problem+json")
        .contains("\"status\":406")
        .contains("names 52 media types, more than the 50");
    assertThat(rawExchangeAccepting("PUT /keys/badaccept", "application/json;q=x", "v"))
        .startsWith("HTTP/1.1 406 ")
        .containsIgnoringCase("content-type: application/problem+json")
        .contains("'application/json;q=x'");
    awaitJoined();
    assertThat(node.get(Key.of("badaccept")).collectList().block(BOUND)).isEmpty();
  }

  @Test
  void aBodyLargerThanAValueIsA400ProblemWhateverItsSize() {
    awaitJoined();
    http.put()
        .uri("/keys/{key}", "largest")
        .bodyValue(new byte[64])
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.key")
        .isEqualTo(Key.of("largest").toHex());
    // Larger than WebFlux's default in-memory limit (256 KiB) for a decoded body, which gave 413.
    Problems.expect(
            http.put().uri("/keys/{key}", "huge").bodyValue(new byte[1024 * 1024]).exchange(), 400)
        .jsonPath("$.detail")
        .value(d -> assertThat((String) d).contains("maxValueBytes 64"));
  }

  @Test
  void aWatchOfAKeyWithoutValuesAnswersAtOnceAndEndsItsWatchWhenTheClientLeaves() {
    awaitJoined();
    int before = node.stats().activeWatches();
    Flux<ServerSentEvent<Views.ValueView>> events =
        watch("nothing-here-yet", Duration.ofSeconds(5));
    StepVerifier.create(events)
        .assertNext(e -> assertThat(e.data()).isNull())
        // The comment leaves before the watch is subscribed: it answers at once.
        .then(() -> awaitActiveWatches(before + 1))
        .thenCancel()
        .verify(BOUND);
    awaitActiveWatches(before);
  }

  /** Waits (bounded: 10 s) until the node has {@code expected} watches open, then asserts it. */
  private void awaitActiveWatches(int expected) {
    for (int i = 0; i < 200 && node.stats().activeWatches() != expected; i++) {
      reactor.core.publisher.Mono.delay(Duration.ofMillis(50)).block(BOUND);
    }
    assertThat(node.stats().activeWatches()).isEqualTo(expected);
  }

  @Test
  void aKeyThatIsNotUtf8IsRefusedRatherThanMergedWithOthers() {
    // Decoded leniently, %FF and %FE would both be the key "\uFFFD": one key for many names.
    Problems.expect(
            http.put()
                .uri(raw("/keys/a%FF"))
                .bodyValue("x".getBytes(StandardCharsets.UTF_8))
                .exchange(),
            400)
        .jsonPath("$.detail")
        .isEqualTo("key must be percent-encoded UTF-8");
    http.get()
        .uri(raw("/keys/a%FE/watch"))
        .exchange()
        .expectStatus()
        .isBadRequest()
        .expectBody()
        .jsonPath("$.detail")
        .isEqualTo("key must be percent-encoded UTF-8");
    awaitJoined();
    // Encoded UTF-8, even of U+FFFD itself, is a key.
    http.put()
        .uri("/keys/{key}", "caf\u00e9 \uFFFD/x")
        .bodyValue("x".getBytes(StandardCharsets.UTF_8))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.key")
        .isEqualTo(Key.of("caf\u00e9 \uFFFD/x").toHex());
  }

  @Test
  void aTargetThatIsNotAUriIsA400Problem() throws java.io.IOException {
    // Spring cannot build these requests' URIs and answered an empty 400.
    for (String target :
        List.of("/keys/%zz", "/keys/abc%", "/keys/a%2/watch", "/lookups/%", "/keys/a|b")) {
      String answer = rawExchange("GET " + target);
      assertThat(answer)
          .as(target)
          .startsWith("HTTP/1.1 400 ")
          .containsIgnoringCase("content-type: application/problem+json")
          .contains("\"title\":\"Bad input\"")
          .contains("\"status\":400")
          .contains("\"detail\":\"the request target is not a valid URI (")
          .doesNotContain("\tat ");
    }
    assertThat(rawExchange("PUT /keys/%zz", "hello"))
        .startsWith("HTTP/1.1 400 ")
        .contains(
            "\"detail\":\"the request target is not a valid URI (Malformed escape pair at"
                + " index 6): a '%' must start an escape of two hex digits (send a '%' itself as %25),"
                + " and other characters outside URIs must be percent-encoded too\"");
    // A valid target is still the application's.
    assertThat(rawExchange("GET /lookups/%7A")).startsWith("HTTP/1.1 400 ").contains("'z'");
  }

  /**
   * Sends {@code requestLine} over a plain socket, as no URI-checking client would, with a body.
   */
  private String rawExchange(String requestLine, String... body) throws java.io.IOException {
    int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    String content = String.join("", body);
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout((int) BOUND.toMillis());
      socket
          .getOutputStream()
          .write(
              (requestLine
                      + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      + "Content-Type: text/plain\r\nContent-Length: "
                      + content.length()
                      + "\r\n\r\n"
                      + content)
                  .getBytes(StandardCharsets.UTF_8));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** Sends {@code requestLine} with {@code accept} as its Accept header, as written. */
  private String rawExchangeAccepting(String requestLine, String accept, String body)
      throws java.io.IOException {
    return rawExchangeWith(requestLine, "Accept: " + accept + "\r\nContent-Type: text/plain", body);
  }

  /** Sends {@code requestLine} with {@code headers} (CRLF-separated), as written, and a body. */
  private String rawExchangeWith(String requestLine, String headers, String body)
      throws java.io.IOException {
    int port = Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
      socket.setSoTimeout((int) BOUND.toMillis());
      socket
          .getOutputStream()
          .write(
              (requestLine
                      + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                      + headers
                      + "\r\nContent-Length: "
                      + body.length()
                      + "\r\n\r\n"
                      + body)
                  .getBytes(StandardCharsets.UTF_8));
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The watch stream of {@code key}, its status checked, comments included. */
  private Flux<ServerSentEvent<Views.ValueView>> watch(String key, Duration timeout) {
    return http.mutate()
        .responseTimeout(timeout)
        .build()
        .get()
        .uri("/keys/{key}/watch", key)
        .accept(MediaType.TEXT_EVENT_STREAM)
        .exchange()
        .expectStatus()
        .isOk()
        .returnResult(new ParameterizedTypeReference<ServerSentEvent<Views.ValueView>>() {})
        .getResponseBody();
  }

  /** The path as written, not encoded again. */
  private java.net.URI raw(String path) {
    return java.net.URI.create(
        "http://127.0.0.1:" + context.getEnvironment().getProperty("local.server.port") + path);
  }

  @Test
  void aChildContextClosingLeavesWatchStreamsOpen() {
    awaitJoined();
    cluster.get(3).put(Key.of("child"), "first".getBytes(StandardCharsets.UTF_8)).block(BOUND);
    Flux<ServerSentEvent<Views.ValueView>> events = watch("child", BOUND);
    StepVerifier.create(events.filter(e -> e.data() != null).map(e -> e.data().text()))
        .expectNext("first")
        .then(
            () -> {
              // Its ContextClosedEvent reaches this context's listeners too.
              var child = new org.springframework.context.support.GenericApplicationContext();
              child.setParent(context);
              child.refresh();
              child.close();
              cluster
                  .get(1)
                  .put(Key.of("child"), "second".getBytes(StandardCharsets.UTF_8))
                  .block(BOUND);
            })
        .expectNext("second")
        .thenCancel()
        .verify(BOUND);
  }

  @Test
  void healthAndMetersReportTheNode() {
    awaitJoined();
    http.get()
        .uri("/actuator/health")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.components.kad.status")
        .isEqualTo("UP")
        .jsonPath("$.components.kad.details.contacts")
        .value(c -> assertThat((Integer) c).isPositive());
    http.get()
        .uri("/actuator/metrics/kad.routing.contacts")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.measurements[0].value")
        .value(v -> assertThat(((Number) v).doubleValue()).isPositive());
    http.get()
        .uri("/actuator/metrics/kad.rpc.sent")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.name")
        .isEqualTo("kad.rpc.sent");
  }
}
