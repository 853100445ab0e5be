package dev.kad.examples.web;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Map;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.reactor.netty.NettyRouteProvider;
import org.springframework.core.ResolvableType;
import org.springframework.core.codec.Encoder;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.core.io.buffer.DefaultDataBufferFactory;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.codec.EncoderHttpMessageWriter;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import reactor.netty.http.server.HttpServerRequest;
import reactor.netty.http.server.HttpServerResponse;
import reactor.netty.http.server.HttpServerRoutes;

/**
 * Answers a request whose target is not a URI (a malformed percent escape such as {@code /keys/%zz}
 * or {@code /keys/abc%}, or a character a URI may not hold) with the application's 400 problem.
 * Spring's Reactor Netty adapter cannot build such a request's URI and answers an empty 400 before
 * any filter, handler or advice runs, so this check is a Reactor Netty route ahead of the
 * application's, and encodes its problem with the application's own JSON encoder.
 */
@Component
class MalformedTargetRoute implements NettyRouteProvider {

  private static final ResolvableType PROBLEM = ResolvableType.forClass(ProblemDetail.class);

  private final ObjectProvider<ServerCodecConfigurer> codecs;

  /** Resolved at the first malformed target: the codecs are not built when the server is. */
  private volatile Encoder<ProblemDetail> encoder;

  MalformedTargetRoute(ObjectProvider<ServerCodecConfigurer> codecs) {
    this.codecs = codecs;
  }

  @Override
  public HttpServerRoutes apply(HttpServerRoutes routes) {
    return routes.route(r -> reason(r) != null, this::answer);
  }

  /**
   * Why Spring cannot build the request's URI, or null when it can. It builds {@code
   * scheme://host:port[forwarded prefix]target} (from an absolute-form target only the part from
   * the path on) and escapes the host itself, so only the prefix and the target can fail it.
   */
  static String reason(HttpServerRequest request) {
    String prefix = request.forwardedPrefix() == null ? "" : request.forwardedPrefix();
    String target = pathAndQuery(request.uri());
    String base = "http://localhost";
    try {
      new URI(base + prefix + target);
      return null;
    } catch (URISyntaxException e) {
      int at = e.getIndex() - base.length() - prefix.length();
      return e.getReason() + (at >= 0 ? " at index " + at : "");
    }
  }

  /** The target as Spring appends it: an absolute-form target loses its scheme and authority. */
  private static String pathAndQuery(String uri) {
    for (int i = 0; i < uri.length(); i++) {
      char c = uri.charAt(i);
      if (c == '/' || c == '?' || c == '#') {
        break;
      }
      if (c == ':' && uri.startsWith("//", i + 1)) {
        for (int j = i + 3; j < uri.length(); j++) {
          char d = uri.charAt(j);
          if (d == '/' || d == '?' || d == '#') {
            return uri.substring(j);
          }
        }
        return "";
      }
    }
    return uri;
  }

  private Mono<Void> answer(HttpServerRequest request, HttpServerResponse response) {
    ProblemDetail problem =
        ProblemDetail.forStatusAndDetail(
            HttpStatus.BAD_REQUEST,
            "the request target is not a valid URI ("
                + reason(request)
                + "): a '%' must start an escape of two hex digits (send a '%' itself as %25),"
                + " and other characters outside URIs must be percent-encoded too");
    problem.setTitle("Bad input");
    byte[] json = encode(problem);
    return response
        .status(HttpStatus.BAD_REQUEST.value())
        .header(HttpHeaders.CONTENT_TYPE, MediaType.APPLICATION_PROBLEM_JSON_VALUE)
        .header(HttpHeaders.CONTENT_LENGTH, Integer.toString(json.length))
        .sendByteArray(Mono.just(json))
        .then();
  }

  private byte[] encode(ProblemDetail problem) {
    DataBuffer buffer =
        encoder()
            .encodeValue(
                problem,
                DefaultDataBufferFactory.sharedInstance,
                PROBLEM,
                MediaType.APPLICATION_PROBLEM_JSON,
                Map.of());
    try {
      byte[] bytes = new byte[buffer.readableByteCount()];
      buffer.read(bytes);
      return bytes;
    } finally {
      DataBufferUtils.release(buffer);
    }
  }

  private Encoder<ProblemDetail> encoder() {
    Encoder<ProblemDetail> e = encoder;
    if (e == null) {
      e = find(codecs.getObject());
      encoder = e;
    }
    return e;
  }

  @SuppressWarnings("unchecked") // canWrite checked that it encodes a ProblemDetail
  private static Encoder<ProblemDetail> find(ServerCodecConfigurer configurer) {
    for (HttpMessageWriter<?> writer : configurer.getWriters()) {
      if (writer instanceof EncoderHttpMessageWriter<?> w
          && w.canWrite(PROBLEM, MediaType.APPLICATION_PROBLEM_JSON)) {
        return (Encoder<ProblemDetail>) w.getEncoder();
      }
    }
    throw new IllegalStateException("no JSON encoder for a problem");
  }
}
