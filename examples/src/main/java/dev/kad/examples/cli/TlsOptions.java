package dev.kad.examples.cli;

import dev.kad.transport.tcp.TcpTls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The {@code --tls-*} options of {@code kad node|put|get|watch}: mutual TLS from PKCS12 stores,
 * their password read from an environment variable so that it never appears on the command line
 * (where {@code ps} and shell history show it). Without them the node speaks plain TCP.
 */
final class TlsOptions {

  @Spec(Spec.Target.MIXEE)
  private CommandSpec mixee;

  @Option(
      names = "--tls-key-store",
      paramLabel = "PATH",
      description =
          "PKCS12 key store with this node's key and certificate chain: turns TLS on, for every"
              + " connection (needs --tls-trust-store and --tls-password-env).")
  private Path keyStore;

  @Option(
      names = "--tls-trust-store",
      paramLabel = "PATH",
      description = "PKCS12 store of the certificates to trust, usually the cluster's CA.")
  private Path trustStore;

  @Option(
      names = "--tls-password-env",
      paramLabel = "NAME",
      description =
          "Environment variable holding the password of both stores (never on the command line).")
  private String passwordEnv;

  @Option(
      names = "--tls-no-client-auth",
      description =
          "Accept peers without a certificate (traffic is still encrypted, but anyone may join).")
  private boolean noClientAuth;

  /**
   * The TLS settings the options describe, with the stores read and checked.
   *
   * @return the settings, or null when no {@code --tls-*} option was given
   * @throws ParameterException when the options are incomplete or the variable is not set
   * @throws IllegalArgumentException naming the option and path when a store cannot be read with
   *     the password
   */
  TcpTls tls() {
    if (keyStore == null && trustStore == null && passwordEnv == null && !noClientAuth) {
      return null;
    }
    List<String> missing = new ArrayList<>();
    if (keyStore == null) {
      missing.add("--tls-key-store");
    }
    if (trustStore == null) {
      missing.add("--tls-trust-store");
    }
    if (passwordEnv == null || passwordEnv.isBlank()) {
      missing.add("--tls-password-env");
    }
    if (!missing.isEmpty()) {
      throw new ParameterException(
          mixee.commandLine(),
          "--tls-key-store, --tls-trust-store and --tls-password-env go together: missing "
              + String.join(", ", missing));
    }
    String value = KadCli.environment(mixee, passwordEnv);
    if (value == null) {
      throw new ParameterException(
          mixee.commandLine(),
          "--tls-password-env names " + passwordEnv + ", which is not set in the environment");
    }
    char[] password = value.toCharArray();
    try {
      return TcpTls.builder()
          .keyStore(keyStore, password)
          .trustStore(trustStore, password)
          .requireClientAuth(!noClientAuth)
          .build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          String.valueOf(e.getMessage())
              .replaceAll("\\bkeyStore\\b", "--tls-key-store")
              .replaceAll("\\btrustStore\\b", "--tls-trust-store"),
          e);
    } finally {
      Arrays.fill(password, '\0');
    }
  }
}
