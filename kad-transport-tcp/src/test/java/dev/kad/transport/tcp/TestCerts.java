package dev.kad.transport.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Certificates for TLS tests, made with the JDK's {@code keytool} into a directory: a cluster CA, a
 * trust store holding it, a node key store signed by it (subject alternative name IP 127.0.0.1), a
 * node signed by it whose certificate names another host, and a self-signed stranger.
 */
final class TestCerts {

  static final char[] PASSWORD = "changeit".toCharArray();
  private static final String PW = new String(PASSWORD);

  final Path dir;
  final Path trustStore;
  final Path node;
  final Path otherName;
  final Path stranger;
  final Path caPem;

  private TestCerts(Path dir) {
    this.dir = dir;
    this.trustStore = dir.resolve("trust.p12");
    this.node = dir.resolve("node.p12");
    this.otherName = dir.resolve("other-name.p12");
    this.stranger = dir.resolve("stranger.p12");
    this.caPem = dir.resolve("ca.pem");
  }

  private static TestCerts shared;

  /**
   * One set for the whole test run (keytool starts a JVM per call), in a temporary directory
   * removed when the run ends.
   */
  static synchronized TestCerts shared() throws Exception {
    if (shared == null) {
      Path dir = Files.createTempDirectory("kad-tls-test");
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    try (var files = Files.list(dir)) {
                      files.forEach(f -> f.toFile().delete());
                    } catch (IOException e) {
                      // best effort
                    }
                    dir.toFile().delete();
                  }));
      shared = create(dir);
    }
    return shared;
  }

  static TestCerts create(Path dir) throws Exception {
    TestCerts c = new TestCerts(dir);
    Path ca = dir.resolve("ca.p12");
    keytool(
        "-genkeypair",
        "-alias",
        "ca",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=kad test CA",
        "-ext",
        "bc:c",
        "-validity",
        "2",
        "-keystore",
        ca.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PW,
        "-keypass",
        PW);
    keytool(
        "-exportcert",
        "-rfc",
        "-alias",
        "ca",
        "-keystore",
        ca.toString(),
        "-storepass",
        PW,
        "-file",
        c.caPem.toString());
    Certificate caCert = readPem(c.caPem).get(0);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", caCert);
    store(trust, c.trustStore);
    signed(ca, caCert, c.node, "CN=kad node", "SAN=IP:127.0.0.1");
    signed(ca, caCert, c.otherName, "CN=kad elsewhere", "SAN=DNS:elsewhere.example");
    keytool(
        "-genkeypair",
        "-alias",
        "node",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=stranger",
        "-validity",
        "2",
        "-keystore",
        c.stranger.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PW,
        "-keypass",
        PW);
    return c;
  }

  /** A key store at {@code out} whose key's certificate the CA signed, chain [node, CA]. */
  private static void signed(Path ca, Certificate caCert, Path out, String dname, String san)
      throws Exception {
    keytool(
        "-genkeypair",
        "-alias",
        "node",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        dname,
        "-validity",
        "2",
        "-keystore",
        out.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PW,
        "-keypass",
        PW);
    Path csr = Path.of(out + ".csr");
    Path pem = Path.of(out + ".pem");
    keytool(
        "-certreq",
        "-alias",
        "node",
        "-keystore",
        out.toString(),
        "-storepass",
        PW,
        "-file",
        csr.toString());
    keytool(
        "-gencert",
        "-rfc",
        "-alias",
        "ca",
        "-keystore",
        ca.toString(),
        "-storepass",
        PW,
        "-infile",
        csr.toString(),
        "-outfile",
        pem.toString(),
        "-validity",
        "2",
        "-ext",
        san);
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(out)) {
      ks.load(in, PASSWORD);
    }
    Key key = ks.getKey("node", PASSWORD);
    ks.setKeyEntry("node", key, PASSWORD, new Certificate[] {readPem(pem).get(0), caCert});
    store(ks, out);
  }

  /** Writes the node's chain and PKCS#8 key as PEM files, for {@code keyPem}. */
  Path[] nodePem() throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(node)) {
      ks.load(in, PASSWORD);
    }
    StringBuilder chain = new StringBuilder();
    for (Certificate cert : ks.getCertificateChain("node")) {
      chain.append(pem("CERTIFICATE", cert.getEncoded()));
    }
    Path chainFile = dir.resolve("node-chain.pem");
    Path keyFile = dir.resolve("node-key.pem");
    Files.writeString(chainFile, chain);
    Files.writeString(keyFile, pem("PRIVATE KEY", ks.getKey("node", PASSWORD).getEncoded()));
    return new Path[] {chainFile, keyFile};
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  private static List<Certificate> readPem(Path pem) throws Exception {
    try (InputStream in = Files.newInputStream(pem)) {
      return new ArrayList<>(CertificateFactory.getInstance("X.509").generateCertificates(in));
    }
  }

  private static void store(KeyStore ks, Path out) throws Exception {
    try (OutputStream o = Files.newOutputStream(out)) {
      ks.store(o, PASSWORD);
    }
  }

  private static void keytool(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    p.getOutputStream().close();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("keytool took over 60 s: " + command);
    }
    String output = new String(p.getInputStream().readAllBytes());
    if (p.exitValue() != 0) {
      throw new IllegalStateException("keytool failed: " + command + "\n" + output);
    }
  }
}
