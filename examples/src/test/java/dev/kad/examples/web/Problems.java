package dev.kad.examples.web;

import org.springframework.http.MediaType;
import org.springframework.test.web.reactive.server.WebTestClient;

/** The checks every error answer of the example shares. */
final class Problems {

  private Problems() {}

  /**
   * Expects an {@code application/problem+json} answer with {@code status}.
   *
   * @return its body, for the test's own checks of title and detail
   */
  static WebTestClient.BodyContentSpec expect(WebTestClient.ResponseSpec response, int status) {
    return response
        .expectStatus()
        .isEqualTo(status)
        .expectHeader()
        .contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
        .expectBody();
  }
}
