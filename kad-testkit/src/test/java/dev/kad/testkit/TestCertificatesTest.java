package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.SignatureException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertPathValidatorException.BasicReason;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TestCertificates}: what it issues chains to its CA through its trust store and names the
 * hosts asked for; a self-signed one does not; files are PKCS12 and PEM of the same key.
 */
class TestCertificatesTest {

  @TempDir static Path dir;

  private static TestCertificates ca;
  private static TestCertificates.Issued node;
  private static TestCertificates.Issued stranger;

  @BeforeAll
  static void certificates() {
    ca = TestCertificates.create(dir);
    node = ca.issue("node", "IP:127.0.0.1", "DNS:localhost");
    stranger = ca.selfSigned("stranger", "IP:127.0.0.1");
  }

  private static List<Certificate> chain(Path keyStore, String alias) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keyStore)) {
      ks.load(in, ca.password().toCharArray());
    }
    assertThat(ks.isKeyEntry(alias)).as("key entry %s in %s", alias, keyStore).isTrue();
    return List.of(ks.getCertificateChain(alias));
  }

  /** Validates the chain as a TLS peer would, trusting only the CA's trust store. */
  private static void validate(List<Certificate> chain) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(ca.trustStore())) {
      trust.load(in, ca.password().toCharArray());
    }
    PKIXParameters params = new PKIXParameters(trust);
    params.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX")
        .validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
  }

  @Test
  void anIssuedCertificateIsSignedByTheCaAndNamesTheSansAskedFor() throws Exception {
    List<Certificate> chain = chain(node.keyStore(), "node");
    assertThat(chain).containsExactly(node.certificate(), ca.certificate());
    node.certificate().verify(ca.certificate().getPublicKey());
    validate(chain);
    assertThat(node.certificate().getSubjectX500Principal().getName()).isEqualTo("CN=node");
    assertThat(node.certificate().getSubjectAlternativeNames())
        .containsExactlyInAnyOrder(List.of(7, "127.0.0.1"), List.of(2, "localhost"));
    assertThat(node.certificate().getBasicConstraints()).as("not a CA").isEqualTo(-1);
    assertThat(ca.certificate().getBasicConstraints()).as("a CA").isGreaterThanOrEqualTo(0);
  }

  @Test
  void thePemFilesHoldTheSameChainAndKey() throws Exception {
    List<Certificate> pemChain;
    try (InputStream in = Files.newInputStream(node.certificatePem())) {
      pemChain = new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
    }
    assertThat(pemChain).containsExactly(node.certificate(), ca.certificate());
    try (InputStream in = Files.newInputStream(ca.caPem())) {
      assertThat(CertificateFactory.getInstance("X.509").generateCertificate(in))
          .isEqualTo(ca.certificate());
    }
    String pem = Files.readString(node.privateKeyPem(), StandardCharsets.US_ASCII);
    assertThat(pem).startsWith("-----BEGIN PRIVATE KEY-----\n");
    byte[] der =
        Base64.getMimeDecoder()
            .decode(
                pem.replace("-----BEGIN PRIVATE KEY-----", "")
                    .replace("-----END PRIVATE KEY-----", ""));
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der));
    byte[] data = "kad".getBytes(StandardCharsets.US_ASCII);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update(data);
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(node.certificate());
    verifier.update(data);
    assertThat(verifier.verify(signature)).as("the PEM key matches the certificate").isTrue();
  }

  @Test
  void aStrangerIsNotSignedByTheCa() throws Exception {
    X509Certificate cert = stranger.certificate();
    assertThat(chain(stranger.keyStore(), "stranger")).containsExactly(cert);
    assertThat(cert.getIssuerX500Principal()).isEqualTo(cert.getSubjectX500Principal());
    assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.1"));
    assertThatThrownBy(() -> cert.verify(ca.certificate().getPublicKey()))
        .isInstanceOf(SignatureException.class);
    assertThatThrownBy(() -> validate(List.of(cert)))
        .isInstanceOf(CertPathValidatorException.class);
  }

  @Test
  void theTrustStoreHoldsOnlyTheCa() throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(ca.trustStore())) {
      trust.load(in, ca.password().toCharArray());
    }
    assertThat(trust.size()).isEqualTo(1);
    String alias = trust.aliases().nextElement();
    assertThat(trust.isCertificateEntry(alias)).isTrue();
    assertThat(trust.getCertificate(alias)).isEqualTo(ca.certificate());
  }

  @Test
  void aNameIssuedAgainWithTheSameSansIsTheSameAndWithOthersIsRefused() {
    assertThat(ca.issue("node", "IP:127.0.0.1", "DNS:localhost")).isSameAs(node);
    assertThatThrownBy(() -> ca.issue("node", "DNS:elsewhere.example"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'node'")
        .hasMessageContaining("[DNS:elsewhere.example]");
    assertThatThrownBy(() -> ca.selfSigned("node"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'node'");
  }

  @Test
  void badNamesAndSansFailFastNamingTheValue() {
    assertThatThrownBy(() -> ca.issue("../escape"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "name must match [A-Za-z0-9._-]+ and not be 'ca' or 'trust' but was '../escape'");
    assertThatThrownBy(() -> ca.issue("ca"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was 'ca'");
    assertThatThrownBy(() -> ca.issue("n", "127.0.0.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "san must be TYPE:value with TYPE one of DNS, IP, URI, EMAIL and no ',' but was"
                + " '127.0.0.1'");
    assertThatThrownBy(() -> TestCertificates.create(dir.resolve("missing")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("dir " + dir.resolve("missing") + " is not a directory");
  }

  @Test
  void aCertificateIssuedForAPeriodIsValidThenOnlyAndOtherwiseRefusedForItsDates()
      throws Exception {
    Instant now = Instant.now();
    Instant notBefore = now.minus(Duration.ofDays(3)).plusMillis(1234);
    Instant notAfter = notBefore.plus(Duration.ofDays(2));
    TestCertificates.Issued expired = ca.issueValid("expired", notBefore, notAfter, "IP:127.0.0.1");
    X509Certificate cert = expired.certificate();
    Instant start = notBefore.truncatedTo(ChronoUnit.SECONDS);
    assertThat(cert.getNotBefore().toInstant()).isEqualTo(start);
    assertThat(cert.getNotAfter().toInstant()).isEqualTo(start.plus(Duration.ofDays(2)));
    assertThat(cert.getSubjectAlternativeNames()).containsExactly(List.of(7, "127.0.0.1"));
    cert.verify(ca.certificate().getPublicKey());
    cert.checkValidity(Date.from(start.plus(Duration.ofDays(1))));
    List<Certificate> chain = chain(expired.keyStore(), "expired");
    assertThat(chain).containsExactly(cert, ca.certificate());
    assertThatThrownBy(() -> validate(chain))
        .isInstanceOfSatisfying(
            CertPathValidatorException.class,
            e -> assertThat(e.getReason()).isEqualTo(BasicReason.EXPIRED));

    TestCertificates.Issued early =
        ca.issueValid("early", now.plus(Duration.ofDays(1)), now.plus(Duration.ofDays(3)));
    assertThatThrownBy(() -> validate(chain(early.keyStore(), "early")))
        .isInstanceOfSatisfying(
            CertPathValidatorException.class,
            e -> assertThat(e.getReason()).isEqualTo(BasicReason.NOT_YET_VALID));

    assertThat(ca.issueValid("expired", notBefore, notAfter, "IP:127.0.0.1")).isSameAs(expired);
    assertThatThrownBy(() -> ca.issueValid("expired", now, now.plus(Duration.ofDays(1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'expired'")
        .hasMessageContaining("valid " + start + " to " + start.plus(Duration.ofDays(2)));
    assertThatThrownBy(() -> ca.issue("expired", "IP:127.0.0.1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'expired'");
  }

  @Test
  void aPeriodThatIsNotAWholeNumberOfDaysFailsFastNamingIt() {
    Instant at = Instant.parse("2030-01-02T03:04:05Z");
    assertThatThrownBy(() -> ca.issueValid("n", at, at))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "notAfter must be after notBefore but was 2030-01-02T03:04:05Z (notBefore"
                + " 2030-01-02T03:04:05Z)");
    assertThatThrownBy(() -> ca.issueValid("n", at, at.minus(Duration.ofDays(1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("notAfter must be after notBefore but was 2030-01-01T03:04:05Z");
    assertThatThrownBy(() -> ca.issueValid("n", at, at.plus(Duration.ofHours(36))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "notAfter must be a whole number of days after notBefore (keytool's -validity) but was"
                + " 2030-01-03T15:04:05Z, PT36H after notBefore 2030-01-02T03:04:05Z");
    assertThatThrownBy(() -> ca.issueValid("n", null, at))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("notBefore");
  }

  @Test
  void aFailingKeytoolCallFailsNamingItsCommandAndOutput() {
    assertThatThrownBy(() -> ca.issue("bad-ip", "IP:not-an-address"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("keytool -gencert")
        .hasMessageContaining("SAN=IP:not-an-address")
        .hasMessageMatching("(?s).*exited with 1.*:\n.*\\S.*");
  }

  @Test
  void aSelfSignedCertificateAloneMakesNoCa(@TempDir Path own) throws Exception {
    TestCertificates.Issued alone = TestCertificates.create(own).selfSigned("alone");
    assertThat(chain(alone.keyStore(), "alone")).containsExactly(alone.certificate());
    assertThat(own.resolve("ca.p12")).doesNotExist();
    assertThat(own.resolve("trust.p12")).doesNotExist();
  }

  @Test
  void theSharedSetIsOnePerJvm() {
    TestCertificates shared = TestCertificates.shared();
    assertThat(TestCertificates.shared()).isSameAs(shared);
    assertThat(shared.directory()).isDirectory();
  }
}
