package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import org.junit.jupiter.api.Test;
import org.springframework.beans.TypeMismatchException;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.webflux.autoconfigure.WebFluxAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.core.convert.ConversionFailedException;
import org.springframework.core.convert.converter.Converter;
import org.springframework.format.support.DefaultFormattingConversionService;
import org.springframework.http.ResponseEntity;
import org.springframework.test.web.reactive.server.WebTestClient;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebInputException;
import reactor.core.publisher.Mono;

/**
 * {@link KadConverterAutoConfiguration}: request parameters of kad's types bind in a WebFlux
 * application through the conversion service Spring Boot builds from the converter beans.
 */
class KadConverterAutoConfigurationTest {

  private static final String ID160 = "0123456789abcdef0123456789abcdef01234567";
  private static final String ID256 =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

  private final ReactiveWebApplicationContextRunner runner =
      new ReactiveWebApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(
                  WebFluxAutoConfiguration.class, KadConverterAutoConfiguration.class))
          .withUserConfiguration(Controller.class);

  @Test
  void aPathVariableNodeIdBindsAtEitherWidth() {
    runner.run(
        context -> {
          WebTestClient client = WebTestClient.bindToApplicationContext(context).build();
          for (String hex : new String[] {ID160, ID256, ID256.toUpperCase()}) {
            client
                .get()
                .uri("/nodes/{id}", hex)
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(String.class)
                .isEqualTo(NodeId.parse(hex).toHex() + " " + NodeId.parse(hex).bits());
          }
        });
  }

  /**
   * With a node, an id of the other width can serve no call of it ({@code trace}, {@code findNode}
   * throw IllegalArgumentException): the README's {@code trace(@PathVariable NodeId id)} answered
   * 500 and logged an ERROR for 64 digits on a 160-bit node. It is the caller's error, as 3 digits
   * are.
   */
  @Test
  void withANodeAnIdOfTheOtherWidthIsTheCallersErrorNamingTheWidth() {
    runner
        .withConfiguration(AutoConfigurations.of(KadAutoConfiguration.class))
        .withPropertyValues("kad.maintenance=false")
        .run(
            context -> {
              WebTestClient client = WebTestClient.bindToApplicationContext(context).build();
              client.get().uri("/nodes/{id}", ID160).exchange().expectStatus().isOk();
              client
                  .get()
                  .uri("/nodes/{id}", ID256)
                  .exchange()
                  .expectStatus()
                  .isBadRequest()
                  .expectBody(String.class)
                  .consumeWith(
                      r ->
                          assertThat(r.getResponseBody())
                              .contains("40 hex digits", "kad.id-bits 160", "64"));
            });
  }

  @Test
  void aRequestParamAddressBindsWithAnIpv6Host() {
    runner.run(
        context -> {
          WebTestClient client = WebTestClient.bindToApplicationContext(context).build();
          for (String text : new String[] {"10.0.0.5:7000", "[::1]:7000", "seed.example:4000"}) {
            client
                .get()
                .uri(b -> b.path("/join").queryParam("seed", "{seed}").build(text))
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(String.class)
                .isEqualTo(Address.parse(text).toString());
          }
        });
  }

  @Test
  void aBadValueIsTheCallersErrorAndNamesTheValue() {
    runner.run(
        context -> {
          WebTestClient client = WebTestClient.bindToApplicationContext(context).build();
          client
              .get()
              .uri("/nodes/{id}", "abc123")
              .exchange()
              .expectStatus()
              .isBadRequest()
              .expectBody(String.class)
              .consumeWith(
                  r -> assertThat(r.getResponseBody()).contains("'abc123'", "40 or 64 hex digits"));
          client
              .get()
              .uri(b -> b.path("/join").queryParam("seed", "{seed}").build("::1"))
              .exchange()
              .expectStatus()
              .isBadRequest()
              .expectBody(String.class)
              .consumeWith(r -> assertThat(r.getResponseBody()).contains("'::1'", "HOST:PORT"));
        });
  }

  @Test
  void aKeyParameterIsANameAndIsHashed() {
    runner.run(
        context ->
            WebTestClient.bindToApplicationContext(context)
                .build()
                .get()
                .uri("/keys/{key}", "user:42")
                .exchange()
                .expectStatus()
                .isOk()
                .expectBody(String.class)
                .isEqualTo(Key.of("user:42").toHex()));
  }

  @Test
  void theConvertersWorkInAPlainConversionService() {
    runner.run(
        context -> {
          DefaultFormattingConversionService conversions = new DefaultFormattingConversionService();
          context.getBeansOfType(Converter.class).values().forEach(conversions::addConverter);
          assertThat(conversions.convert(ID160, NodeId.class)).isEqualTo(NodeId.parse(ID160));
          assertThat(conversions.convert(" [fe80::1]:7000", Address.class))
              .isEqualTo(Address.parse("[fe80::1]:7000"));
          assertThatThrownBy(() -> conversions.convert("xyz", NodeId.class))
              .isInstanceOf(ConversionFailedException.class)
              .hasRootCauseInstanceOf(IllegalArgumentException.class)
              .rootCause()
              .hasMessageContaining("'xyz'");
        });
  }

  @Test
  void aUserConverterOfTheSameNameReplacesTheStartersOwn() {
    runner
        .withUserConfiguration(UserConverter.class)
        .run(
            context -> {
              assertThat(context.getBean("kadNodeIdConverter"))
                  .isSameAs(context.getBean(UserConverter.class).converter);
              assertThat(context).hasBean("kadAddressConverter");
            });
  }

  @RestController
  static class Controller {

    @GetMapping("/nodes/{id}")
    Mono<String> node(@PathVariable NodeId id) {
      return Mono.just(id.toHex() + " " + id.bits());
    }

    @GetMapping("/join")
    Mono<String> join(@RequestParam Address seed) {
      return Mono.just(seed.toString());
    }

    @GetMapping("/keys/{key}")
    Mono<String> key(@PathVariable Key key) {
      return Mono.just(key.toHex());
    }

    /**
     * Writes out what the 400 carries (WebFlux's own answer has no body): a type mismatch whose
     * innermost cause is the parser's message, naming the value. A failure that were not the
     * caller's (a 500) would not come here.
     */
    @ExceptionHandler(ServerWebInputException.class)
    ResponseEntity<String> badInput(ServerWebInputException e) {
      assertThat(e.getCause()).isInstanceOf(TypeMismatchException.class);
      return ResponseEntity.badRequest()
          .body(NestedExceptionUtils.getMostSpecificCause(e).getMessage());
    }
  }

  @Configuration(proxyBeanMethods = false)
  static class UserConverter {

    final Converter<String, NodeId> converter = new TrimmedNodeId();

    @Bean
    Converter<String, NodeId> kadNodeIdConverter() {
      return converter;
    }
  }

  /** A user's own reading of ids. */
  static final class TrimmedNodeId implements Converter<String, NodeId> {

    @Override
    public NodeId convert(String text) {
      return NodeId.parse(text.strip());
    }
  }
}
