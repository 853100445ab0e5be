package dev.kad.spring;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A node key and certificate for TLS tests, made with the JDK's {@code keytool} in a directory: a
 * PKCS12 store whose one self-signed certificate (subject alternative name IP 127.0.0.1) is both
 * the node's and the one it trusts, so every node holding it admits the others; and the same key
 * and certificate as PEM files. (A cut-down kad-transport-tcp TestCerts, whose test code is not on
 * this module's class path.)
 */
final class TlsFiles {

  static final String PASSWORD = "changeit";

  final Path keyStore;
  final Path certificatePem;
  final Path privateKeyPem;

  private TlsFiles(Path dir) {
    this.keyStore = dir.resolve("node.p12");
    this.certificatePem = dir.resolve("node.pem");
    this.privateKeyPem = dir.resolve("node-key.pem");
  }

  static TlsFiles create(Path dir) throws Exception {
    TlsFiles files = new TlsFiles(dir);
    keytool(
        "-genkeypair",
        "-alias",
        "node",
        "-keyalg",
        "EC",
        "-groupname",
        "secp256r1",
        "-dname",
        "CN=kad node",
        "-ext",
        "SAN=IP:127.0.0.1",
        "-validity",
        "2",
        "-keystore",
        files.keyStore.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PASSWORD,
        "-keypass",
        PASSWORD);
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(files.keyStore)) {
      store.load(in, PASSWORD.toCharArray());
    }
    Certificate certificate = store.getCertificate("node");
    Files.writeString(files.certificatePem, pem("CERTIFICATE", certificate.getEncoded()));
    Files.writeString(
        files.privateKeyPem,
        pem("PRIVATE KEY", store.getKey("node", PASSWORD.toCharArray()).getEncoded()));
    return files;
  }

  /** The properties of a JKS-style bundle {@code name} of the PKCS12 store, key and trust. */
  String[] jksBundle(String name) {
    String prefix = "spring.ssl.bundle.jks." + name + ".";
    return new String[] {
      prefix + "keystore.location=file:" + keyStore,
      prefix + "keystore.password=" + PASSWORD,
      prefix + "keystore.type=PKCS12",
      prefix + "truststore.location=file:" + keyStore,
      prefix + "truststore.password=" + PASSWORD,
      prefix + "truststore.type=PKCS12"
    };
  }

  /** The properties of a PEM bundle {@code name} of the PEM files, key and trust. */
  String[] pemBundle(String name) {
    String prefix = "spring.ssl.bundle.pem." + name + ".";
    return new String[] {
      prefix + "keystore.certificate=file:" + certificatePem,
      prefix + "keystore.private-key=file:" + privateKeyPem,
      prefix + "truststore.certificate=file:" + certificatePem
    };
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

  private static void keytool(String... args) throws Exception {
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
