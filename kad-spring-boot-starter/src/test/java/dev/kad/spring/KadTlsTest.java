package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.testkit.TestCertificates;
import dev.kad.transport.tcp.TcpTls;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.ssl.SslAutoConfiguration;
import org.springframework.boot.ssl.DefaultSslBundleRegistry;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundleRegistry;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.boot.ssl.jks.JksSslStoreBundle;
import org.springframework.boot.ssl.jks.JksSslStoreDetails;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import reactor.core.publisher.Mono;

/**
 * {@code kad.tls.*}: the transport's TLS from one of Spring Boot's SSL bundles, and from the bundle
 * again when it is updated.
 */
class KadTlsTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  @TempDir static Path dir;

  private static TestCertificates certs;
  private static TestCertificates.Issued node;
  private static TestCertificates.Issued rotated;

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
    rotated = certs.selfSigned("rotated", "IP:127.0.0.1");
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
      Mono.delay(Duration.ofMillis(50)).block(BOUND);
    }
    assertThat(transport.stats().tlsFailures()).isPositive();
  }

  /** A client holding only the rotated key is answered: the transport took the rotated bundle. */
  private static void assertAnswersTheRotatedKey(TcpTransport transport) {
    TcpTransport client = rotatedClient();
    try {
      assertThat(pingWithRotatedKey(client, transport).block(BOUND))
          .isInstanceOf(Response.Pong.class);
    } finally {
      client.close().block(BOUND);
    }
  }

  /**
   * What the logger writes while {@code action} runs: Spring calls a bundle's update handlers on
   * the thread that updates it, here the test's.
   */
  private static String stderrOf(Runnable action) {
    try (CapturedLog log = CapturedLog.start()) {
      action.run();
      return log.text();
    }
  }

  /** The rotated key's store, as a bundle's key store and, or, trust store. */
  private static SslBundle rotatedBundle(boolean withTrust) {
    JksSslStoreDetails store =
        new JksSslStoreDetails("PKCS12", null, "file:" + rotated.keyStore(), certs.password());
    return SslBundle.of(new JksSslStoreBundle(store, withTrust ? store : null));
  }

  /** Pings {@code to} over TLS with the rotated key, trusting only that key's certificate. */
  private static Mono<Response> pingWithRotatedKey(TcpTransport client, TcpTransport to) {
    Contact sender =
        new Contact(NodeId.random(new SplittableRandom(7)), Address.parse("127.0.0.1:9"));
    return client.send(to.localAddress(), new Request.Ping(sender, true));
  }

  private static TcpTransport rotatedClient() {
    char[] password = certs.password().toCharArray();
    return TcpTransport.create(
        TcpTransportOptions.builder()
            .tls(
                TcpTls.builder()
                    .keyStore(rotated.keyStore(), password)
                    .trustStore(rotated.keyStore(), password)
                    .build())
            .build());
  }

  @Test
  void anUpdatedBundleReachesTheRunningTransport() {
    runner
        .withPropertyValues(jksBundle("cluster"))
        .withPropertyValues("kad.tls.bundle=cluster")
        .run(
            context -> {
              TcpTransport transport = context.getBean(TcpTransport.class);
              TcpTransport client = rotatedClient();
              try {
                // The client trusts only the rotated certificate: refused before the update.
                assertThatThrownBy(() -> pingWithRotatedKey(client, transport).block(BOUND))
                    .isInstanceOf(UnreachableContactException.class);

                String logged =
                    stderrOf(
                        () ->
                            context
                                .getBean(SslBundleRegistry.class)
                                .updateBundle("cluster", rotatedBundle(true)));

                assertThat(pingWithRotatedKey(client, transport).block(BOUND))
                    .isInstanceOf(Response.Pong.class);
                assertThat(logged)
                    .containsOnlyOnce(
                        "INFO dev.kad.spring.KadAutoConfiguration - kad: TLS material of bundle"
                            + " 'cluster' reloaded");
              } finally {
                client.close().block(BOUND);
              }
            });
  }

  @Test
  void aBundleUpdatedAfterTheTransportReadItAndBeforeItsHandlerIsRegisteredStillReachesIt() {
    // The update lands in the gap, deterministically: just before the starter registers its
    // handler, which therefore never hears of it.
    JksSslStoreDetails store =
        new JksSslStoreDetails("PKCS12", null, "file:" + node.keyStore(), certs.password());
    DefaultSslBundleRegistry registry =
        new DefaultSslBundleRegistry("cluster", SslBundle.of(new JksSslStoreBundle(store, store)));
    SslBundles updatedInTheGap =
        new SslBundles() {
          @Override
          public SslBundle getBundle(String name) {
            return registry.getBundle(name);
          }

          @Override
          public void addBundleUpdateHandler(String name, Consumer<SslBundle> handler) {
            registry.updateBundle(name, rotatedBundle(true));
            registry.addBundleUpdateHandler(name, handler);
          }

          @Override
          public void addBundleRegisterHandler(BiConsumer<String, SslBundle> handler) {
            registry.addBundleRegisterHandler(handler);
          }

          @Override
          public List<String> getBundleNames() {
            return registry.getBundleNames();
          }
        };
    runner
        .withBean(SslBundles.class, () -> updatedInTheGap)
        .withPropertyValues("kad.tls.bundle=cluster")
        .run(
            context -> {
              TcpTransport transport = context.getBean(TcpTransport.class);
              assertAnswersTheRotatedKey(transport);
            });
  }

  @Test
  void aBundleReloadedOnUpdateReachesTheRunningTransport(@TempDir Path files) throws IOException {
    // The path an operator takes: the store's file is replaced, Spring's watcher reloads it.
    Path store = Files.copy(node.keyStore(), files.resolve("kad.p12"));
    String prefix = "spring.ssl.bundle.jks.cluster.";
    runner
        .withPropertyValues(
            prefix + "reload-on-update=true",
            prefix + "keystore.location=file:" + store,
            prefix + "keystore.password=" + certs.password(),
            prefix + "keystore.type=PKCS12",
            prefix + "truststore.location=file:" + store,
            prefix + "truststore.password=" + certs.password(),
            prefix + "truststore.type=PKCS12",
            "spring.ssl.bundle.watch.file.quiet-period=50ms",
            "kad.tls.bundle=cluster")
        .run(
            context -> {
              TcpTransport transport = context.getBean(TcpTransport.class);
              TcpTls before = transport.tls().orElseThrow();
              Files.copy(rotated.keyStore(), store, StandardCopyOption.REPLACE_EXISTING);
              for (int i = 0; i < 400 && transport.tls().orElseThrow() == before; i++) {
                Mono.delay(Duration.ofMillis(50)).block(BOUND);
              }
              assertThat(transport.tls().orElseThrow())
                  .as("the transport's TLS after the bundle's file was replaced")
                  .isNotSameAs(before);
              assertAnswersTheRotatedKey(transport);
            });
  }

  @Test
  void anUpdatedBundleThatCannotBeUsedIsLoggedAndTheMaterialKept() {
    runner
        .withPropertyValues(jksBundle("cluster"))
        .withPropertyValues("kad.tls.bundle=cluster")
        .run(
            context -> {
              TcpTransport transport = context.getBean(TcpTransport.class);
              TcpTls before = transport.tls().orElseThrow();

              String logged =
                  stderrOf(
                      () ->
                          context
                              .getBean(SslBundleRegistry.class)
                              .updateBundle("cluster", rotatedBundle(false)));

              assertThat(transport.tls()).containsSame(before);
              assertThat(logged)
                  .contains(
                      "WARN dev.kad.spring.KadAutoConfiguration - kad: TLS material of bundle"
                          + " 'cluster' was updated but cannot be used")
                  .contains("kad.tls.bundle 'cluster' has no trust store")
                  .doesNotContain("TLS material of bundle 'cluster' reloaded");
            });
  }

  @Test
  void anUpdateAfterTheTransportClosedIsNotReportedAsReloaded() {
    TcpTransport closed = rotatedClient();
    closed.close().block(BOUND);
    String logged =
        stderrOf(
            () ->
                KadAutoConfiguration.reloadTls(
                    closed, "cluster", new KadProperties().getTls(), rotatedBundle(true)));
    assertThat(logged).doesNotContain("reloaded").doesNotContain("WARN");
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
