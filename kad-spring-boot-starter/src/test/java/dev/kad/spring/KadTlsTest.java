package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadNode;
import dev.kad.testkit.TestCertificates;
import dev.kad.transport.tcp.TcpTls;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** {@code kad.tls.*}: the transport's TLS from one of Spring Boot's SSL bundles. */
class KadTlsTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  @TempDir static Path dir;

  private static TestCertificates certs;
  private static TestCertificates.Issued node;

  private final ApplicationContextRunner runner =
      new ApplicationContextRunner()
          .withConfiguration(
              AutoConfigurations.of(KadAutoConfiguration.class, SslAutoConfiguration.class))
          .withPropertyValues("kad.host=127.0.0.1", "kad.port=0", "kad.maintenance=false");

  /**
   * One self-signed key (subject alternative name IP 127.0.0.1) that every node holds and trusts,
   * so that they admit each other: one keytool call, where a CA and a certificate it signs take
   * two.
   */
  @BeforeAll
  static void certificates() {
    certs = TestCertificates.create(dir);
    node = certs.selfSigned("node", "IP:127.0.0.1");
  }

  /** A JKS-style bundle {@code name}: the node's PKCS12 store as key and trust store. */
  private static String[] jksBundle(String name) {
    String prefix = "spring.ssl.bundle.jks." + name + ".";
    return new String[] {
      prefix + "keystore.location=file:" + node.keyStore(),
      prefix + "keystore.password=" + certs.password(),
      prefix + "keystore.type=PKCS12",
      prefix + "truststore.location=file:" + node.keyStore(),
      prefix + "truststore.password=" + certs.password(),
      prefix + "truststore.type=PKCS12"
    };
  }

  /** A PEM bundle {@code name}: the node's certificate and key, the certificate trusted. */
  private static String[] pemBundle(String name) {
    String prefix = "spring.ssl.bundle.pem." + name + ".";
    return new String[] {
      prefix + "keystore.certificate=file:" + node.certificatePem(),
      prefix + "keystore.private-key=file:" + node.privateKeyPem(),
      prefix + "truststore.certificate=file:" + node.certificatePem()
    };
  }

  @Test
  void withoutTlsPropertiesTheTransportIsPlainTcp() {
    runner.run(
        context -> assertThat(context.getBean(TcpTransport.class).options().tls()).isEmpty());
    // Blank, as an empty environment variable binds it: off too.
    runner
        .withPropertyValues("kad.tls.bundle=")
        .run(context -> assertThat(context.getBean(TcpTransport.class).options().tls()).isEmpty());
  }

  @Test
  void aBundleNamedByKadTlsBundleIsTheTransportsKeyAndTrust() {
    runner
        .withPropertyValues(pemBundle("cluster"))
        .withPropertyValues("kad.tls.bundle=cluster")
        .run(
            context -> {
              SslBundle bundle = context.getBean(SslBundles.class).getBundle("cluster");
              TcpTls tls = context.getBean(TcpTransport.class).options().tls().orElseThrow();
              // Built from the bundle's key and trust manager factories, mutual by default.
              assertThat(tls)
                  .hasToString(
                      "TcpTls[keyManagerFactory "
                          + bundle.getManagers().getKeyManagerFactory().getAlgorithm()
                          + ", trustManagerFactory "
                          + bundle.getManagers().getTrustManagerFactory().getAlgorithm()
                          + ", requireClientAuth=true, endpointIdentification=false]");
            });
  }

  @Test
  void clientAuthAndEndpointIdentificationBindFromTheirProperties() {
    runner
        .withPropertyValues(jksBundle("cluster"))
        .withPropertyValues(
            "kad.tls.bundle=cluster",
            "kad.tls.require-client-auth=false",
            "kad.tls.endpoint-identification=true")
        .run(
            context -> {
              TcpTls tls = context.getBean(TcpTransport.class).options().tls().orElseThrow();
              assertThat(tls.requireClientAuth()).isFalse();
              assertThat(tls.endpointIdentification()).isTrue();
            });
  }

  @Test
  void aBundleNameWithNoBundleFailsStartUpNamingTheProperty() {
    runner
        .withPropertyValues(jksBundle("cluster"))
        .withPropertyValues("kad.tls.bundle=clustr")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.tls.bundle names no SSL bundle 'clustr' (spring.ssl.bundle.jks.clustr"
                            + " or spring.ssl.bundle.pem.clustr)")
                    .hasMessageContaining("[cluster]"));
    // Without Spring Boot's SSL auto-configuration there are no bundles to name.
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(KadAutoConfiguration.class))
        .withPropertyValues("kad.port=0", "kad.tls.bundle=cluster")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.tls.bundle is 'cluster' but the application has no SslBundles bean"));
  }

  @Test
  void aBundleWithoutTrustOrKeyFailsStartUpInsteadOfTrustingTheJdksCas() {
    // Trust material left out: Spring would trust the JDK's public CAs, which kad never does.
    String key = "spring.ssl.bundle.pem.keyonly.";
    runner
        .withPropertyValues(
            key + "keystore.certificate=file:" + node.certificatePem(),
            key + "keystore.private-key=file:" + node.privateKeyPem(),
            "kad.tls.bundle=keyonly")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.tls.bundle 'keyonly' has no trust store: set"
                            + " spring.ssl.bundle.*.keyonly.truststore"));
    String trust = "spring.ssl.bundle.pem.trustonly.";
    runner
        .withPropertyValues(
            trust + "truststore.certificate=file:" + node.certificatePem(),
            "kad.tls.bundle=trustonly")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.tls.bundle 'trustonly' has no key store: set"
                            + " spring.ssl.bundle.*.trustonly.keystore"));
    // Ciphers and protocols a bundle sets would be silently ignored.
    runner
        .withPropertyValues(pemBundle("tls12"))
        .withPropertyValues(
            "spring.ssl.bundle.pem.tls12.options.enabled-protocols=TLSv1.2", "kad.tls.bundle=tls12")
        .run(
            context ->
                StartupFailure.rootCause(context)
                    .hasMessageContaining(
                        "kad.tls.bundle 'tls12' sets options (ciphers, enabled-protocols)"));
  }

  @Test
  void twoNodesWithTheSameBundleJoinOverTls() {
    runner
        .withPropertyValues(jksBundle("cluster"))
        .withPropertyValues("kad.tls.bundle=cluster")
        .run(
            first -> {
              KadNode seed = first.getBean(KadNode.class);
              runner
                  .withPropertyValues(jksBundle("cluster"))
                  .withPropertyValues(
                      "kad.tls.bundle=cluster", "kad.bootstrap=" + seed.contact().address())
                  .run(
                      second -> {
                        second.getBean(KadNodeLifecycle.class).joined().block(BOUND);
                        assertThat(seed.routingTable().size()).isPositive();
                        TcpTransport transport = second.getBean(TcpTransport.class);
                        assertThat(transport.options().tls()).isPresent();
                        assertThat(transport.stats().tlsFailures()).isZero();
                        assertThat(first.getBean(TcpTransport.class).stats().tlsFailures())
                            .isZero();
                      });
            });
  }

  @Test
  void aNodeWithoutTlsCannotJoinATlsNodeAndTheFailureIsMetered() {
    runner
        .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
        .withPropertyValues(jksBundle("cluster"))
        .withPropertyValues("kad.tls.bundle=cluster")
        .run(
            first -> {
              KadNode seed = first.getBean(KadNode.class);
              MeterRegistry registry = first.getBean(MeterRegistry.class);
              first.getBean(KadNodeMeters.class).bindTo(registry);
              TcpTransport transport = first.getBean(TcpTransport.class);
              runner
                  .withPropertyValues(
                      "kad.bootstrap=" + seed.contact().address(),
                      "kad.hard-timeout=1s",
                      "kad.soft-timeout=500ms")
                  .run(
                      plain -> {
                        KadNodeLifecycle lifecycle = plain.getBean(KadNodeLifecycle.class);
                        awaitTlsFailure(transport);
                        assertThat(lifecycle.status().state())
                            .isNotEqualTo(BootstrapStatus.State.DONE);
                      });
              assertThat(seed.routingTable().size()).isZero();
              assertThat(registry.get("kad.transport.tls.failures").functionCounter().count())
                  .isPositive();
            });
  }

  /** Polls the counter, bounded in count and time: the plain node's join runs in the background. */
  private static void awaitTlsFailure(TcpTransport transport) {
    for (int i = 0; i < 200 && transport.stats().tlsFailures() == 0; i++) {
      reactor.core.publisher.Mono.delay(Duration.ofMillis(50)).block(BOUND);
    }
    assertThat(transport.stats().tlsFailures()).isPositive();
  }

  @Test
  void unsetTlsPropertiesLeaveTheTransportsDefaults() {
    assertThat(
            KadAutoConfiguration.transportOptions(
                    new KadProperties(), dev.kad.api.KadConfig.defaults(), null)
                .build()
                .tls())
        .isEqualTo(TcpTransportOptions.builder().build().tls());
  }
}
