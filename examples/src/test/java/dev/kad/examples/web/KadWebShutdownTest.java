package dev.kad.examples.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.reactor.KadNodes;
import dev.kad.testkit.ForwardingTransport;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import io.netty.handler.codec.http.HttpHeaderNames;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.client.reactive.ReactorClientHttpConnector;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.netty.http.client.HttpClient;
import reactor.netty.resources.ConnectionProvider;
import reactor.netty.resources.LoopResources;
import reactor.test.StepVerifier;

/**
 * Closing the application with requests in flight: live streams end, the web server drains, then
 * the node closes.
 */
class KadWebShutdownTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  /**
   * The clients' event loops, their own as a client in another process has. Closing the application
   * disposes reactor-netty's global loops and connections (Spring's {@code ReactorResourceFactory}
   * stops after the web server has drained), which {@code HttpClient.create()} and {@code
   * WebTestClient.bindToServer()} would share with the server: the client's connection would be
   * closed under it, the end of the stream unread, whenever the client had not read it by then.
   */
  private final LoopResources clientLoops = LoopResources.create("shutdown-test-client", 1, true);

  private ConfigurableApplicationContext context;
  private KadNode seed;

  @AfterEach
  void close() {
    if (context != null) {
      context.close();
    }
    if (seed != null) {
      seed.close().block(BOUND);
    }
    clientLoops.disposeLater(Duration.ZERO, BOUND).block(BOUND);
  }

  /** A client on {@link #clientLoops}, with a connection of its own per request. */
  private HttpClient client() {
    return HttpClient.create(ConnectionProvider.newConnection()).runOn(clientLoops);
  }

  private WebTestClient http(int port) {
    return WebTestClient.bindToServer(new ReactorClientHttpConnector(client()))
        .baseUrl("http://127.0.0.1:" + port)
        .responseTimeout(BOUND)
        .build();
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
    WebTestClient http = http(port);
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

  @Test
  void aWatchClientNotReadingWhenTheApplicationClosesStillGetsTheEndOfItsStream() {
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
    // The client asks for one piece of the body at a time and for none while the application
    // closes, so it reads nothing then: the end of the stream must wait in its connection for it,
    // as it does for a client busy elsewhere, or late on a loaded machine.
    Flux<String> body =
        client()
            .headers(h -> h.set(HttpHeaderNames.ACCEPT, MediaType.TEXT_EVENT_STREAM_VALUE))
            .get()
            .uri("http://127.0.0.1:" + port + "/keys/live/watch")
            .responseContent()
            .asString();
    StepVerifier.create(body.filter(chunk -> chunk.contains("\"first\"")), 1)
        .expectNextCount(1)
        .then(context::close)
        .thenRequest(Long.MAX_VALUE)
        .expectComplete()
        .verify(BOUND);
  }

  @Test
  void closingTheApplicationEndsOpenLookupStreamsCleanlyAndQuickly() {
    // A seed that never answers a lookup of this one target: the lookup waits out a hard timeout
    // far longer than this test may take.
    NodeId target = NodeId.random(new SplittableRandom(7));
    KadConfig config = KadConfig.builder().maintenance(false).build();
    seed =
        KadNodes.builder()
            .config(config)
            .transport(
                new SilentFor(
                    target,
                    TcpTransport.create(
                        TcpTransportOptions.builder()
                            .fromConfig(config)
                            .bindHost("127.0.0.1")
                            .bindPort(0)
                            .eventLoopThreads(1)
                            .build())))
            .start()
            .block(BOUND);
    context =
        SpringApplication.run(
            KadWebApplication.class,
            "--server.port=0",
            "--kad.host=127.0.0.1",
            "--kad.port=0",
            "--kad.maintenance=false",
            "--kad.hard-timeout=60s",
            "--kad.bootstrap=" + seed.contact().address(),
            "--spring.main.banner-mode=off");
    KadNode node = context.getBean(KadNode.class);
    for (int i = 0; i < 200 && node.routingTable().size() == 0; i++) {
      Mono.delay(Duration.ofMillis(50)).block(BOUND);
    }
    assertThat(node.routingTable().size()).as("contacts after joining the seed").isPositive();
    int port = ((WebServerApplicationContext) context).getWebServer().getPort();
    WebTestClient http = http(port);
    Flux<ServerSentEvent<String>> events =
        http.get()
            .uri("/lookups/{id}", target.toHex())
            .accept(MediaType.TEXT_EVENT_STREAM)
            .exchange()
            .expectStatus()
            .isOk()
            .returnResult(new ParameterizedTypeReference<ServerSentEvent<String>>() {})
            .getResponseBody();
    long start = System.nanoTime();
    StepVerifier.create(events.map(ServerSentEvent::event))
        .expectNext("queried")
        .then(context::close)
        .thenConsumeWhile(type -> !type.equals("finished"))
        .expectComplete()
        .verify(BOUND);
    // Graceful shutdown waits for open requests up to 30 s: a lookup must not hold it that long.
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  /** A transport whose node never answers a lookup of {@code target}. */
  private static final class SilentFor extends ForwardingTransport {
    private final NodeId target;

    SilentFor(NodeId target, Transport transport) {
      super(transport);
      this.target = target;
    }

    @Override
    public Mono<Void> start(RequestHandler handler) {
      return super.start(
          request ->
              request instanceof Request.FindNode find && find.target().equals(target)
                  ? Mono.never()
                  : handler.handle(request));
    }
  }
}
