package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import dev.kad.api.Key;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/** Closing the application with requests in flight: the web server drains, then the node closes. */
class KadWebShutdownTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  private ConfigurableApplicationContext context;

  @AfterEach
  void close() {
    if (context != null) {
      context.close();
    }
  }

  @Test
  void closingTheApplicationEndsOpenWatchStreamsCleanlyAndQuickly() {
    context =
        SpringApplication.run(
            KadWebApplication.class,
            "--server.port=0",
            "--kad.host=127.0.0.1",
            "--kad.port=0",
            "--kad.maintenance=false",
            "--spring.main.banner-mode=off");
    KadNode node = context.getBean(KadNode.class);
    node.put(Key.of("live"), "first".getBytes(StandardCharsets.UTF_8)).block(BOUND);
    int port = ((WebServerApplicationContext) context).getWebServer().getPort();
    WebTestClient http =
        WebTestClient.bindToServer()
            .baseUrl("http://127.0.0.1:" + port)
            .responseTimeout(BOUND)
            .build();
    Flux<ServerSentEvent<Views.ValueView>> events =
        http.get()
            .uri("/keys/{key}/watch", "live")
            .accept(MediaType.TEXT_EVENT_STREAM)
            .exchange()
            .expectStatus()
            .isOk()
            .returnResult(new ParameterizedTypeReference<ServerSentEvent<Views.ValueView>>() {})
            .getResponseBody();
    long start = System.nanoTime();
    StepVerifier.create(events.filter(e -> e.data() != null).map(e -> e.data().text()))
        .expectNext("first")
        .then(context::close)
        .expectComplete()
        .verify(BOUND);
    // Graceful shutdown waits for open requests up to 30 s: a watch must not hold it that long.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }
}
