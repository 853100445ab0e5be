package dev.kad.examples.web;

import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.examples.web.Views.LookupEventView;
import dev.kad.examples.web.Views.NodeView;
import dev.kad.examples.web.Views.PutView;
import dev.kad.examples.web.Views.ValueView;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.MediaType;
import org.springframework.http.codec.ServerSentEvent;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** The HTTP face of the node: every handler returns the node's Mono or Flux as it is. */
@RestController
class KadController {

  /** Keys are names up to this many UTF-8 bytes; they are hashed into the id space. */
  static final int MAX_KEY_BYTES = 1024;

  private final KadNode node;
  private final Duration timeout;

  KadController(KadNode node, @Value("${kad.web.timeout:10s}") Duration timeout) {
    this.node = node;
    this.timeout = timeout;
  }

  @PutMapping("/keys/{key}")
  Mono<PutView> put(@PathVariable String key, @RequestBody(required = false) byte[] body) {
    byte[] value = body == null ? new byte[0] : body;
    return node.put(key(key), value).timeout(timeout).map(PutView::of);
  }

  @GetMapping(
      value = "/keys/{key}",
      produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.APPLICATION_NDJSON_VALUE})
  Flux<ValueView> get(@PathVariable String key) {
    return node.get(key(key)).timeout(timeout).map(ValueView::of);
  }

  @GetMapping(value = "/keys/{key}/watch", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  Flux<ServerSentEvent<ValueView>> watch(@PathVariable String key) {
    return node.watch(key(key))
        .map(
            v ->
                ServerSentEvent.builder(ValueView.of(v))
                    .event("value")
                    .id(v.publisher().toShortHex() + ":" + v.seq())
                    .build());
  }

  @GetMapping("/node")
  NodeView node() {
    return NodeView.of(node);
  }

  @GetMapping(value = "/lookups/{id}", produces = MediaType.TEXT_EVENT_STREAM_VALUE)
  Flux<ServerSentEvent<LookupEventView>> lookup(@PathVariable String id) {
    NodeId target = NodeId.parse(id);
    return node.trace(target)
        .map(
            e -> {
              LookupEventView view = LookupEventView.of(e);
              return ServerSentEvent.builder(view).event(view.type()).build();
            });
  }

  private static Key key(String name) {
    int bytes = name.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key must be at most " + MAX_KEY_BYTES + " bytes but was " + bytes);
    }
    return Key.of(name);
  }
}
