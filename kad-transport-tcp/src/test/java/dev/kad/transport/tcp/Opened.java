package dev.kad.transport.tcp;

import dev.kad.api.spi.RequestHandler;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import reactor.core.publisher.Flux;

/**
 * What a test of raw peers opened: transports, the raw peers' sockets and listening sockets, closed
 * by {@link #close()} after the test, sockets first, so that transports close without live peers.
 */
final class Opened implements AutoCloseable {

  private final Duration bound;
  private final List<TcpTransport> transports = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();
  private final List<ServerSocket> listeners = new ArrayList<>();

  /**
   * @param bound how long starting or closing a transport may take
   */
  Opened(Duration bound) {
    this.bound = bound;
  }

  /**
   * A transport with the default options changed by {@code options}, started with {@code handler}.
   */
  TcpTransport started(RequestHandler handler, Consumer<TcpTransportOptions.Builder> options) {
    TcpTransportOptions.Builder b = TcpTransportOptions.builder();
    options.accept(b);
    TcpTransport t = transport(TcpTransport.create(b.build()));
    t.start(handler).block(bound);
    return t;
  }

  /** {@code transport}, closed after the test. */
  TcpTransport transport(TcpTransport transport) {
    transports.add(transport);
    return transport;
  }

  /** {@code socket}, closed after the test. */
  Socket socket(Socket socket) {
    sockets.add(socket);
    return socket;
  }

  /** {@code listener}, closed after the test. */
  ServerSocket listener(ServerSocket listener) {
    listeners.add(listener);
    return listener;
  }

  /** The sockets opened so far. */
  List<Socket> sockets() {
    return List.copyOf(sockets);
  }

  /** Closes the sockets opened so far, ahead of the rest. */
  void closeSockets() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    sockets.clear();
  }

  @Override
  public void close() throws IOException {
    closeSockets();
    for (ServerSocket l : listeners) {
      l.close();
    }
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(bound);
  }
}
