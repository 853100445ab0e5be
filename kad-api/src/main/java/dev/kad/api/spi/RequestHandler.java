package dev.kad.api.spi;

import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import reactor.core.publisher.Mono;

/**
 * Answers the requests a {@link Transport} receives. The engine implements it; a transport calls it
 * once per inbound request.
 */
@FunctionalInterface
public interface RequestHandler {

  /**
   * Answers one inbound request.
   *
   * <p>Subscribing does the work: the returned {@code Mono} emits exactly one response, which the
   * transport sends back. A refused request is answered with {@link Response.Failure}, not an error
   * signal; an error signal is a bug in the handler, which the transport answers with {@code
   * Failure(INTERNAL)}. Cancelling abandons the answer.
   *
   * @param request the request, already decoded and checked for well-formedness
   * @return the response
   */
  Mono<Response> handle(Request request);
}
