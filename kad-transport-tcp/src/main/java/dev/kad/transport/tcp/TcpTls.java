package dev.kad.transport.tcp;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.Objects;
import java.util.concurrent.Executor;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * TLS for every connection of a {@link TcpTransport}, inbound and outbound, with the node's own key
 * and certificate and the certificates it trusts; by default mutual: a peer must present a
 * certificate the trust material accepts, so only nodes holding one issued by the cluster's CA can
 * join. Set it with {@link TcpTransportOptions.Builder#tls(TcpTls)}; without it the transport
 * speaks plain TCP. There is no fallback: with TLS on, a peer that does not complete a handshake
 * within {@code connectTimeout} is disconnected.
 *
 * <pre>{@code
 * TcpTls tls = TcpTls.builder()
 *     .keyStore(Path.of("node1.p12"), password)     // the node's key and certificate chain
 *     .trustStore(Path.of("cluster-ca.p12"), password) // the cluster's CA
 *     .build();                                     // requireClientAuth: true by default
 * TcpTransportOptions.builder().fromConfig(config).tls(tls).build();
 * }</pre>
 *
 * <p><b>What is verified.</b> The peer's certificate chain must lead to a certificate of the trust
 * material (never the JDK's public CAs, which would admit anyone with a public certificate). The
 * host name or IP a peer was dialed by is not checked against its certificate unless {@link
 * Builder#endpointIdentification(boolean)}: contacts travel between nodes as IP literals, and node
 * certificates are often issued per cluster rather than per host. Without the check, any holder of
 * a certificate the trust material accepts can answer for any address: TLS then proves membership
 * of the cluster, not which member listens where (nor which node id: ids are not bound to
 * certificates either way). With it, each node's certificate must name, as a subject alternative
 * name, every host or IP that peers dial it by.
 *
 * <p>Key material is read and checked by the builder, so a missing file or a wrong password is an
 * {@link IllegalArgumentException} naming the path when the options are built, not a handshake
 * failure at the first connection. The handshake's CPU-heavy steps (certificate validation, key
 * agreement) run off the event loops, on {@code Schedulers.boundedElastic()}.
 *
 * <p><b>Rotation.</b> A {@code TcpTls} never changes: its contexts are built once, from the
 * material as it was read then. To rotate a certificate or trust store in a running node, build a
 * new one and give it to {@link TcpTransport#updateTls(TcpTls)}; new connections use it, open ones
 * keep theirs.
 */
public final class TcpTls {

  private final SslContext server;
  private final SslContext client;
  private final boolean requireClientAuth;
  private final boolean endpointIdentification;
  private final String description;

  private TcpTls(
      SslContext server,
      SslContext client,
      boolean requireClientAuth,
      boolean endpointIdentification,
      String description) {
    this.server = server;
    this.client = client;
    this.requireClientAuth = requireClientAuth;
    this.endpointIdentification = endpointIdentification;
    this.description = description;
  }

  /**
   * A builder with mutual TLS on and endpoint identification off; key and trust material must be
   * set.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Whether accepted peers must present a certificate the trust material accepts.
   *
   * @return true for mutual TLS
   */
  public boolean requireClientAuth() {
    return requireClientAuth;
  }

  /**
   * Whether a dialed peer's certificate must name the host or IP it was dialed by.
   *
   * @return true when the dialed host is checked
   */
  public boolean endpointIdentification() {
    return endpointIdentification;
  }

  /**
   * A handler for one connection: the server side for an accepted one, the client side for one
   * dialed to {@code remote} (whose host name or IP endpoint identification checks).
   */
  SslHandler newHandler(
      ByteBufAllocator alloc,
      boolean inbound,
      SocketAddress remote,
      Executor delegatedTasks,
      Duration handshakeTimeout) {
    SslHandler handler;
    if (inbound) {
      handler = server.newHandler(alloc, delegatedTasks);
    } else if (remote instanceof InetSocketAddress r) {
      handler = client.newHandler(alloc, r.getHostString(), r.getPort(), delegatedTasks);
    } else {
      handler = client.newHandler(alloc, delegatedTasks);
    }
    handler.setHandshakeTimeoutMillis(TcpTransport.ceilMillis(handshakeTimeout));
    return handler;
  }

  @Override
  public String toString() {
    return "TcpTls["
        + description
        + ", requireClientAuth="
        + requireClientAuth
        + ", endpointIdentification="
        + endpointIdentification
        + "]";
  }

  /** Collects key and trust material; each setter reads and checks what it is given at once. */
  public static final class Builder {
    private KeyManagerFactory keyManagerFactory;
    private Path certificateChainPem;
    private Path privateKeyPem;
    private String keyDescription;
    private TrustManagerFactory trustManagerFactory;
    private String trustDescription;
    private boolean requireClientAuth = true;
    private boolean endpointIdentification;

    private Builder() {}

    /**
     * The node's private key and certificate chain from a PKCS12 key store (as {@code keytool
     * -storetype PKCS12} or {@code openssl pkcs12 -export} write it), the key protected by the
     * store's password.
     *
     * @param pkcs12 the key store file
     * @param password its password
     * @return this builder
     * @throws IllegalArgumentException naming the path when the file is missing or unreadable, the
     *     password is wrong or the store holds no private key
     */
    public Builder keyStore(Path pkcs12, char[] password) {
      Objects.requireNonNull(password, "password");
      KeyStore store = load("keyStore", pkcs12, password);
      try {
        if (Collections.list(store.aliases()).stream().noneMatch(a -> isKey(store, a))) {
          throw new IllegalArgumentException(
              "keyStore " + pkcs12 + " holds no private key: it must hold the node's key entry");
        }
        KeyManagerFactory kmf =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(store, password);
        return keys(kmf, "keyStore " + pkcs12);
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException(
            "keyStore " + pkcs12 + " cannot be used: " + SocketErrors.reason(e), e);
      }
    }

    /**
     * The node's certificate chain and private key from PEM files: the node's certificate first,
     * then the CAs that issued it; the key unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}).
     *
     * @param certificateChain the PEM certificate chain
     * @param privateKey the PEM private key
     * @return this builder
     * @throws IllegalArgumentException naming the path when a file is missing or unreadable, or
     *     when they do not make a key and its certificate
     */
    public Builder keyPem(Path certificateChain, Path privateKey) {
      readable("certificateChain", certificateChain);
      readable("privateKey", privateKey);
      try {
        // Built once here only to check the pair: a key that does not parse or fit its certificate.
        SslContextBuilder.forServer(certificateChain.toFile(), privateKey.toFile())
            .sslProvider(SslProvider.JDK)
            .build();
      } catch (SSLException | IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "privateKey "
                + privateKey
                + " and certificateChain "
                + certificateChain
                + " are not a PEM key and its certificate: "
                + SocketErrors.reason(e),
            e);
      }
      this.keyManagerFactory = null;
      this.certificateChainPem = certificateChain;
      this.privateKeyPem = privateKey;
      this.keyDescription = "keyPem " + certificateChain;
      return this;
    }

    /**
     * The node's key and certificate from a key manager factory, initialised by the caller (a
     * hardware token, a store of another type).
     *
     * @param keyManagerFactory an initialised factory
     * @return this builder
     */
    public Builder keyManagerFactory(KeyManagerFactory keyManagerFactory) {
      Objects.requireNonNull(keyManagerFactory, "keyManagerFactory");
      return keys(keyManagerFactory, "keyManagerFactory " + keyManagerFactory.getAlgorithm());
    }

    private Builder keys(KeyManagerFactory kmf, String description) {
      this.keyManagerFactory = kmf;
      this.certificateChainPem = null;
      this.privateKeyPem = null;
      this.keyDescription = description;
      return this;
    }

    /**
     * The certificates to trust, usually the cluster's CA, from a PKCS12 store of trusted
     * certificate entries (a store with key entries works too: their certificates are trusted).
     *
     * @param pkcs12 the trust store file
     * @param password its password
     * @return this builder
     * @throws IllegalArgumentException naming the path when the file is missing or unreadable, the
     *     password is wrong or the store holds no certificate
     */
    public Builder trustStore(Path pkcs12, char[] password) {
      Objects.requireNonNull(password, "password");
      KeyStore store = load("trustStore", pkcs12, password);
      try {
        if (store.size() == 0) {
          throw new IllegalArgumentException("trustStore " + pkcs12 + " holds no certificate");
        }
        return trust(trustFactory(store), "trustStore " + pkcs12);
      } catch (GeneralSecurityException e) {
        throw new IllegalArgumentException(
            "trustStore " + pkcs12 + " cannot be used: " + SocketErrors.reason(e), e);
      }
    }

    /**
     * The certificates to trust, usually the cluster's CA, from a PEM file of one or more
     * certificates.
     *
     * @param certificates the PEM file
     * @return this builder
     * @throws IllegalArgumentException naming the path when the file is missing, unreadable or
     *     holds no certificate
     */
    public Builder trustPem(Path certificates) {
      readable("trustPem", certificates);
      try (InputStream in = Files.newInputStream(certificates)) {
        Collection<? extends Certificate> certs =
            CertificateFactory.getInstance("X.509").generateCertificates(in);
        if (certs.isEmpty()) {
          throw new IllegalArgumentException("trustPem " + certificates + " holds no certificate");
        }
        KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        int i = 0;
        for (Certificate c : certs) {
          store.setCertificateEntry("ca-" + i++, c);
        }
        return trust(trustFactory(store), "trustPem " + certificates);
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException(
            "trustPem " + certificates + " cannot be read as PEM certificates: " + e.getMessage(),
            e);
      }
    }

    /**
     * The certificates to trust from a trust manager factory, initialised by the caller.
     *
     * @param trustManagerFactory an initialised factory
     * @return this builder
     */
    public Builder trustManagerFactory(TrustManagerFactory trustManagerFactory) {
      Objects.requireNonNull(trustManagerFactory, "trustManagerFactory");
      return trust(
          trustManagerFactory, "trustManagerFactory " + trustManagerFactory.getAlgorithm());
    }

    private Builder trust(TrustManagerFactory tmf, String description) {
      this.trustManagerFactory = tmf;
      this.trustDescription = description;
      return this;
    }

    /**
     * Whether accepted peers must present a certificate the trust material accepts (true by
     * default: mutual TLS, only holders of such a certificate can connect). False encrypts and lets
     * peers check this node, but accepts any peer: for networks that admit clients without
     * certificates.
     *
     * @param requireClientAuth false to accept peers without a certificate
     * @return this builder
     */
    public Builder requireClientAuth(boolean requireClientAuth) {
      this.requireClientAuth = requireClientAuth;
      return this;
    }

    /**
     * Whether a dialed peer's certificate must name the host or IP literal it was dialed by, as a
     * subject alternative name (HTTPS rules; false by default). Off, any holder of a trusted
     * certificate may answer at any address; on, every node needs a certificate naming each address
     * peers know it by (its advertised address).
     *
     * @param endpointIdentification true to check dialed hosts
     * @return this builder
     */
    public Builder endpointIdentification(boolean endpointIdentification) {
      this.endpointIdentification = endpointIdentification;
      return this;
    }

    /**
     * The settings, with the server and client TLS contexts built from them.
     *
     * @return the TLS settings
     * @throws IllegalArgumentException when key or trust material is missing
     */
    public TcpTls build() {
      if (keyManagerFactory == null && privateKeyPem == null) {
        throw new IllegalArgumentException(
            "TcpTls needs the node's key and certificate: set keyStore, keyPem or"
                + " keyManagerFactory");
      }
      if (trustManagerFactory == null) {
        throw new IllegalArgumentException(
            "TcpTls needs the certificates to trust (the cluster's CA): set trustStore, trustPem"
                + " or trustManagerFactory; the JDK's public CAs are never trusted by default");
      }
      // Handshakes draw random bytes on the event loops (a client's hello and key share): a DRBG
      // seeded here does no I/O there, where the default reads /dev/urandom.
      SecureRandom random = seededRandom();
      SslContextBuilder server =
          keyManagerFactory != null
              ? SslContextBuilder.forServer(keyManagerFactory)
              : SslContextBuilder.forServer(certificateChainPem.toFile(), privateKeyPem.toFile());
      server
          .trustManager(trustManagerFactory)
          .clientAuth(requireClientAuth ? ClientAuth.REQUIRE : ClientAuth.NONE)
          .sslProvider(SslProvider.JDK)
          .secureRandom(random);
      SslContextBuilder client =
          SslContextBuilder.forClient()
              .trustManager(trustManagerFactory)
              .sslProvider(SslProvider.JDK)
              .secureRandom(random)
              // Netty 4.2 checks the host by default on clients; kad decides it here.
              .endpointIdentificationAlgorithm(endpointIdentification ? "HTTPS" : null);
      if (keyManagerFactory != null) {
        client.keyManager(keyManagerFactory);
      } else {
        client.keyManager(certificateChainPem.toFile(), privateKeyPem.toFile());
      }
      try {
        return new TcpTls(
            server.build(),
            client.build(),
            requireClientAuth,
            endpointIdentification,
            keyDescription + ", " + trustDescription);
      } catch (SSLException | IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "TLS with "
                + keyDescription
                + " and "
                + trustDescription
                + " cannot be set up: "
                + SocketErrors.reason(e),
            e);
      }
    }

    private static boolean isKey(KeyStore store, String alias) {
      try {
        return store.isKeyEntry(alias);
      } catch (GeneralSecurityException e) {
        return false;
      }
    }

    private static TrustManagerFactory trustFactory(KeyStore store)
        throws GeneralSecurityException {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(store);
      return tmf;
    }

    private static void readable(String name, Path path) {
      Objects.requireNonNull(path, name);
      if (!Files.isRegularFile(path)) {
        throw new IllegalArgumentException(name + " " + path + " does not exist or is not a file");
      }
      if (!Files.isReadable(path)) {
        throw new IllegalArgumentException(name + " " + path + " is not readable");
      }
    }

    private static KeyStore load(String name, Path path, char[] password) {
      readable(name, path);
      try (InputStream in = Files.newInputStream(path)) {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(in, password);
        return store;
      } catch (IOException | GeneralSecurityException e) {
        throw new IllegalArgumentException(
            name
                + " "
                + path
                + " cannot be read as PKCS12 with the given password (wrong password, or not a"
                + " PKCS12 file): "
                + SocketErrors.reason(e),
            e);
      }
    }

    private static SecureRandom seededRandom() {
      SecureRandom random;
      try {
        random = SecureRandom.getInstance("DRBG");
      } catch (NoSuchAlgorithmException e) {
        random = new SecureRandom();
      }
      random.nextBytes(new byte[16]);
      return random;
    }
  }
}
