package dev.kad.examples.web;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;

/**
 * A bound on the streams of one kind open at once: per client and in all. A stream takes its slot
 * when subscribed and gives it back once, when it ends for any reason (completion, error, or
 * cancellation, which is how a client leaving or the server closing the connection arrives); a
 * stream past either bound fails with {@link TooManyStreamsException} before it starts anything.
 *
 * <p>A client is the remote IP address ({@link #clientOf}); counts are kept only for clients with a
 * stream open, so the map is never larger than the bound in all.
 */
final class StreamLimit {

  /**
   * The one client of every request without a remote address (not one a TCP connection gives): they
   * share a single bound rather than each escaping it.
   */
  static final String NO_ADDRESS = "no-address";

  private static final Logger log = LoggerFactory.getLogger(StreamLimit.class);

  private final String streams;
  private final String property;
  private final int max;
  private final int maxPerClient;
  private final Duration retryAfter;
  private final AtomicInteger open = new AtomicInteger();
  private final Map<String, Integer> openPerClient = new ConcurrentHashMap<>();

  /**
   * Creates a bound with nothing open.
   *
   * @param streams what the streams are, for messages ({@code watch})
   * @param property the property of {@code max}; that of {@code maxPerClient} is it with {@code
   *     -per-client}
   * @param max the most streams open at once in all, positive
   * @param maxPerClient the most streams one client has open at once, positive
   * @param retryAfter what a refused client is told to wait
   * @throws IllegalArgumentException when a bound is not positive, naming its property
   */
  StreamLimit(String streams, String property, int max, int maxPerClient, Duration retryAfter) {
    this.streams = Objects.requireNonNull(streams, "streams");
    this.property = Objects.requireNonNull(property, "property");
    this.max = positive(property, max);
    this.maxPerClient = positive(property + "-per-client", maxPerClient);
    this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
  }

  private static int positive(String property, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(property + " must be positive but was " + value);
    }
    return value;
  }

  /**
   * The client a request comes from: the remote IP address, an IPv6 one as its /64 network (a host
   * is given a whole /64 and picks addresses in it at will), a remote address that was never
   * resolved as its host name, and no remote address as {@link #NO_ADDRESS}.
   *
   * @param remote the request's remote address, or null
   * @return the client's name
   */
  static String clientOf(InetSocketAddress remote) {
    if (remote == null) {
      return NO_ADDRESS;
    }
    InetAddress address = remote.getAddress();
    if (address == null) {
      return remote.getHostString();
    }
    if (address instanceof Inet6Address) {
      byte[] b = address.getAddress();
      StringBuilder network = new StringBuilder();
      for (int i = 0; i < 8; i += 2) {
        network.append(Integer.toHexString((b[i] & 0xff) << 8 | (b[i + 1] & 0xff))).append(':');
      }
      return network.append(":/64").toString();
    }
    return address.getHostAddress();
  }

  /**
   * {@code stream} holding one of {@code client}'s slots while it runs.
   *
   * <p>Subscribing takes the slot, then subscribes to {@code stream}; the slot is given back when
   * {@code stream} completes or fails (before the signal goes on) or the subscription is cancelled.
   * Past a bound, subscribing fails with {@link TooManyStreamsException} and {@code stream} is not
   * subscribed. Each subscription takes a slot of its own.
   *
   * @param client the client, as {@link #clientOf} names it
   * @param stream the stream to bound
   * @return the bounded stream
   */
  <T> Flux<T> bound(String client, Flux<T> stream) {
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(stream, "stream");
    return Flux.using(() -> acquire(client), slot -> stream, Slot::release);
  }

  /** The streams open now, of all clients. */
  int open() {
    return open.get();
  }

  /** The streams {@code client} has open now. */
  int open(String client) {
    return openPerClient.getOrDefault(client, 0);
  }

  /** How many clients have a stream open now. */
  int clients() {
    return openPerClient.size();
  }

  private Slot acquire(String client) {
    boolean[] refused = {false};
    openPerClient.compute(
        client,
        (c, n) -> {
          int now = n == null ? 0 : n;
          if (now >= maxPerClient) {
            refused[0] = true;
            return n;
          }
          return now + 1;
        });
    if (refused[0]) {
      log.debug("refused a {} stream: client={} has {} open", streams, client, maxPerClient);
      throw new TooManyStreamsException(
          "this client has "
              + maxPerClient
              + " "
              + streams
              + " streams open, the most one client may have ("
              + property
              + "-per-client): close one before opening another",
          retryAfter);
    }
    for (int now = open.get(); ; now = open.get()) {
      if (now >= max) {
        releaseOf(client);
        log.debug("refused a {} stream: {} open in all, client={}", streams, now, client);
        throw new TooManyStreamsException(
            "the server has "
                + max
                + " "
                + streams
                + " streams open, the most it keeps ("
                + property
                + "): retry later",
            retryAfter);
      }
      if (open.compareAndSet(now, now + 1)) {
        return new Slot(client);
      }
    }
  }

  private void releaseOf(String client) {
    openPerClient.computeIfPresent(client, (c, n) -> n <= 1 ? null : n - 1);
  }

  /** One stream's place under the bounds, given back once however often it is asked to be. */
  private final class Slot {
    private final String client;
    private final AtomicBoolean released = new AtomicBoolean();

    Slot(String client) {
      this.client = client;
    }

    void release() {
      if (released.compareAndSet(false, true)) {
        releaseOf(client);
        open.decrementAndGet();
      }
    }
  }
}
