package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.KadException;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.testkit.NoBlocking;
import dev.kad.testkit.TestCertificates;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * TLS on the transport: only peers that complete a handshake with a trusted certificate are served;
 * every other connection is closed, counted in {@code tlsFailures} and logged, and the node keeps
 * serving the rest. Certificates come from the JDK's keytool ({@link TestCertificates}): a CA; a
 * node it signed naming IP 127.0.0.1; one it signed naming another host; a self-signed stranger;
 * two it signed naming IP 127.0.0.1 that are expired and not yet valid.
 */
class TcpTlsTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static TestCertificates certs;
  private static char[] password;
  private static TestCertificates.Issued node;
  private static TestCertificates.Issued otherName;
  private static TestCertificates.Issued strangerCert;
  private static TestCertificates.Issued expiredCert;
  private static TestCertificates.Issued earlyCert;

  @TempDir Path dir;

  private final List<TcpTransport> transports = new ArrayList<>();
  private final List<Socket> sockets = new ArrayList<>();
  private final List<ServerSocket> listeners = new ArrayList<>();

  @BeforeAll
  static void certificates() {
    certs = TestCertificates.shared();
    password = certs.password().toCharArray();
    node = certs.issue("node", "IP:127.0.0.1");
    otherName = certs.issue("elsewhere", "DNS:elsewhere.example");
    strangerCert = certs.selfSigned("stranger");
    Instant now = Instant.now();
    expiredCert =
        certs.issueValid(
            "expired",
            now.minus(Duration.ofDays(3)),
            now.minus(Duration.ofDays(1)),
            "IP:127.0.0.1");
    earlyCert =
        certs.issueValid(
            "early", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(3)), "IP:127.0.0.1");
  }

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }

  @AfterEach
  void closeAll() throws IOException {
    for (Socket s : sockets) {
      s.close();
    }
    for (ServerSocket l : listeners) {
      l.close();
    }
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
    assertThat(NoBlocking.calls()).as("blocking calls on event loops").isEmpty();
  }

  private static TcpTls.Builder cluster(Path keyStore) {
    return TcpTls.builder().keyStore(keyStore, password).trustStore(certs.trustStore(), password);
  }

  private static TcpTls member() {
    return cluster(node.keyStore()).build();
  }

  private TcpTransport started(Consumer<TcpTransportOptions.Builder> opts) {
    TcpTransportOptions.Builder b = TcpTransportOptions.builder();
    opts.accept(b);
    TcpTransport t = TcpTransport.create(b.build());
    transports.add(t);
    t.start(new EchoHandler(1)).block(BOUND);
    return t;
  }

  private TcpTransport tlsNode() {
    return started(b -> b.tls(member()));
  }

  private static Request ping(TcpTransport from) {
    return new Request.Ping(Messages.contact(5, from.localAddress()));
  }

  private static void assertAnswers(TcpTransport client, TcpTransport server) {
    StepVerifier.create(client.send(server.localAddress(), ping(client)))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
  }

  /** A request to {@code to} fails naming {@code reason}, in a way a retry may mend. */
  private static void assertUnreachable(TcpTransport client, Address to, String reason) {
    StepVerifier.create(client.send(to, ping(client)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(UnreachableContactException.class)
                    .isNotInstanceOf(IncompatiblePeerException.class)
                    .hasMessageContaining(reason)
                    .matches(u -> ((KadException) u).isTransient(), "is transient"))
        .verify(BOUND);
  }

  /**
   * A request to {@code to} fails naming {@code reason}, as to a peer whose settings do not fit: no
   * retry mends it.
   */
  private static void assertIncompatible(TcpTransport client, Address to, String reason) {
    StepVerifier.create(client.send(to, ping(client)))
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IncompatiblePeerException.class)
                    .hasMessageContaining(reason)
                    .matches(u -> !((KadException) u).isTransient(), "is not transient"))
        .verify(BOUND);
  }

  private static void assertTlsFailureCounted(TcpTransport t) {
    Await.until("the TLS failure to be counted", () -> t.stats().tlsFailures() == 1);
    assertThat(t.stats().violations()).isEqualTo(1);
  }

  private Socket connect(TcpTransport server) throws IOException {
    Socket s = new Socket();
    sockets.add(s);
    s.setSoTimeout((int) BOUND.toMillis());
    s.connect(
        new InetSocketAddress("127.0.0.1", server.localAddress().port()), (int) BOUND.toMillis());
    return s;
  }

  /** Reads until the server closes the connection; fails after the bound. */
  private static void assertClosedByServer(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    byte[] buf = new byte[64 * 1024];
    try {
      while (in.read(buf) != -1) {
        // drain: an alert, maybe
      }
    } catch (SocketException reset) {
      // a reset is a close too
    }
  }

  @Test
  void membersOfTheClusterTalkOverMutualTls() {
    TcpTransport a = tlsNode();
    TcpTransport b = tlsNode();
    assertAnswers(a, b);
    assertAnswers(b, a);
    assertThat(a.stats().violations() + b.stats().violations()).isZero();
  }

  @Test
  void keysAndTrustFromPemFilesWork() {
    TcpTransport a =
        started(
            b ->
                b.tls(
                    TcpTls.builder()
                        .keyPem(node.certificatePem(), node.privateKeyPem())
                        .trustPem(certs.caPem())
                        .build()));
    TcpTransport b = tlsNode();
    assertAnswers(a, b);
    assertAnswers(b, a);
  }

  @Test
  void aPeerWithoutTlsIsToldThatTheNodeRequiresTlsAndTheNodeServesOthers() {
    TcpTransport server = tlsNode();
    TcpTransport plain = started(b -> {});
    assertIncompatible(
        plain,
        server.localAddress(),
        "peer at 127.0.0.1:" + server.localAddress().port() + " requires TLS");
    assertTlsFailureCounted(server);
    Await.until("the plain node to count a bad preface", () -> plain.stats().badPrefaces() == 1);
    assertAnswers(tlsNode(), server);
    assertAnswers(started(b -> {}), plain);
  }

  @Test
  void aNodeWithTlsDialingOneWithoutFailsNamingTls() {
    TcpTransport plain = started(b -> {});
    TcpTransport client = tlsNode();
    assertIncompatible(
        client,
        plain.localAddress(),
        "peer at 127.0.0.1:" + plain.localAddress().port() + " has TLS off");
    assertTlsFailureCounted(client);
    Await.until("the plain node to count a bad preface", () -> plain.stats().badPrefaces() == 1);
    assertAnswers(started(b -> {}), plain);
    assertAnswers(client, tlsNode());
  }

  @Test
  void aPlaintextPeerThatSendsOnlyGarbageAfterTheMagicIsClosedAfterConnectTimeout()
      throws IOException {
    TcpTransport server = started(b -> b.tls(member()).connectTimeout(Duration.ofMillis(300)));
    Socket s = connect(server);
    OutputStream out = s.getOutputStream();
    out.write("KAD and then anything".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    // Answered with the node's preface, then closed: the peer never closes on its own.
    byte[] answer = s.getInputStream().readNBytes(Preface.LENGTH);
    assertThat(Preface.check(answer, WireFormat.JSON, 160).map(Preface.Problem::detail))
        .hasValue("peer requires TLS, which this node has off");
    assertClosedByServer(s);
    assertTlsFailureCounted(server);
    assertAnswers(tlsNode(), server);
  }

  @Test
  void aCertificateNotSignedByTheTrustedCaIsRefused() {
    TcpTransport server = tlsNode();
    TcpTransport stranger = started(b -> b.tls(cluster(strangerCert.keyStore()).build()));
    // In TLS 1.3 the dialer's handshake is done before the node checks its certificate: the alert
    // that follows fails the request, naming it.
    assertIncompatible(stranger, server.localAddress(), "TLS");
    assertTlsFailureCounted(server);
    assertAnswers(tlsNode(), server);
  }

  @Test
  void aCertificateNotSignedByTheTrustedCaIsRefusedByTheDialer() {
    TcpTransport stranger =
        started(b -> b.tls(cluster(strangerCert.keyStore()).requireClientAuth(false).build()));
    TcpTransport client = tlsNode();
    assertIncompatible(client, stranger.localAddress(), "TLS handshake with 127.0.0.1:");
    assertTlsFailureCounted(client);
  }

  @Test
  void aDialedPeerWithAnExpiredCertificateIsUnreachableUntilItIsRenewed() {
    TcpTransport expired = started(b -> b.tls(cluster(expiredCert.keyStore()).build()));
    TcpTransport client = tlsNode();
    // A renewal mends it without reconfiguring the dialer: transient, not a misfit.
    assertUnreachable(client, expired.localAddress(), "validity check failed");
    assertTlsFailureCounted(client);

    expired.updateTls(member()); // renewed: a certificate of the same CA, valid now
    assertAnswers(client, expired); // on a new connection, the failed one being closed
  }

  @Test
  void aDialedPeerWithACertificateNotYetValidIsUnreachableUntilItIsValid() {
    TcpTransport early = started(b -> b.tls(cluster(earlyCert.keyStore()).build()));
    TcpTransport client = tlsNode();
    assertUnreachable(client, early.localAddress(), "validity check failed");
    assertTlsFailureCounted(client);

    early.updateTls(member());
    assertAnswers(client, early);
  }

  @Test
  void aDialerWithAnExpiredCertificateIsToldOnlyThatTheNodeRefusedIt() {
    TcpTransport server = tlsNode();
    TcpTransport expired = started(b -> b.tls(cluster(expiredCert.keyStore()).build()));
    // The JDK's (17) server refuses an expired client certificate with certificate_unknown, which
    // does not say why: the dialer sees a misfit as for a stranger's certificate, and only the
    // node's log says why ("validity check failed").
    assertIncompatible(expired, server.localAddress(), "certificate_unknown");
    assertTlsFailureCounted(server);

    expired.updateTls(member());
    assertAnswers(expired, server);
  }

  @Test
  void withoutClientAuthAPeerWithoutATrustedCertificateIsServed() {
    TcpTransport server =
        started(b -> b.tls(cluster(node.keyStore()).requireClientAuth(false).build()));
    TcpTransport stranger = started(b -> b.tls(cluster(strangerCert.keyStore()).build()));
    assertAnswers(stranger, server);
  }

  @Test
  void garbageInsteadOfAClientHelloClosesTheConnection() throws IOException {
    TcpTransport server = tlsNode();
    Socket s = connect(server);
    OutputStream out = s.getOutputStream();
    out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    out.flush();
    assertClosedByServer(s);
    assertTlsFailureCounted(server);
    assertAnswers(tlsNode(), server);
  }

  @Test
  void aProbeThatConnectsAndLeavesWithoutAWordIsNoTlsFailure() throws IOException {
    // A TCP health check or load balancer probe: the plaintext pipeline does not count it either.
    TcpTransport server = tlsNode();
    Socket probe = connect(server);
    Await.until("the probe to be accepted", () -> server.stats().acceptedConnections() == 1);
    probe.close();
    Await.until("the probe's connection to close", () -> server.stats().openConnections() == 0);

    assertThat(server.stats().tlsFailures()).isZero();
    assertThat(server.stats().violations()).isZero();
    assertAnswers(tlsNode(), server);
  }

  @Test
  void aPeerThatStallsTheHandshakeIsDisconnectedAfterConnectTimeout() throws IOException {
    // Long enough that the well-behaved peer checked next, on a loaded machine, gets its handshake
    // in before the server gives up on it too.
    TcpTransport server = started(b -> b.tls(member()).connectTimeout(Duration.ofSeconds(2)));
    Socket s = connect(server);
    assertClosedByServer(s);
    assertTlsFailureCounted(server);
    assertThat(server.stats().badPrefaces()).isZero();
    assertAnswers(tlsNode(), server);
  }

  @Test
  void aDialedPeerThatStallsTheHandshakeFailsTheRequestAfterConnectTimeout() throws IOException {
    ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    listeners.add(silent);
    TcpTransport client =
        started(
            b ->
                b.tls(member())
                    .connectTimeout(Duration.ofMillis(300))
                    .requestTimeout(Duration.ofSeconds(5)));
    assertUnreachable(
        client,
        new Address("127.0.0.1", silent.getLocalPort()),
        "no TLS handshake within connectTimeout");
    assertTlsFailureCounted(client);
  }

  @Test
  void endpointIdentificationChecksTheDialedIpAgainstTheCertificate() {
    TcpTransport named = tlsNode(); // its certificate names IP 127.0.0.1
    TcpTransport elsewhere = started(b -> b.tls(cluster(otherName.keyStore()).build()));
    TcpTransport checking =
        started(b -> b.tls(cluster(node.keyStore()).endpointIdentification(true).build()));
    assertAnswers(checking, named);
    assertIncompatible(checking, elsewhere.localAddress(), "TLS handshake with 127.0.0.1:");
    // Off by default: membership of the cluster is what counts.
    assertAnswers(tlsNode(), elsewhere);
  }

  @Test
  void badKeyMaterialIsRefusedWhenBuiltNamingThePath() throws IOException {
    Path missing = dir.resolve("missing.p12");
    assertThatThrownBy(() -> TcpTls.builder().keyStore(missing, password))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("keyStore " + missing + " does not exist or is not a file");
    assertThatThrownBy(() -> TcpTls.builder().keyStore(node.keyStore(), "wrong".toCharArray()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "keyStore " + node.keyStore() + " cannot be read as PKCS12 with the given password");
    assertThatThrownBy(() -> TcpTls.builder().keyStore(certs.trustStore(), password))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("keyStore " + certs.trustStore() + " holds no private key");
    Path notPem = Files.writeString(dir.resolve("not.pem"), "hello");
    assertThatThrownBy(() -> TcpTls.builder().trustPem(notPem))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("trustPem " + notPem);
    assertThatThrownBy(() -> TcpTls.builder().keyPem(certs.caPem(), notPem))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("privateKey " + notPem);
    assertThatThrownBy(() -> TcpTls.builder().trustStore(certs.trustStore(), password).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("TcpTls needs the node's key and certificate");
    assertThatThrownBy(() -> TcpTls.builder().keyStore(node.keyStore(), password).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("TcpTls needs the certificates to trust");
  }
}
