package dev.kad.reactor;

import dev.kad.api.message.Request;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import dev.kad.testkit.ForwardingTransport;
import reactor.core.publisher.Mono;

/**
 * A node of an earlier version: it reads no token, so it holds its subscriptions without one,
 * echoes none and pushes none (what the TCP transport makes of a new node's requests to a peer
 * whose preface lacks the flag).
 */
final class OlderPeer extends ForwardingTransport {

  OlderPeer(Transport delegate) {
    super(delegate);
  }

  /** Joins {@code n} nodes of the earlier version to {@code c}, through its node 0. */
  static void join(Cluster c, int n) {
    for (int i = 0; i < n; i++) {
      c.join(c.builder().transport(new OlderPeer(c.network.newTransport())));
    }
  }

  @Override
  public Mono<Void> start(RequestHandler handler) {
    return super.start(request -> handler.handle(untokened(request)));
  }

  private static Request untokened(Request request) {
    if (request instanceof Request.Subscribe r) {
      return r.withToken(0);
    } else if (request instanceof Request.Unsubscribe r) {
      return r.withToken(0);
    }
    return request;
  }
}
