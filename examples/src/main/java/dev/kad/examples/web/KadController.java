package dev.kad.examples.web;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.KadTimeoutException;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Printable;
import dev.kad.examples.web.Views.LookupEventView;
import dev.kad.examples.web.Views.NodeView;
import dev.kad.examples.web.Views.PutView;
import dev.kad.examples.web.Views.ValueView;
import dev.kad.spring.KadNodeLifecycle;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.http.server.PathContainer;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ResponseStatusException;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The HTTP face of the node: every handler returns the node's Mono or Flux, mapped to the JSON
 * views; operations that end are bounded by {@code kad.web.timeout} as a whole.
 */
@RestController
class KadController {

  /** Keys are names up to this many UTF-8 bytes; they are hashed into the id space. */
  static final int MAX_KEY_BYTES = 1024;

  /** How often an open watch stream writes a comment when no value comes. */
  static final Duration HEARTBEAT = Duration.ofSeconds(15);

  private final KadNode node;
  private final Duration timeout;
  private final StreamLimits limits;

  /**
   * Completes when the application starts to close ({@link KadNodeLifecycle#closing()}). Watch
   * streams never end on their own, a lookup stream ends only when its lookup does, and the node
   * closes only after the web server has drained its requests: without this, an open stream would
   * hold graceful shutdown for up to its whole timeout.
   */
  private final Mono<Void> closing;

  KadController(
      KadNode node,
      @Value("${kad.web.timeout:10s}") Duration timeout,
      KadNodeLifecycle lifecycle,
      StreamLimits limits) {
    if (timeout.isNegative() || timeout.isZero()) {
      // Every put and get would be a 504.
      throw new IllegalArgumentException("kad.web.timeout must be positive but was " + timeout);
    }
    if (timeout.compareTo(KadConfig.MAX_DURATION) > 0) {
      // Reactor's timers count nanoseconds: past about 292 years every put and get failed with
      // ArithmeticException (a 500); kad's own durations stop at the same bound.
      throw new IllegalArgumentException(
          "kad.web.timeout must be at most " + KadConfig.MAX_DURATION + " but was " + timeout);
    }
    this.node = node;
    this.timeout = timeout;
    this.closing = lifecycle.closing();
    this.limits = limits;
  }

  /**
   * Stores the body under the key: 200 with the put result when another node accepted the value, or
   * when the node is the first of its network (its own copy is the only one there can be). The
   * node's put errors otherwise, even when it keeps a copy itself: 502 (they refused) or 503 (none
   * answered) with the put result in the problem ({@link ProblemHandler}). A multipart body ({@code
   * curl -F}) is refused (415) as a form body is: its envelope, boundaries and part headers, is no
   * value.
   */
  @PutMapping(value = "/keys/{key}", consumes = "!multipart/*")
  Mono<PutView> put(
      @PathVariable String key,
      @RequestBody(required = false) byte[] body,
      ServerHttpRequest request) {
    String coding = request.getHeaders().getFirst(HttpHeaders.CONTENT_ENCODING);
    if (coding != null && !coding.isBlank() && !coding.strip().equalsIgnoreCase("identity")) {
      // Nothing here decodes a request body: a gzip body would be stored compressed.
      throw new ResponseStatusException(
          HttpStatus.UNSUPPORTED_MEDIA_TYPE,
          "Content-Encoding "
              + Printable.quoted(coding)
              + " is not supported: send the value uncompressed");
    }
    byte[] value = body == null ? new byte[0] : body;
    return node.put(key(key, request), value)
        .timeout(timeout)
        .onErrorMap(TimeoutException.class, e -> timedOut("put", key))
        .map(PutView::of);
  }

  /**
   * The values as one JSON array, written only once the lookup has finished: a lookup still running
   * at the deadline is a 504, never an array cut short.
   */
  @GetMapping(value = "/keys/{key}", produces = MediaType.APPLICATION_JSON_VALUE)
  Mono<List<ValueView>> get(@PathVariable String key, ServerHttpRequest request) {
    return node.get(key(key, request))
        .map(ValueView::of)
        .collectList()
        .timeout(timeout)
        .onErrorMap(TimeoutException.class, e -> timedOut("get", key));
  }

  /**
   * The values as they arrive, one per line, for at most the timeout. Nothing is written before the
   * first value, so a deadline passing first is a 504; after it the status is sent, and the stream
   * ends cleanly with the values that came in time.
   */
  @GetMapping(value = "/keys/{key}", produces = MediaType.APPLICATION_NDJSON_VALUE)
  Flux<ValueView> stream(@PathVariable String key, ServerHttpRequest request) {
    Key k = key(key, request);
    return Flux.defer(
        () -> {
          // One timer for the whole stream: cache() keeps it running while timeout(...)
          // subscribes to it afresh after each value.
          Mono<Long> deadline = Mono.delay(timeout).cache();
          AtomicBoolean started = new AtomicBoolean();
          return node.get(k)
              .timeout(deadline, v -> deadline)
              .doOnNext(v -> started.set(true))
              .onErrorResume(
                  TimeoutException.class,
                  e -> started.get() ? Flux.empty() : Flux.error(timedOut("get", key)))
              .map(ValueView::of);
        });
  }

  /**
   * The values of the key as server-sent events, until the client leaves or the app closes. A
   * comment opens the stream, so the status and headers go out at once even for a key without
   * values (a client would otherwise wait, and an {@code EventSource} not open, until the first
   * value), and another follows every {@link #HEARTBEAT}: writing is how a server notices a client
   * that vanished without closing its connection, and that ends the watch at the DHT. One client
   * has at most {@code kad.web.max-watches-per-client} open, the application {@code
   * kad.web.max-watches} ({@link StreamLimits}); past either the answer is a 429 and no watch
   * starts.
   */
  @GetMapping(value = "/keys/{key}/watch", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  Flux<ServerSentEvent<ValueView>> watch(@PathVariable String key, ServerHttpRequest request) {
    Flux<ServerSentEvent<ValueView>> values =
        node.watch(key(key, request))
            .map(
                v ->
                    ServerSentEvent.builder(ValueView.of(v))
                        .event("value")
                        .id(v.publisher().toShortHex() + ":" + v.valueId() + ":" + v.seq())
                        .build());
    Flux<ServerSentEvent<ValueView>> heartbeats =
        Flux.interval(HEARTBEAT, HEARTBEAT)
            .onBackpressureDrop()
            .map(i -> ServerSentEvent.<ValueView>builder().comment("heartbeat").build());
    return limits
        .watches()
        .bound(
            client(request),
            Flux.merge(values, heartbeats)
                .startWith(ServerSentEvent.<ValueView>builder().comment("watching").build())
                .takeUntilOther(closing));
  }

  @GetMapping("/node")
  NodeView node() {
    return NodeView.of(node);
  }

  /**
   * The progress of one lookup as server-sent events, until it finishes or the app closes: a lookup
   * waiting on slow contacts could otherwise hold graceful shutdown for up to a hard timeout per
   * round. Cancelling it (the client leaving, or closing) cancels its requests in flight. One
   * client has at most {@code kad.web.max-lookups-per-client} open, the application {@code
   * kad.web.max-lookups} ({@link StreamLimits}); past either the answer is a 429 and no lookup
   * starts.
   */
  @GetMapping(value = "/lookups/{id}", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  Flux<ServerSentEvent<LookupEventView>> lookup(
      @PathVariable String id, ServerHttpRequest request) {
    NodeId target = NodeId.parse(id, node.config().idBits());
    return limits
        .lookups()
        .bound(
            client(request),
            node.trace(target)
                .map(
                    e -> {
                      LookupEventView view = LookupEventView.of(e);
                      return ServerSentEvent.builder(view).event(view.type()).build();
                    })
                .takeUntilOther(closing));
  }

  /**
   * The client a stream counts against: the connection's remote address, as no proxy rewrote it
   * (unless {@code server.forward-headers-strategy} says to trust one); without one, the shared
   * {@link StreamLimit#NO_ADDRESS}.
   */
  private static String client(ServerHttpRequest request) {
    return StreamLimit.clientOf(request.getRemoteAddress());
  }

  /**
   * The key named in the path. WebFlux takes a ';' in a path segment as the start of matrix
   * parameters and leaves them out of the path variable, so {@code /keys/user;99} would name the
   * key {@code user}: a bare ';' is refused, and an encoded one ({@code %3B}) is part of the key.
   */
  private static Key key(String name, ServerHttpRequest request) {
    if (request.getPath().pathWithinApplication().value().indexOf(';') >= 0) {
      throw new IllegalArgumentException(
          "key must not contain a bare ';', which starts matrix parameters: encode it as %3B");
    }
    requireUtf8(request);
    int bytes = name.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key must be at most " + MAX_KEY_BYTES + " bytes but was " + bytes);
    }
    return Key.of(name);
  }

  /**
   * Refuses a key whose percent-encoded bytes are not UTF-8. Spring decodes them leniently, each
   * bad sequence becoming U+FFFD, so {@code /keys/a%FF} and {@code /keys/a%FE} would be one key.
   */
  private static void requireUtf8(ServerHttpRequest request) {
    // The key is the segment after "keys": /keys/{key} and /keys/{key}/watch.
    String raw =
        request.getPath().pathWithinApplication().elements().stream()
            .filter(PathContainer.PathSegment.class::isInstance)
            .skip(1)
            .findFirst()
            .map(PathContainer.Element::value)
            .orElse("");
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%') {
        int hi = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
        int lo = hi >= 0 ? Character.digit(raw.charAt(i + 2), 16) : -1;
        if (lo < 0) {
          throw notUtf8();
        }
        bytes.write(hi * 16 + lo);
        i += 2;
      } else {
        bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
      }
    }
    try {
      StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray()));
    } catch (CharacterCodingException e) {
      throw notUtf8();
    }
  }

  private static IllegalArgumentException notUtf8() {
    return new IllegalArgumentException("key must be percent-encoded UTF-8");
  }

  private KadTimeoutException timedOut(String operation, String key) {
    return new KadTimeoutException(
        operation + " of key '" + key + "' did not finish within " + timeout.toMillis() + " ms");
  }
}
