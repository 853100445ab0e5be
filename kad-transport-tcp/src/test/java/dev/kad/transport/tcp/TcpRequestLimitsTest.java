package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The checks a transport makes of inbound requests before they reach the node, over loopback:
 * {@code maxRequestsPerSecondPerIp} (every test peer is on this host, which is exempt unless {@code
 * perIpLimitForLocalPeers}) and {@code checkSenderAddress}.
 */
class TcpRequestLimitsTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  private final List<TcpTransport> transports = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();

  @AfterEach
  void closeAll() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
  }

  private TcpTransport started(RequestHandler handler, Consumer<TcpTransportOptions.Builder> opts) {
    TcpTransportOptions.Builder b = TcpTransportOptions.builder();
    opts.accept(b);
    TcpTransport t = TcpTransport.create(b.build());
    transports.add(t);
    t.start(handler).block(BOUND);
    return t;
  }

  private TcpTransport client() {
    return started(new EchoHandler(2), b -> {});
  }

  /** A server on 127.0.0.1 with a bound of {@code perSecond} that applies to local peers too. */
  private TcpTransport limited(RequestHandler handler, int perSecond) {
    return started(
        handler, b -> b.maxRequestsPerSecondPerIp(perSecond).perIpLimitForLocalPeers(true));
  }

  private static Mono<Response> ping(TcpTransport from, TcpTransport to) {
    return from.send(to.localAddress(), new Request.Ping(Messages.contact(2, from.localAddress())));
  }

  /** Sends {@code n} pings at once and collects the answers. */
  private static List<Response> burst(TcpTransport from, TcpTransport to, int n) {
    return Flux.range(0, n).flatMap(i -> ping(from, to), n).collectList().block(BOUND);
  }

  private static boolean rateLimited(Response r) {
    return r instanceof Response.Failure f && f.code() == Response.Code.RATE_LIMITED;
  }

  /** Counts the requests that reached the node. */
  private static final class Counting implements RequestHandler {
    final AtomicInteger handled = new AtomicInteger();
    final EchoHandler echo = new EchoHandler(1);

    @Override
    public Mono<Response> handle(Request request) {
      handled.incrementAndGet();
      return echo.handle(request);
    }
  }

  /**
   * A ping from a raw peer whose socket is bound to {@code localIp} (another loopback address is
   * another source), claiming {@code claimedHost} as its address; returns the answer's body.
   */
  private String rawPing(TcpTransport server, String localIp, String claimedHost)
      throws IOException {
    return rawPings(server, localIp, claimedHost, 1).get(0);
  }

  /** {@code n} pings on one connection, as {@link #rawPing}; returns the answers' bodies. */
  private List<String> rawPings(TcpTransport server, String localIp, String claimedHost, int n)
      throws IOException {
    Socket s = new Socket();
    sockets.add(s);
    s.setSoTimeout((int) BOUND.toMillis());
    s.bind(new InetSocketAddress(localIp, 0));
    s.connect(
        new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
    byte[] preface = new byte[38];
    preface[0] = 'K';
    preface[1] = 'A';
    preface[2] = 'D';
    preface[3] = 2;
    String sender =
        "{\"id\":\""
            + Base64.getEncoder().encodeToString(new byte[20])
            + "\",\"host\":\""
            + claimedHost
            + "\",\"port\":9}";
    s.getOutputStream().write(preface);
    InputStream in = s.getInputStream();
    List<String> answers = new ArrayList<>();
    for (int rid = 1; rid <= n; rid++) {
      byte[] body =
          ("{\"rid\":" + rid + ",\"msg\":{\"type\":\"ping\",\"sender\":" + sender + "}}")
              .getBytes(StandardCharsets.UTF_8);
      s.getOutputStream()
          .write(ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array());
      s.getOutputStream().flush();
      if (rid == 1) {
        assertThat(in.readNBytes(preface.length)).startsWith('K', 'A', 'D');
      }
      int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
      answers.add(new String(in.readNBytes(length), StandardCharsets.UTF_8));
    }
    return answers;
  }

  @Test
  void aBurstOverTheRateIsAnsweredRateLimitedWithoutReachingTheNodeAndCounted() throws IOException {
    Counting node = new Counting();
    TcpTransport server = limited(node, 20);
    TcpTransport client = client();

    List<Response> answers = burst(client, server, 100);

    List<Response> refused = answers.stream().filter(TcpRequestLimitsTest::rateLimited).toList();
    long passed = answers.stream().filter(Response.Pong.class::isInstance).count();
    assertThat(refused).isNotEmpty();
    assertThat(passed).as("a full bucket's worth passes").isGreaterThanOrEqualTo(20);
    assertThat(passed + refused.size()).isEqualTo(100);
    assertThat(node.handled).as("refused requests never reach the node").hasValue((int) passed);
    assertThat(((Response.Failure) refused.get(0)).message())
        .isEqualTo("more than 20 requests a second from 127.0.0.1 (maxRequestsPerSecondPerIp)");
    assertThat(refused.get(0).sender().address()).isEqualTo(server.localAddress());
    assertThat(server.stats().rateLimitedRequests()).isEqualTo(refused.size());
    assertThat(server.stats().violations()).isZero();
    // another source, 127.0.0.2, has a bucket of its own
    assertThat(rawPing(server, "127.0.0.2", "127.0.0.2")).contains("\"type\":\"pong\"");
  }

  @Test
  void requestsWithinTheRateAreAllAnswered() {
    TcpTransport server = limited(new EchoHandler(1), 50);
    TcpTransport client = client();

    assertThat(burst(client, server, 50)).hasSize(50).allMatch(Response.Pong.class::isInstance);
    assertThat(server.stats().rateLimitedRequests()).isZero();
  }

  @Test
  void peersOnThisHostAreNotRateLimitedByDefault() {
    TcpTransport server = started(new EchoHandler(1), b -> {});
    TcpTransport client = client();
    int n = server.options().maxRequestsPerSecondPerIp() + 500;

    List<Response> answers =
        Flux.range(0, n).flatMap(i -> ping(client, server), 128).collectList().block(BOUND);

    assertThat(answers).hasSize(n).allMatch(Response.Pong.class::isInstance);
    assertThat(server.stats().rateLimitedRequests()).isZero();
  }

  @Test
  void aBucketRefillsAtTheRate() {
    TcpTransport server = limited(new EchoHandler(1), 5);
    TcpTransport client = client();
    long start = System.nanoTime();
    assertThat(burst(client, server, 10)).anyMatch(TcpRequestLimitsTest::rateLimited);

    // retried every 20 ms, at most 200 times: a token comes back 200 ms after the burst
    Response refilled =
        ping(client, server)
            .filter(Response.Pong.class::isInstance)
            .repeatWhenEmpty(200, tries -> tries.delayElements(Duration.ofMillis(20)))
            .block(BOUND);

    assertThat(refilled).isInstanceOf(Response.Pong.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("one token takes a fifth of a second to come back")
        .isGreaterThanOrEqualTo(Duration.ofMillis(150));
  }

  @Test
  void aSourcesBucketIsDroppedOnceItsConnectionsClosedAndItRefilled() {
    TcpTransport server = limited(new EchoHandler(1), 50);
    TcpTransport client = client();
    burst(client, server, 60);
    assertThat(server.rateLimitedSources()).isEqualTo(1);

    client.close().block(BOUND);

    Await.until("the bucket to be dropped", () -> server.rateLimitedSources() == 0);
  }

  @Test
  void aRateOutOfRangeIsRefusedNamingIt() {
    assertThatThrownBy(() -> TcpTransportOptions.builder().maxRequestsPerSecondPerIp(-1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxRequestsPerSecondPerIp must be in [0, 1000000] but was -1");
    assertThat(TcpTransportOptions.defaults().maxRequestsPerSecondPerIp()).isEqualTo(1000);
    // 0 turns the bound off
    TcpTransport server = started(new EchoHandler(1), b -> b.maxRequestsPerSecondPerIp(0));
    assertThat(burst(client(), server, 10)).allMatch(Response.Pong.class::isInstance);
    assertThat(server.rateLimitedSources()).isZero();
  }

  private static final String PONG = "\"type\":\"pong\"";

  @Test
  void aSenderClaimingAnotherHostsIpIsRefusedAsInvalidAndHonestPeersAreServed() throws IOException {
    Counting node = new Counting();
    TcpTransport server = started(node, b -> b.checkSenderAddress(true));

    String refused = rawPing(server, "127.0.0.1", "192.0.2.1");

    assertThat(refused)
        .contains("\"type\":\"failure\"")
        .contains("INVALID")
        .contains("sender claims 192.0.2.1:9 but the connection comes from 127.0.0.1");
    assertThat(node.handled).as("a refused request never reaches the node").hasValue(0);
    assertThat(server.stats().spoofedSenders()).isEqualTo(1);
    assertThat(server.stats().violations()).isZero();
    // an honest node on 127.0.0.1 claims 127.0.0.1
    assertThat(ping(client(), server).block(BOUND)).isInstanceOf(Response.Pong.class);
    // both on this host: 127.0.0.2 may claim 127.0.0.1
    assertThat(rawPing(server, "127.0.0.2", "127.0.0.1")).contains(PONG);
    // an IPv4-mapped IPv6 literal is its IPv4 address
    assertThat(rawPing(server, "127.0.0.1", "::ffff:127.0.0.1")).contains(PONG);
    assertThat(server.stats().spoofedSenders()).isEqualTo(1);
  }

  @Test
  void senderAddressesAreNotCheckedByDefault() throws IOException {
    TcpTransport server = started(new EchoHandler(1), b -> {});
    assertThat(server.options().checkSenderAddress()).isFalse();

    assertThat(rawPing(server, "127.0.0.1", "192.0.2.1")).contains(PONG);
    assertThat(server.stats().spoofedSenders()).isZero();
  }

  @Test
  void aClaimedHostNameIsLookedUpOncePerConnectionAndPassesWhenAnyAddressMatches()
      throws IOException {
    AtomicInteger lookups = new AtomicInteger();
    Function<String, Mono<List<InetAddress>>> names =
        host ->
            Mono.fromCallable(
                () -> {
                  lookups.incrementAndGet();
                  return switch (host) {
                    case "honest.test" ->
                        List.of(
                            InetAddress.getByAddress(host, new byte[] {(byte) 192, 0, 2, 9}),
                            InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1}));
                    case "liar.test" ->
                        List.of(InetAddress.getByAddress(host, new byte[] {(byte) 192, 0, 2, 1}));
                    default -> throw new UnknownHostException(host);
                  };
                });
    TcpTransport server =
        TcpTransport.create(
            TcpTransportOptions.builder().checkSenderAddress(true).build(),
            a -> Mono.never(),
            names);
    transports.add(server);
    server.start(new EchoHandler(1)).block(BOUND);

    assertThat(rawPings(server, "127.0.0.1", "honest.test", 3)).allMatch(b -> b.contains(PONG));
    assertThat(lookups).as("one look-up for the connection").hasValue(1);
    assertThat(rawPings(server, "127.0.0.1", "liar.test", 2))
        .allMatch(
            b -> b.contains("sender claims liar.test:9 but the connection comes from 127.0.0.1"));
    assertThat(rawPing(server, "127.0.0.1", "nowhere.test")).contains("INVALID");
    assertThat(lookups).hasValue(3);
    assertThat(server.stats().spoofedSenders()).isEqualTo(3);
  }

  private static byte[] ip(String literal) {
    return NetUtil.createByteArrayFromIpAddressString(literal);
  }

  private static InetSocketAddress at(String literal) {
    return new InetSocketAddress(literal, 7000);
  }

  @Test
  void aClaimedIpMustBeTheConnectionsUnlessBothAreOnThisHost() {
    InetSocketAddress local = at("10.0.0.5");
    // the same IP, an IPv4-mapped IPv6 literal included
    assertThat(TcpTransport.senderMatches(ip("192.0.2.1"), at("192.0.2.1"), local)).isTrue();
    assertThat(TcpTransport.senderMatches(ip("::ffff:192.0.2.1"), at("192.0.2.1"), local)).isTrue();
    assertThat(TcpTransport.senderMatches(ip("2001:db8::1"), at("2001:db8::1"), local)).isTrue();
    // another host, even in the same /64 or /24
    assertThat(TcpTransport.senderMatches(ip("192.0.2.2"), at("192.0.2.1"), local)).isFalse();
    assertThat(TcpTransport.senderMatches(ip("2001:db8::2"), at("2001:db8::1"), local)).isFalse();
    // on this host both: loopback, or the address the connection reached
    assertThat(TcpTransport.senderMatches(ip("10.0.0.5"), at("127.0.0.1"), local)).isTrue();
    assertThat(TcpTransport.senderMatches(ip("::1"), at("10.0.0.5"), local)).isTrue();
    // a local peer may not claim another host, nor a remote one this host
    assertThat(TcpTransport.senderMatches(ip("192.0.2.1"), at("127.0.0.1"), local)).isFalse();
    assertThat(TcpTransport.senderMatches(ip("127.0.0.1"), at("192.0.2.1"), local)).isFalse();
  }
}
