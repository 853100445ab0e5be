package dev.kad.examples.web;

import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.NoStoreAnsweredException;
import dev.kad.api.NodeClosedException;
import dev.kad.api.PutResult;
import dev.kad.api.StoreRejectedException;
import dev.kad.api.UnreachableContactException;
import dev.kad.examples.web.Views.PutView;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.codec.DecodingException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.InvalidMediaTypeException;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.server.ContentTooLargeException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.ServerWebInputException;

/**
 * Maps failures to problem responses (RFC 9457): bad input 400, a DHT timeout 504, a refused store
 * 502, no reachable node 503, a failed put with its result (which says whether this node keeps a
 * copy), a stream past its bound 429 with a {@code Retry-After}. Never a stack trace in a response.
 * A request target that is not a URI never reaches Spring's handlers: {@link MalformedTargetRoute}
 * answers it; nor does a request whose {@code Accept} header Spring cannot read: {@link
 * AcceptHeaderFilter} answers it.
 */
@RestControllerAdvice
class ProblemHandler {

  private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

  private final int maxValueBytes;

  ProblemHandler(KadNode node) {
    this.maxValueBytes = node.config().maxValueBytes();
  }

  @ExceptionHandler({
    IllegalArgumentException.class,
    ServerWebInputException.class,
    DecodingException.class
  })
  ResponseEntity<ProblemDetail> badInput(Exception e) {
    return problem(HttpStatus.BAD_REQUEST, "Bad input", e.getMessage());
  }

  /**
   * A body past the codec limit, which is the largest value ({@link KadWebApplication}): a value
   * too large, 400 like the node's own refusal, whatever the length, and read no further.
   */
  @ExceptionHandler(ContentTooLargeException.class)
  ResponseEntity<ProblemDetail> tooLarge(ContentTooLargeException e) {
    return problem(
        HttpStatus.BAD_REQUEST,
        "Bad input",
        "the value exceeds maxValueBytes " + maxValueBytes + " (kad.max-value-bytes)");
  }

  @ExceptionHandler(KadTimeoutException.class)
  ResponseEntity<ProblemDetail> timeout(KadTimeoutException e) {
    return problem(HttpStatus.GATEWAY_TIMEOUT, "DHT timeout", e.getMessage());
  }

  /** Reactor's own timeout message names its operators, nothing the client knows: not shown. */
  @ExceptionHandler(TimeoutException.class)
  ResponseEntity<ProblemDetail> timeout(TimeoutException e) {
    return problem(HttpStatus.GATEWAY_TIMEOUT, "DHT timeout", "the DHT did not answer in time");
  }

  /**
   * A put no node accepted: 502, with the put result as the problem's {@code put} member, in the
   * JSON a successful put answers, so the client sees whether this node keeps a copy; 503 with a
   * {@code Retry-After} of a second when every node refused only for the moment (over its rate
   * limit), as a retry may then succeed.
   */
  @ExceptionHandler(StoreRejectedException.class)
  ResponseEntity<ProblemDetail> rejected(StoreRejectedException e) {
    if (e.isTransient()) {
      ResponseEntity<ProblemDetail> busy =
          problem(HttpStatus.SERVICE_UNAVAILABLE, "DHT busy", e.getMessage());
      return withPut(
          ResponseEntity.status(busy.getStatusCode())
              .headers(busy.getHeaders())
              .header(HttpHeaders.RETRY_AFTER, "1")
              .body(busy.getBody()),
          e.putResult());
    }
    return withPut(
        problem(HttpStatus.BAD_GATEWAY, "Store rejected", e.getMessage()), e.putResult());
  }

  /** A put no other node answered: 503, with the put result as the problem's {@code put} member. */
  @ExceptionHandler(NoStoreAnsweredException.class)
  ResponseEntity<ProblemDetail> unanswered(NoStoreAnsweredException e) {
    return withPut(
        problem(HttpStatus.SERVICE_UNAVAILABLE, "DHT unavailable", e.getMessage()), e.putResult());
  }

  /**
   * A stream past a {@link StreamLimit}: 429 with a {@code Retry-After} in whole seconds, at least
   * one.
   */
  @ExceptionHandler(TooManyStreamsException.class)
  ResponseEntity<ProblemDetail> tooManyStreams(TooManyStreamsException e) {
    ProblemDetail p =
        ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS, e.getMessage());
    p.setTitle("Too many streams");
    Duration wait = e.retryAfter();
    long seconds = Math.max(1, wait.getSeconds() + (wait.getNano() > 0 ? 1 : 0));
    return ResponseEntity.status(p.getStatus())
        .header(HttpHeaders.RETRY_AFTER, Long.toString(seconds))
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(p);
  }

  @ExceptionHandler({UnreachableContactException.class, NodeClosedException.class})
  ResponseEntity<ProblemDetail> unavailable(KadException e) {
    return problem(HttpStatus.SERVICE_UNAVAILABLE, "DHT unavailable", e.getMessage());
  }

  private static ResponseEntity<ProblemDetail> withPut(
      ResponseEntity<ProblemDetail> answer, Optional<PutResult> put) {
    put.ifPresent(r -> answer.getBody().setProperty("put", PutView.of(r)));
    return answer;
  }

  @ExceptionHandler(KadException.class)
  ResponseEntity<ProblemDetail> other(KadException e) {
    return problem(HttpStatus.BAD_GATEWAY, "DHT error", e.getMessage());
  }

  /**
   * Spring's own rejections (415, 406, 405...) keep their status and problem body. A 415 of a form
   * body gets a detail saying what to send: Spring gives none for a URL-encoded form, which is what
   * {@code curl --data-binary} sends without {@code -H 'Content-Type: ...'}, and only "not
   * supported" for a multipart one ({@code curl -F}), so the answer did not say what to change.
   */
  @ExceptionHandler(ErrorResponseException.class)
  ResponseEntity<ProblemDetail> spring(ErrorResponseException e, ServerWebExchange exchange) {
    ProblemDetail body = e.getBody();
    MediaType type = contentType(exchange);
    if (body.getStatus() == HttpStatus.UNSUPPORTED_MEDIA_TYPE.value()
        && (body.getDetail() == null || (type != null && type.getType().equals("multipart")))) {
      body.setDetail(
          (type == null ? "a request without a Content-Type" : "Content-Type '" + type + "'")
              + " is not taken for a value: send its bytes as text/plain or"
              + " application/octet-stream (curl: -H 'Content-Type: text/plain' --data-binary"
              + " VALUE)");
    }
    return respond(body);
  }

  /** The request's Content-Type, or null when it has none or one that does not parse. */
  private static MediaType contentType(ServerWebExchange exchange) {
    try {
      return exchange.getRequest().getHeaders().getContentType();
    } catch (InvalidMediaTypeException e) {
      return null;
    }
  }

  @ExceptionHandler(Exception.class)
  ResponseEntity<ProblemDetail> unexpected(Exception e) {
    log.warn("request failed unexpectedly", e);
    return problem(
        HttpStatus.INTERNAL_SERVER_ERROR,
        "Internal error",
        "the request failed; see the server log");
  }

  private static ResponseEntity<ProblemDetail> problem(
      HttpStatus status, String title, String detail) {
    ProblemDetail p = ProblemDetail.forStatusAndDetail(status, detail);
    p.setTitle(title);
    return respond(p);
  }

  /**
   * The problem as {@code application/problem+json} whatever the request accepts: a client of an
   * event stream (EventSource sends {@code Accept: text/event-stream}) would otherwise get the
   * problem as an event.
   */
  private static ResponseEntity<ProblemDetail> respond(ProblemDetail p) {
    return ResponseEntity.status(p.getStatus())
        .contentType(MediaType.APPLICATION_PROBLEM_JSON)
        .body(p);
  }
}
