package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.http.codec.autoconfigure.CodecsAutoConfiguration;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.webflux.autoconfigure.WebFluxAutoConfiguration;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebInputException;
import reactor.core.publisher.Mono;
import tools.jackson.databind.json.JsonMapper;

/**
 * An id in a JSON request body, read by {@link KadJacksonModule}, is held to the node's id width as
 * a request parameter is ({@link KadConverterAutoConfiguration}): an id of the other width can
 * serve no call of the node, which throws IllegalArgumentException, a 500.
 */
class KadJsonBodyIdWidthTest {

  private static final String ID160 = "0123456789abcdef0123456789abcdef01234567";
  private static final String ID256 =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  private final ReactiveWebApplicationContextRunner runner =
      new ReactiveWebApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  WebFluxAutoConfiguration.class,
                  CodecsAutoConfiguration.class,
                  JacksonAutoConfiguration.class,
                  KadJacksonAutoConfiguration.class))
          .withUserConfiguration(Controller.class);

  @Test
  void withANodeAnIdOfTheOtherWidthInABodyIsTheCallersErrorNamingTheWidth() {
    runner
        .withConfiguration(AutoConfigurations.of(KadAutoConfiguration.class))
        .withPropertyValues("kad.host=127.0.0.1", "kad.port=0", "kad.maintenance=false")
        .run(
            context -> {
              WebTestClient client = WebTestClient.bindToApplicationContext(context).build();
              post(client, "/lookups", "{\"target\":\"" + ID160 + "\"}")
                  .expectStatus()
                  .isOk()
                  .expectBody(String.class)
                  .isEqualTo("0");
              for (String[] bad :
                  new String[][] {
                    {"/lookups", "{\"target\":\"" + ID256 + "\"}", "node id"},
                    {"/gets", "{\"key\":\"" + ID256 + "\"}", "key"},
                    {"/targets", "{\"" + ID256 + "\":1}", "node id"}
                  }) {
                post(client, bad[0], bad[1])
                    .expectStatus()
                    .isBadRequest()
                    .expectHeader()
                    .contentTypeCompatibleWith(MediaType.APPLICATION_PROBLEM_JSON)
                    .expectBody(ProblemDetail.class)
                    .consumeWith(
                        r ->
                            assertThat(r.getResponseBody().getDetail())
                                .as(bad[1])
                                .contains(
                                    bad[2]
                                        + " must be 40 hex digits for this node (kad.id-bits"
                                        + " 160) but had 64"));
              }
            });
  }

  @Test
  void withoutANodeEitherWidthReadsFromABody() {
    runner.run(
        context -> {
          JsonMapper mapper = context.getBean(JsonMapper.class);
          for (String hex : List.of(ID160, ID256)) {
            assertThat(mapper.readValue("\"" + hex + "\"", NodeId.class))
                .isEqualTo(NodeId.parse(hex));
            assertThat(mapper.readValue("\"" + hex + "\"", Key.class)).isEqualTo(Key.parse(hex));
          }
        });
  }

  private static WebTestClient.ResponseSpec post(WebTestClient client, String path, String json) {
    return client
        .post()
        .uri(path)
        .contentType(MediaType.APPLICATION_JSON)
        .bodyValue(json)
        .exchange();
  }

  record Lookup(NodeId target) {}

  record Get(Key key) {}

  @RestController
  static class Controller {

    private final KadNode node;

    Controller(org.springframework.beans.factory.ObjectProvider<KadNode> node) {
      this.node = node.getIfUnique();
    }

    @PostMapping("/lookups")
    Mono<String> lookup(@RequestBody Lookup body) {
      return node.findNode(body.target()).map(contacts -> Integer.toString(contacts.size()));
    }

    @PostMapping("/gets")
    Mono<String> get(@RequestBody Get body) {
      return node.get(body.key()).count().map(Object::toString);
    }

    @PostMapping("/targets")
    Mono<String> targets(@RequestBody java.util.Map<NodeId, Integer> body) {
      return node.findNode(body.keySet().iterator().next())
          .map(contacts -> Integer.toString(contacts.size()));
    }

    /** A problem body naming the innermost cause, as an application's problem handler writes. */
    @ExceptionHandler(ServerWebInputException.class)
    ResponseEntity<ProblemDetail> badInput(ServerWebInputException e) {
      return ResponseEntity.badRequest()
          .contentType(MediaType.APPLICATION_PROBLEM_JSON)
          .body(
              ProblemDetail.forStatusAndDetail(
                  HttpStatus.BAD_REQUEST,
                  NestedExceptionUtils.getMostSpecificCause(e).getMessage()));
    }
  }
}
