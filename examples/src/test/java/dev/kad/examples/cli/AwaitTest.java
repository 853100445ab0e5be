package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadTimeoutException;
import dev.kad.api.UnreachableContactException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/** The bound every command puts on starting, joining, a put and a get. */
class AwaitTest {

  @Test
  void anOperationPastItsBoundFailsNamingItAndTheBound() {
    StepVerifier.withVirtualTime(() -> Await.bounded(Mono.never(), Duration.ofSeconds(30), "put"))
        .thenAwait(Duration.ofSeconds(30))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(KadTimeoutException.class)
                    .hasMessage("put did not finish within 30 s"))
        .verify(Duration.ofSeconds(10));
  }

  @Test
  void anOperationThatEndsWithinItsBoundEndsAsItDid() {
    StepVerifier.withVirtualTime(
            () ->
                Await.bounded(
                    Mono.delay(Duration.ofSeconds(29)).thenReturn("v"),
                    Duration.ofSeconds(30),
                    "get"))
        .thenAwait(Duration.ofSeconds(29))
        .expectNext("v")
        .expectComplete()
        .verify(Duration.ofSeconds(10));
    StepVerifier.withVirtualTime(
            () ->
                Await.bounded(
                    Mono.error(new UnreachableContactException("no seed answered")),
                    Duration.ofSeconds(30),
                    "joining"))
        .expectErrorMessage("no seed answered")
        .verify(Duration.ofSeconds(10));
  }
}
