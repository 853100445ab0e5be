package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.NodeClosedException;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.testkit.NoBlocking;
import dev.kad.testkit.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.core.publisher.Flux;

/**
 * {@link TcpTransport#updateTls}: a certificate rotated in a running transport. Two CAs: the old
 * one (the JVM's shared test CA) and a new one; a node moving from a certificate of the old to one
 * of the new trusts both meanwhile, peers trust one each.
 */
class TcpTlsUpdateTest {

  private static final Duration BOUND = Duration.ofSeconds(10);

  @TempDir static Path dir;

  private static char[] password;
  private static TestCertificates oldCa;
  private static TestCertificates newCa;
  private static TestCertificates.Issued oldCertificate;
  private static TestCertificates.Issued newCertificate;
  private static Path bothCas;

  private final List<TcpTransport> transports = new ArrayList<>();

  @BeforeAll
  static void certificates() throws IOException {
    oldCa = TestCertificates.shared();
    password = oldCa.password().toCharArray();
    oldCertificate = oldCa.issue("node", "IP:127.0.0.1");
    Path newCaDir = Files.createDirectory(dir.resolve("new-ca"));
    newCa = TestCertificates.create(newCaDir);
    newCertificate = newCa.issue("rotated", "IP:127.0.0.1");
    bothCas =
        Files.writeString(
            dir.resolve("both-cas.pem"),
            Files.readString(oldCa.caPem()) + Files.readString(newCa.caPem()));
  }

  @BeforeEach
  void watchForBlocking() {
    NoBlocking.start();
  }

  @AfterEach
  void closeAll() {
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
    assertThat(NoBlocking.calls()).as("blocking calls on event loops").isEmpty();
  }

  private static TcpTls tls(TestCertificates.Issued key, TestCertificates trusted) {
    return TcpTls.builder()
        .keyStore(key.keyStore(), password)
        .trustStore(trusted.trustStore(), password)
        .build();
  }

  /** The node's key, trusting both CAs: what a node being moved to the new CA holds. */
  private static TcpTls trustingBoth(TestCertificates.Issued key) {
    return TcpTls.builder().keyStore(key.keyStore(), password).trustPem(bothCas).build();
  }

  private TcpTransport created(TcpTls tls) {
    TcpTransportOptions.Builder b = TcpTransportOptions.builder();
    if (tls != null) {
      b.tls(tls);
    }
    TcpTransport t = TcpTransport.create(b.build());
    transports.add(t);
    return t;
  }

  private TcpTransport started(TcpTls tls) {
    TcpTransport t = created(tls);
    t.start(new EchoHandler(1)).block(BOUND);
    return t;
  }

  private static Request ping(TcpTransport from) {
    return new Request.Ping(Messages.contact(5, from.localAddress()));
  }

  private static void assertAnswers(TcpTransport client, TcpTransport server) {
    assertThat(client.send(server.localAddress(), ping(client)).block(BOUND))
        .isInstanceOf(Response.Pong.class);
  }

  private static void assertRefusedOverTls(TcpTransport client, Address to) {
    assertThatThrownBy(() -> client.send(to, ping(client)).block(BOUND))
        .isInstanceOf(UnreachableContactException.class)
        .hasMessageContaining("TLS");
  }

  @Test
  void newConnectionsBothWaysHandshakeWithTheNewMaterialWhileOpenOnesCarryOn() {
    TcpTransport node = started(trustingBoth(oldCertificate));
    TcpTransport oldPeer = started(tls(oldCertificate, oldCa)); // trusts only the old CA
    TcpTransport newPeer = started(tls(newCertificate, newCa)); // trusts only the new CA
    assertAnswers(oldPeer, node);
    // The new peer refuses the node's old certificate, as a server and as a client.
    assertRefusedOverTls(newPeer, node.localAddress());
    assertRefusedOverTls(node, newPeer.localAddress());

    TcpTls rotated = trustingBoth(newCertificate);
    node.updateTls(rotated);

    assertThat(node.tls()).containsSame(rotated);
    assertAnswers(newPeer, node); // accepted with the new certificate
    assertAnswers(node, newPeer); // dialed with it
    // The old peer's connection, made before, still answers: a new one would fail, as the old
    // peer does not trust the new certificate.
    long tlsFailures = oldPeer.stats().tlsFailures();
    assertAnswers(oldPeer, node);
    assertThat(oldPeer.stats().dialedConnections()).isEqualTo(1);
    assertThat(oldPeer.stats().tlsFailures()).isEqualTo(tlsFailures);
    // The options keep what the transport was created with.
    assertThat(node.options().tls()).isNotSameAs(node.tls());
  }

  @Test
  void aNodeUpdatedBeforeItStartsListensWithTheNewMaterial() {
    TcpTransport node = created(trustingBoth(oldCertificate));
    node.updateTls(trustingBoth(newCertificate));
    node.start(new EchoHandler(1)).block(BOUND);
    assertAnswers(started(tls(newCertificate, newCa)), node);
  }

  @Test
  void aTransportWithoutTlsCannotBeGivenTls() {
    TcpTransport plain = started(null);
    TcpTls tls = tls(oldCertificate, oldCa);
    assertThatThrownBy(() -> plain.updateTls(tls))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has TLS off")
        .hasMessageContaining("TcpTransportOptions.Builder#tls");
    assertThat(plain.tls()).isEmpty();
    assertAnswers(started(null), plain);
  }

  @Test
  void nullDoesNotTurnTlsOff() {
    TcpTransport node = started(tls(oldCertificate, oldCa));
    TcpTls before = node.tls().orElseThrow();
    assertThatThrownBy(() -> node.updateTls(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("tls");
    assertThat(node.tls()).containsSame(before);
  }

  @Test
  void aClosedTransportRefusesNewMaterial() {
    TcpTransport node = started(tls(oldCertificate, oldCa));
    TcpTls before = node.tls().orElseThrow();
    node.close().block(BOUND);
    assertThatThrownBy(() -> node.updateTls(tls(newCertificate, newCa)))
        .isInstanceOf(NodeClosedException.class)
        .hasMessageContaining("is closed");
    assertThat(node.tls()).containsSame(before);
  }
}
