package dev.kad.testkit;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import dev.kad.api.spi.Transport;
import java.util.Objects;
import java.util.Optional;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * A transport that passes every call to another one, for tests that change one thing about a real
 * transport (record what is sent, hold a close, never answer one request) and keep the rest. Extend
 * it and override what changes; {@link #checkCompatible(KadConfig)} and {@link #attach(NodeId,
 * KadConfig)} are passed on too, so a wrapped transport still refuses a node it cannot carry and
 * answers as the node it serves.
 */
public abstract class ForwardingTransport implements Transport {

  private final Transport delegate;

  /**
   * Wraps a transport.
   *
   * @param delegate the transport every call goes to
   */
  protected ForwardingTransport(Transport delegate) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
  }

  /**
   * The wrapped transport.
   *
   * @return the transport every call goes to
   */
  protected final Transport delegate() {
    return delegate;
  }

  @Override
  public Mono<Void> start(RequestHandler handler) {
    return delegate.start(handler);
  }

  @Override
  public Address localAddress() {
    return delegate.localAddress();
  }

  @Override
  public Mono<Response> send(Address to, Request request) {
    return delegate.send(to, request);
  }

  @Override
  public Mono<Void> close() {
    return delegate.close();
  }

  @Override
  public void checkCompatible(KadConfig config) {
    delegate.checkCompatible(config);
  }

  @Override
  public void attach(NodeId self, KadConfig config) {
    delegate.attach(self, config);
  }

  @Override
  public Optional<Scheduler> scheduler() {
    return delegate.scheduler();
  }
}
