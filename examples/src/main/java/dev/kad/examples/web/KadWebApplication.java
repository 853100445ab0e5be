package dev.kad.examples.web;

import dev.kad.api.KadNode;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.web.reactive.config.WebFluxConfigurer;

/**
 * A WebFlux application that puts a kad node on HTTP using only the starter:
 *
 * <pre>
 * PUT  /keys/{key}          body = value         -> the put result
 * GET  /keys/{key}          JSON array, or NDJSON as values arrive (Accept: application/x-ndjson)
 * GET  /keys/{key}/watch    server-sent events, one per value
 * GET  /node                id, address, routing-table summary
 * GET  /lookups/{id}        server-sent events of one lookup's progress
 * </pre>
 *
 * <p>A key is one path segment: a ';' in it must be sent encoded ({@code %3B}), as a bare one would
 * start matrix parameters. Operations that end are bounded by {@code kad.web.timeout} (10 s); the
 * watch and lookup streams one client, and all clients together, keep open are bounded too ({@link
 * StreamLimits}): past a bound the answer is a 429.
 *
 * <p>Run with {@code mvn -B -q install -DskipTests && mvn -B -q -pl examples exec:java
 * -Dexec.args="--server.port=8080 --kad.port=7000 --kad.bootstrap=127.0.0.1:7001"} (the shaded
 * {@code kad.jar} holds the command line only, without Spring).
 */
@SpringBootApplication
public class KadWebApplication {

  /**
   * Starts the application.
   *
   * @param args Spring Boot arguments, e.g. {@code --kad.bootstrap=HOST:PORT}
   */
  public static void main(String[] args) {
    SpringApplication.run(KadWebApplication.class, args);
  }

  /**
   * Reads no request body larger than a value may be: the only body this application takes is a
   * value, and WebFlux would otherwise buffer up to 256 KiB of it before the node refuses it. A
   * longer body is a 400 ({@link ProblemHandler}).
   *
   * @param node the node, whose {@code maxValueBytes} is the limit
   * @return the codec settings
   */
  @Bean
  WebFluxConfigurer valueSizedBodies(KadNode node) {
    int max = node.config().maxValueBytes();
    return new WebFluxConfigurer() {
      @Override
      public void configureHttpMessageCodecs(ServerCodecConfigurer configurer) {
        configurer.defaultCodecs().maxInMemorySize(max);
      }
    };
  }
}
