package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.RequestHandler;
import io.netty.util.NetUtil;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * The checks a transport makes of inbound requests before they reach the node, over loopback:
 * {@code maxRequestsPerSecondPerIp} (every test peer is on this host, which is exempt unless {@code
 * perIpLimitForLocalPeers}) and {@code checkSenderAddress}.
 */
class TcpRequestLimitsTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  private final Opened opened = new Opened(BOUND);
  private final Disposable.Composite pending = Disposables.composite();

  @AfterEach
  void closeAll() throws IOException {
    pending.dispose();
    opened.close();
  }

  private TcpTransport started(RequestHandler handler, Consumer<TcpTransportOptions.Builder> opts) {
    return opened.started(handler, opts);
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
    RawPeer peer = dial(server, localIp);
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      answers.add(peer.ping(claimedHost));
    }
    return answers;
  }

  /**
   * A raw peer that dialed {@code server} from {@code localIp}, its preface exchanged; the test is
   * skipped where {@code localIp} cannot be bound (only Linux has all of 127.0.0.0/8 by default).
   */
  private RawPeer dial(TcpTransport server, String localIp) throws IOException {
    Socket s = new Socket();
    opened.socket(s);
    s.setSoTimeout((int) BOUND.toMillis());
    try {
      s.bind(new InetSocketAddress(localIp, 0));
    } catch (BindException e) {
      Assumptions.abort(localIp + " cannot be bound on this host: " + e.getMessage());
    }
    s.connect(
        new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
    RawPeer peer = new RawPeer(s);
    peer.out.write(RawPeer.PREFACE);
    peer.out.flush();
    assertThat(peer.in.readNBytes(Preface.LENGTH)).startsWith('K', 'A', 'D');
    return peer;
  }

  /** One end of a connection that speaks kad's JSON frames by hand. */
  private static final class RawPeer {
    /** A version 2 JSON preface with no flags and a zero nonce. */
    static final byte[] PREFACE = Arrays.copyOf(new byte[] {'K', 'A', 'D', 2}, Preface.LENGTH);

    final InputStream in;
    final OutputStream out;
    private int rid;

    RawPeer(Socket s) throws IOException {
      this.in = s.getInputStream();
      this.out = s.getOutputStream();
    }

    /** Sends a ping claiming {@code claimedHost} as its sender and returns the answer's body. */
    String ping(String claimedHost) throws IOException {
      String sender =
          "{\"id\":\""
              + Base64.getEncoder().encodeToString(new byte[20])
              + "\",\"host\":\""
              + claimedHost
              + "\",\"port\":9}";
      byte[] body =
          ("{\"rid\":" + ++rid + ",\"msg\":{\"type\":\"ping\",\"sender\":" + sender + "}}")
              .getBytes(StandardCharsets.UTF_8);
      out.write(ByteBuffer.allocate(4 + body.length).putInt(body.length).put(body).array());
      out.flush();
      return frame();
    }

    /** The body of the next frame. */
    String frame() throws IOException {
      int length = ByteBuffer.wrap(in.readNBytes(4)).getInt();
      return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
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
  void aClaimedHostNameIsLookedUpOnceForAllConnectionsAndPassesWhenAnyAddressMatches()
      throws IOException {
    AtomicInteger lookups = new AtomicInteger();
    TcpTransport server =
        checking(
            host ->
                Mono.fromCallable(
                    () -> {
                      lookups.incrementAndGet();
                      return switch (host) {
                        case "honest.test" ->
                            List.of(
                                InetAddress.getByAddress(host, new byte[] {(byte) 192, 0, 2, 9}),
                                loopback(host));
                        case "liar.test" ->
                            List.of(
                                InetAddress.getByAddress(host, new byte[] {(byte) 192, 0, 2, 1}));
                        default -> throw new UnknownHostException(host);
                      };
                    }),
            Duration.ofSeconds(5));

    assertThat(rawPings(server, "127.0.0.1", "honest.test", 3)).allMatch(b -> b.contains(PONG));
    assertThat(rawPing(server, "127.0.0.1", "honest.test")).contains(PONG);
    assertThat(lookups).as("one look-up for every connection").hasValue(1);
    assertThat(rawPings(server, "127.0.0.1", "liar.test", 2))
        .allMatch(
            b -> b.contains("sender claims liar.test:9 but the connection comes from 127.0.0.1"));
    assertThat(rawPing(server, "127.0.0.1", "nowhere.test")).contains("INVALID");
    assertThat(rawPing(server, "127.0.0.1", "nowhere.test")).contains("INVALID");
    assertThat(lookups).hasValue(3);
    assertThat(server.stats().spoofedSenders()).isEqualTo(4);
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
    // another IPv4 host, even in the same /24
    assertThat(TcpTransport.senderMatches(ip("192.0.2.2"), at("192.0.2.1"), local)).isFalse();
    // on this host both: loopback, or the address the connection reached
    assertThat(TcpTransport.senderMatches(ip("10.0.0.5"), at("127.0.0.1"), local)).isTrue();
    assertThat(TcpTransport.senderMatches(ip("::1"), at("10.0.0.5"), local)).isTrue();
    // a local peer may not claim another host, nor a remote one this host
    assertThat(TcpTransport.senderMatches(ip("192.0.2.1"), at("127.0.0.1"), local)).isFalse();
    assertThat(TcpTransport.senderMatches(ip("127.0.0.1"), at("192.0.2.1"), local)).isFalse();
  }

  @Test
  void aPeerThisNodeDialedCannotClaimAnotherHostsAddress() throws IOException {
    Counting node = new Counting();
    TcpTransport server = started(node, b -> b.checkSenderAddress(true));
    ServerSocket attacker = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    opened.listener(attacker);
    attacker.setSoTimeout((int) BOUND.toMillis());
    Address at = new Address("127.0.0.1", attacker.getLocalPort());
    // the node dials the attacker, which never answers its ping
    pending.add(
        server
            .send(at, new Request.Ping(Messages.contact(1, server.localAddress())))
            .subscribe(r -> {}, e -> {}));
    Socket s = attacker.accept();
    opened.socket(s);
    s.setSoTimeout((int) BOUND.toMillis());
    RawPeer peer = new RawPeer(s);
    assertThat(peer.in.readNBytes(Preface.LENGTH)).startsWith('K', 'A', 'D');
    peer.out.write(RawPeer.PREFACE);
    assertThat(peer.frame()).contains("\"type\":\"ping\"");

    assertThat(peer.ping("192.0.2.1"))
        .contains("INVALID")
        .contains("sender claims 192.0.2.1:9 but the connection comes from 127.0.0.1");
    assertThat(peer.ping("127.0.0.1")).as("the host it was dialed at").contains(PONG);
    assertThat(node.handled).hasValue(1);
    assertThat(server.stats().spoofedSenders()).isEqualTo(1);
  }

  @Test
  void aConnectionMayClaimAtMostSixteenHostNames() throws IOException {
    AtomicInteger lookups = new AtomicInteger();
    TcpTransport server =
        checking(
            host ->
                Mono.fromCallable(
                    () -> {
                      lookups.incrementAndGet();
                      return List.of(loopback(host));
                    }),
            Duration.ofSeconds(5));
    RawPeer peer = dial(server, "127.0.0.1");
    for (int i = 1; i <= 16; i++) {
      assertThat(peer.ping("h" + i + ".test")).contains(PONG);
    }

    assertThat(peer.ping("h17.test"))
        .contains("INVALID")
        .contains(
            "sender claims h17.test:9 but requests on the connection from 127.0.0.1 already"
                + " claimed 16 other hosts");
    assertThat(peer.ping("h1.test")).as("a host it claimed before").contains(PONG);
    assertThat(peer.ping("127.0.0.1")).as("an IP literal costs no look-up").contains(PONG);
    assertThat(lookups).hasValue(16);
    assertThat(rawPing(server, "127.0.0.1", "h17.test")).as("another connection").contains(PONG);
  }

  @Test
  void hostNameLookUpsInFlightAreBoundedTransportWideAndARefusalIsNotKept() throws IOException {
    Map<String, Sinks.One<List<InetAddress>>> answers = new ConcurrentHashMap<>();
    Function<String, Sinks.One<List<InetAddress>>> answer =
        host -> answers.computeIfAbsent(host, h -> Sinks.one());
    // connectTimeout bounds each wait for a look-up; long enough that a look-up answered at once
    // is never late on a loaded host, short enough that the slow ones end soon
    TcpTransport server = checking(host -> answer.apply(host).asMono(), Duration.ofSeconds(2));
    int max = TcpTransport.MAX_LOOKUPS_IN_FLIGHT;
    // look-ups that never answer, one connection each: reconnecting does not get around the bound
    for (int i = 1; i <= max; i++) {
      assertThat(rawPing(server, "127.0.0.1", "slow" + i + ".test"))
          .as("not looked up within connectTimeout")
          .contains("INVALID")
          .contains("sender claims slow" + i + ".test:9 but");
    }

    String refused = rawPing(server, "127.0.0.1", "next.test");

    assertThat(refused)
        .contains("RATE_LIMITED")
        .contains("no look-up of next.test: " + max + " host names are being looked up, or 1 for");
    assertThat(answers).doesNotContainKey("next.test");
    assertThat(rawPing(server, "127.0.0.1", "127.0.0.1")).as("no look-up needed").contains(PONG);
    assertThat(server.stats().rateLimitedRequests()).isEqualTo(1);
    // slow1.test answers at last: its addresses are kept, and its look-up is free again
    answer.apply("slow1.test").tryEmitValue(List.of(loopback("slow1.test"))).orThrow();
    answer.apply("next.test").tryEmitValue(List.of(loopback("next.test"))).orThrow();
    assertThat(rawPing(server, "127.0.0.1", "slow1.test")).contains(PONG);
    assertThat(rawPing(server, "127.0.0.1", "next.test")).as("looked up this time").contains(PONG);
  }

  /** A server with {@code checkSenderAddress} whose host names are looked up by {@code names}. */
  private TcpTransport checking(
      Function<String, Mono<List<InetAddress>>> names, Duration connectTimeout) {
    TcpTransport server =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .checkSenderAddress(true)
                .connectTimeout(connectTimeout)
                .build(),
            a -> Mono.never(),
            names);
    opened.transport(server);
    server.start(new EchoHandler(1)).block(BOUND);
    return server;
  }

  private static InetAddress loopback(String host) throws UnknownHostException {
    return InetAddress.getByAddress(host, new byte[] {127, 0, 0, 1});
  }

  @Test
  void anIpv6ClaimInTheConnectionsSlash64Passes() {
    InetSocketAddress local = at("2001:db8:ff::5");
    // desktops dial from a temporary privacy address and advertise a stable one
    assertThat(TcpTransport.senderMatches(ip("2001:db8::2"), at("2001:db8::1"), local)).isTrue();
    assertThat(
            TcpTransport.senderMatches(
                ip("2001:db8::ffff:ffff:ffff:ffff"), at("2001:db8::1"), local))
        .isTrue();
    // another /64, even the next one
    assertThat(TcpTransport.senderMatches(ip("2001:db8:0:1::1"), at("2001:db8::1"), local))
        .isFalse();
    // every host on a link has fe80::/64: a link-local address must be the connection's own
    assertThat(TcpTransport.senderMatches(ip("fe80::2"), at("fe80::1"), local)).isFalse();
    // IPv4 addresses are compared whole, an IPv4-mapped IPv6 one included
    assertThat(TcpTransport.senderMatches(ip("::ffff:192.0.2.2"), at("192.0.2.1"), local))
        .isFalse();
  }
}
