package dev.kad.transport.tcp;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import java.util.List;
import reactor.core.publisher.Mono;

/**
 * Answers every request type with the matching response; a {@code FindNode} is answered with one
 * contact whose id is the target, so tests can tell which request a response belongs to.
 */
final class EchoHandler implements RequestHandler {

  final Contact self;

  EchoHandler(int seed) {
    this.self = Messages.contact(seed, new Address("127.0.0.1", 1));
  }

  @Override
  public Mono<Response> handle(Request request) {
    return Mono.fromSupplier(() -> answer(request));
  }

  Response answer(Request request) {
    if (request instanceof Request.FindNode r) {
      return new Response.NodesFound(self, List.of(new Contact(r.target(), self.address())));
    } else if (request instanceof Request.FindValue) {
      return new Response.ValuesFound(self, List.of(Messages.value(10)), List.of(self));
    } else if (request instanceof Request.Store r) {
      return new Response.Stored(self, r.values().size(), List.of());
    } else if (request instanceof Request.Subscribe r) {
      return new Response.Subscribed(self, r.ttl());
    }
    return new Response.Pong(self);
  }
}
