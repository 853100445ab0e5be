package dev.kad.reactor;

import dev.kad.api.Address;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.ForwardingTransport;
import java.util.ArrayList;
import java.util.List;
import reactor.core.publisher.Mono;

/** A transport that remembers every request its node sent and received. */
final class RecordingTransport extends ForwardingTransport {

  private final List<Request> sent = new ArrayList<>();
  private final List<Request> received = new ArrayList<>();

  RecordingTransport(Transport delegate) {
    super(delegate);
  }

  synchronized List<Request> sent() {
    return List.copyOf(sent);
  }

  synchronized List<Request> received() {
    return List.copyOf(received);
  }

  synchronized void clear() {
    sent.clear();
    received.clear();
  }

  @Override
  public Mono<Void> start(RequestHandler handler) {
    return super.start(
        request -> {
          synchronized (this) {
            received.add(request);
          }
          return handler.handle(request);
        });
  }

  @Override
  public Mono<Response> send(Address to, Request request) {
    return Mono.defer(
        () -> {
          synchronized (this) {
            sent.add(request);
          }
          return super.send(to, request);
        });
  }
}
