package dev.kad.examples.web;

import dev.kad.api.Printable;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.core.Ordered;
import org.springframework.core.ResolvableType;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.util.MimeTypeUtils;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;

/**
 * Answers a request whose {@code Accept} header Spring cannot read with a 406 problem, before any
 * handler runs. Spring reads the header again to write every answer, the problem included: an
 * unparsable header ({@code Accept: garbage}, {@code q=x}) got a 406 without a body, or Spring
 * Boot's error JSON, and one of more than {@value #MAX_ACCEPTED_TYPES} media types, which Spring
 * refuses to sort, a 500 with a stack trace logged at ERROR on every route.
 */
@Component
class AcceptHeaderFilter implements WebFilter, Ordered {

  /** The most media types Spring sorts ({@link MimeTypeUtils#sortBySpecificity}). */
  static final int MAX_ACCEPTED_TYPES = 50;

  private static final ResolvableType PROBLEM = ResolvableType.forClass(ProblemDetail.class);

  private final ObjectProvider<ServerCodecConfigurer> codecs;

  AcceptHeaderFilter(ObjectProvider<ServerCodecConfigurer> codecs) {
    this.codecs = codecs;
  }

  @Override
  public int getOrder() {
    return Ordered.HIGHEST_PRECEDENCE;
  }

  @Override
  public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
    ServerHttpRequest request = exchange.getRequest();
    String reason = reason(request.getHeaders().get(HttpHeaders.ACCEPT));
    if (reason == null) {
      return chain.filter(exchange);
    }
    ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_ACCEPTABLE, reason);
    problem.setTitle("Not Acceptable");
    problem.setInstance(URI.create(request.getPath().value()));
    ServerHttpResponse response = exchange.getResponse();
    response.setStatusCode(HttpStatus.NOT_ACCEPTABLE);
    return writer()
        .write(Mono.just(problem), PROBLEM, MediaType.APPLICATION_PROBLEM_JSON, response, Map.of());
  }

  /**
   * Why Spring cannot read the {@code Accept} header's values, or null when it can (or there are
   * none): it parses them and sorts them by specificity, as its content negotiation does.
   */
  static String reason(List<String> values) {
    if (values == null || values.isEmpty()) {
      return null;
    }
    String header = String.join(", ", values);
    List<MediaType> types;
    try {
      types = new ArrayList<>(MediaType.parseMediaTypes(values));
    } catch (IllegalArgumentException e) {
      return "the Accept header "
          + Printable.quoted(header)
          + " is not a list of media types: "
          + cause(e)
          + " (e.g. Accept: application/json)";
    }
    if (types.size() > MAX_ACCEPTED_TYPES) {
      return "the Accept header names "
          + types.size()
          + " media types, more than the "
          + MAX_ACCEPTED_TYPES
          + " this server reads";
    }
    try {
      MimeTypeUtils.sortBySpecificity(types);
      return null;
    } catch (IllegalArgumentException e) {
      return "the Accept header " + Printable.quoted(header) + " cannot be sorted: " + cause(e);
    }
  }

  /** Spring's reason without the header it quotes again in full. */
  private static String cause(IllegalArgumentException e) {
    String message = String.valueOf(e.getMessage());
    int at = message.lastIndexOf("\": ");
    return at >= 0 ? message.substring(at + 3) : message;
  }

  @SuppressWarnings("unchecked") // canWrite checked that it writes a ProblemDetail
  private HttpMessageWriter<ProblemDetail> writer() {
    for (HttpMessageWriter<?> writer : codecs.getObject().getWriters()) {
      if (writer.canWrite(PROBLEM, MediaType.APPLICATION_PROBLEM_JSON)) {
        return (HttpMessageWriter<ProblemDetail>) writer;
      }
    }
    throw new IllegalStateException("no JSON writer for a problem");
  }
}
