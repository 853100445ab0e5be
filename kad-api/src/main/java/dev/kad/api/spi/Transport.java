package dev.kad.api.spi;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.util.Optional;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * Carries requests between nodes. The engine talks only to this interface, so the in-memory
 * transport of the testkit and the TCP transport are interchangeable.
 *
 * <p>Contract every implementation keeps (the testkit's {@code TransportContract} checks it):
 *
 * <ul>
 *   <li>{@link #attach(NodeId, KadConfig)} is called before {@link #start(RequestHandler)}, which
 *       succeeds once, before {@link #send}; inbound requests go to the handler from then on,
 *       possibly concurrently. A start that failed or was cancelled before it bound leaves the
 *       transport unstarted, so it may be attached and started again (a node's builder retries so).
 *   <li>{@link #send} emits exactly one response or one error; errors are {@link
 *       dev.kad.api.KadException}s ({@link dev.kad.api.UnreachableContactException} when the peer
 *       cannot be reached or the connection is lost, {@link dev.kad.api.KadTimeoutException} when
 *       the transport's own timeout passes, {@link dev.kad.api.NodeClosedException} after {@link
 *       #close()}).
 *   <li>Responses are matched to their requests: a response never reaches the wrong caller.
 *   <li>Nothing blocks the caller's thread.
 * </ul>
 */
public interface Transport {

  /**
   * Checks that this transport carries what a node running with {@code config} sends and accepts.
   * Building a node on this transport calls it, so a transport set up for ids of another width or
   * smaller values than the node's fails at once, naming the setting, instead of as peers that
   * never answer. The default accepts every configuration; a transport that wraps another should
   * pass the call on.
   *
   * @param config the configuration of the node that is to use this transport
   * @throws IllegalArgumentException naming the setting and both values when the transport cannot
   *     carry such a node's messages (ids of another width, larger values or frames)
   */
  default void checkCompatible(KadConfig config) {}

  /**
   * Prepares this transport to serve the node {@code self} runs with {@code config}: building a
   * node calls it once, before {@link #start(RequestHandler)}. It checks, as {@link
   * #checkCompatible(KadConfig)} does, that the transport carries such a node's messages, and lets
   * a transport that answers some requests itself (a refusal over a rate limit, an internal
   * failure) answer them as {@code self}: a peer takes an answer from an id other than the one it
   * asked as a sign that the node it asked is gone. The default only checks; a transport that wraps
   * another should pass the call on.
   *
   * @param self the id of the node this transport is to serve
   * @param config the configuration of that node
   * @throws IllegalArgumentException as {@link #checkCompatible(KadConfig)} does, or when the
   *     transport was built for a node of another id or already serves one
   */
  default void attach(NodeId self, KadConfig config) {
    checkCompatible(config);
  }

  /**
   * The scheduler a node on this transport must run on, when the transport has one: a simulated
   * network delivers messages on its own clock, and a node whose timers ran on another (virtual
   * time against real time) would time out requests the network has not delivered yet, or never.
   * Building a node without a scheduler takes this one; building it with another fails. The default
   * has none (the TCP transport delivers in real time whatever the node's scheduler); a transport
   * that wraps another should pass the call on.
   *
   * @return the scheduler every node on this transport shares, or empty
   */
  default Optional<Scheduler> scheduler() {
    return Optional.empty();
  }

  /**
   * Starts serving inbound requests with {@code handler}.
   *
   * <p>Subscribing binds whatever the transport listens on; the {@code Mono} completes when
   * requests can be received and {@link #localAddress()} is known, and errors when binding fails.
   * Starting a started transport is an error; one whose start failed or was cancelled before it
   * bound may be started again. A start cancelled as it binds leaves the transport either serving
   * or unstarted, and {@link #localAddress()} tells which once the cancel returned (a node closes a
   * transport its cancelled start left serving): an implementation never serves without knowing its
   * address.
   *
   * @param handler answers every inbound request
   * @return completes once the transport is serving
   */
  Mono<Void> start(RequestHandler handler);

  /**
   * The address other nodes dial to reach this one (the advertised address, when it differs from
   * the bound one).
   *
   * @return the local address
   * @throws IllegalStateException before {@link #start(RequestHandler)} completed
   */
  Address localAddress();

  /**
   * Sends a request and waits for its response.
   *
   * <p>Nothing is sent until subscription. The {@code Mono} emits the peer's response, which may be
   * a {@link Response.Failure}, or errors as the class contract says. Cancelling abandons the
   * request: a late response is dropped.
   *
   * @param to the address of the peer
   * @param request the request
   * @return the response
   */
  Mono<Response> send(Address to, Request request);

  /**
   * Stops the transport: no new requests are accepted or sent, pending ones fail with {@link
   * dev.kad.api.NodeClosedException}, and every resource is released.
   *
   * <p>Subscribing starts the shutdown; the {@code Mono} completes when it is finished. Closing
   * twice is harmless.
   *
   * @return completes when closed
   */
  Mono<Void> close();
}
