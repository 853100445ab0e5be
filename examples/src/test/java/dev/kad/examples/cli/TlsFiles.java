package dev.kad.examples.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A node key and certificate for TLS tests, made with the JDK's {@code keytool} in a directory: a
 * PKCS12 store whose one self-signed certificate (subject alternative name IP 127.0.0.1) is both
 * the node's and the one it trusts, so every node holding it admits the others. (A cut-down
 * kad-transport-tcp TestCerts, whose test code is not on this module's class path.)
 */
final class TlsFiles {

  static final String PASSWORD = "changeit";

  final Path keyStore;

  private TlsFiles(Path dir) {
    this.keyStore = dir.resolve("node.p12");
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
    return files;
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
