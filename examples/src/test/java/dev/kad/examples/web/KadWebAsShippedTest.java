package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The WebFlux application started as the README starts it, with none of the test properties the
 * other web tests set: what a newcomer sees.
 */
@ExtendWith(OutputCaptureExtension.class)
class KadWebAsShippedTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  private ConfigurableApplicationContext context;

  @AfterEach
  void close() {
    if (context != null) {
      context.close();
    }
  }

  /** Starts the application as shipped, the first node of its own network, and a client of it. */
  private WebTestClient startAlone() {
    context =
        SpringApplication.run(
            KadWebApplication.class,
            "--server.port=0",
            "--kad.host=127.0.0.1",
            "--kad.port=0",
            "--kad.maintenance=false",
            "--spring.main.banner-mode=off");
    int port = ((WebServerApplicationContext) context).getWebServer().getPort();
    return WebTestClient.bindToServer()
        .baseUrl("http://127.0.0.1:" + port)
        .responseTimeout(BOUND)
        .build();
  }

  @Test
  void healthShowsTheKadIndicatorWithoutExtraSettings() {
    startAlone()
        .get()
        .uri("/actuator/health")
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.components.kad.status")
        .isEqualTo("UP")
        .jsonPath("$.components.kad.details.contacts")
        .isEqualTo(0);
  }

  @Test
  void aNodeAloneInItsNetworkStoresAtItselfWithA200() {
    // The first node of its network: its own copy is the only one there can be.
    startAlone()
        .put()
        .uri("/keys/{key}", "first")
        .bodyValue("value".getBytes(StandardCharsets.UTF_8))
        .exchange()
        .expectStatus()
        .isOk()
        .expectBody()
        .jsonPath("$.accepted.length()")
        .isEqualTo(1)
        .jsonPath("$.failed.length()")
        .isEqualTo(0);
  }

  @Test
  void theLivePageAndWhatItLoadsAreServedAtTheRoot() {
    WebTestClient http = startAlone();

    String page =
        http.get()
            .uri("/")
            .header("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            .exchange()
            .expectStatus()
            .isOk()
            .expectHeader()
            .contentTypeCompatibleWith(MediaType.TEXT_HTML)
            .expectBody(String.class)
            .returnResult()
            .getResponseBody();
    assertThat(page).contains("<script src=\"kad.js\"").contains("href=\"kad.css\"");
    http.get()
        .uri("/kad.js")
        .exchange()
        .expectStatus()
        .isOk()
        .expectHeader()
        .contentTypeCompatibleWith("text/javascript")
        .expectBody(String.class)
        .value(body -> assertThat(body).isNotBlank());
    http.get()
        .uri("/kad.css")
        .exchange()
        .expectStatus()
        .isOk()
        .expectHeader()
        .contentTypeCompatibleWith("text/css")
        .expectBody(String.class)
        .value(body -> assertThat(body).isNotBlank());
  }

  @Test
  void theLivePageShowsWhatTheNetworkSendsAsTextNeverAsHtml() {
    // Values, addresses and reasons come from other nodes: a value "<img onerror=...>" must
    // be shown, not run. The script sets text only.
    String script =
        startAlone()
            .get()
            .uri("/kad.js")
            .exchange()
            .expectStatus()
            .isOk()
            .expectBody(String.class)
            .returnResult()
            .getResponseBody();
    assertThat(script)
        .contains("textContent")
        .doesNotContain("innerHTML")
        .doesNotContain("outerHTML")
        .doesNotContain("insertAdjacentHTML")
        .doesNotContain("document.write")
        .doesNotContain("eval(");
  }

  @Test
  void aKadPortInUseIsReportedAsAShortFailureAnalysisWithoutAStackTrace(CapturedOutput output)
      throws IOException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      String address = "127.0.0.1:" + taken.getLocalPort();

      Throwable failure =
          catchThrowable(
              () ->
                  context =
                      SpringApplication.run(
                          KadWebApplication.class,
                          "--server.port=0",
                          "--kad.host=127.0.0.1",
                          "--kad.port=" + taken.getLocalPort(),
                          "--kad.maintenance=false",
                          "--spring.main.banner-mode=off"));

      assertThat(failure).as("start-up with the kad port taken").isNotNull();
      // What Spring Boot logged: the analysis, and no stack trace (it logs one only when no
      // analyzer of spring.factories explains the failure).
      assertThat(output.getAll())
          .contains("APPLICATION FAILED TO START")
          .contains("The kad node could not listen on " + address + " (kad.host, kad.port): ")
          .contains("set kad.port to a free port")
          .doesNotContain("\tat ")
          .doesNotContain("Application run failed");
    }
  }
}
