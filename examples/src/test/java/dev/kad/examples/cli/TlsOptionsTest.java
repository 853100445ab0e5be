package dev.kad.examples.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.testkit.TestCertificates;
import dev.kad.transport.tcp.TcpTls;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --tls-key-store}, {@code --tls-trust-store}, {@code --tls-password-env}: put and get reach
 * a TLS node with them and not without; a bad store or password is one line and exit code 2.
 */
class TlsOptionsTest {

  @TempDir static Path dir;

  /** One self-signed key that the nodes hold and trust: the key store is the trust store too. */
  private static TestCertificates.Issued node;

  private static String password;

  /** The environment the commands see: the password in KAD_TEST_TLS_PASSWORD. */
  private static Map<String, String> env;

  private final List<KadNode> nodes = new ArrayList<>();

  @BeforeAll
  static void certificates() {
    TestCertificates certs = TestCertificates.create(dir);
    node = certs.selfSigned("node", "IP:127.0.0.1");
    password = certs.password();
    env = Map.of("KAD_TEST_TLS_PASSWORD", password, "KAD_WRONG_PASSWORD", "wrong-one");
  }

  @AfterEach
  void closeNodes() {
    for (KadNode node : nodes) {
      node.close().block(Duration.ofSeconds(10));
    }
  }

  private String[] tls(String... more) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "--tls-key-store",
                node.keyStore().toString(),
                "--tls-trust-store",
                node.keyStore().toString(),
                "--tls-password-env",
                "KAD_TEST_TLS_PASSWORD"));
    args.addAll(List.of(more));
    return args.toArray(String[]::new);
  }

  private static String[] args(String command, String[] tls, String... rest) {
    List<String> all = new ArrayList<>(List.of(command));
    all.addAll(List.of(tls));
    all.addAll(List.of(rest));
    return all.toArray(String[]::new);
  }

  private String startTlsNode() {
    TcpTls tls =
        TcpTls.builder()
            .keyStore(node.keyStore(), password.toCharArray())
            .trustStore(node.keyStore(), password.toCharArray())
            .build();
    KadNode node =
        RunningNode.startNode(
            KadConfig.defaults(),
            "tls-test",
            null,
            "127.0.0.1",
            0,
            null,
            1,
            tls,
            new SplittableRandom(1),
            Duration.ofSeconds(30));
    nodes.add(node);
    return node.contact().address().toString();
  }

  @Test
  @Timeout(value = 90, unit = TimeUnit.SECONDS)
  void putAndGetReachATlsNodeWithTheStoresAndNotWithout() {
    String seed = startTlsNode();

    Cli.Run put =
        Cli.kad(env, args("put", tls(), "--bootstrap", seed, "--timeout", "20s", "k", "secret"));
    assertThat(put.exitCode()).as(put.errText()).isZero();
    assertThat(put.out()).containsExactly("stored 'k' at 1 of 1 nodes");

    Cli.Run get = Cli.kad(env, args("get", tls(), "--bootstrap", seed, "--timeout", "20s", "k"));
    assertThat(get.exitCode()).as(get.errText()).isZero();
    assertThat(get.out()).containsExactly("secret");

    // Plain TCP: the TLS node closes the connection, and the client cannot join.
    Cli.Run plain = Cli.kad("get", "--bootstrap", seed, "--timeout", "5s", "k");
    assertThat(plain.exitCode()).isEqualTo(1);
    assertThat(plain.err()).singleElement().asString().startsWith("kad get: ");
  }

  @Test
  void aMissingStoreOrWrongPasswordIsBadInputOnOneLine() {
    Path missing = dir.resolve("missing.p12");
    Cli.Run noFile =
        Cli.kad(
            env,
            "put",
            "--bootstrap",
            "127.0.0.1:7000",
            "--tls-key-store",
            missing.toString(),
            "--tls-trust-store",
            node.keyStore().toString(),
            "--tls-password-env",
            "KAD_TEST_TLS_PASSWORD",
            "k",
            "v");
    assertThat(noFile.exitCode()).isEqualTo(2);
    assertThat(noFile.err())
        .containsExactly(
            "kad put: --tls-key-store " + missing + " does not exist or is not a file");

    Cli.Run wrong =
        Cli.kad(
            env,
            args(
                "node",
                new String[] {
                  "--tls-key-store",
                  node.keyStore().toString(),
                  "--tls-trust-store",
                  node.keyStore().toString(),
                  "--tls-password-env",
                  "KAD_WRONG_PASSWORD"
                },
                "--port",
                "0"));
    assertThat(wrong.exitCode()).isEqualTo(2);
    assertThat(wrong.err())
        .singleElement()
        .asString()
        .startsWith(
            "kad node: --tls-key-store "
                + node.keyStore()
                + " cannot be read as PKCS12 with the given password");
    assertThat(wrong.out()).isEmpty();
  }

  @Test
  void thePasswordComesFromANamedVariableThatMustBeSet() {
    Cli.Run unset =
        Cli.kad(
            env,
            "watch",
            "--bootstrap",
            "127.0.0.1:7000",
            "--tls-key-store",
            node.keyStore().toString(),
            "--tls-trust-store",
            node.keyStore().toString(),
            "--tls-password-env",
            "KAD_NOT_SET",
            "k");
    assertThat(unset.exitCode()).isEqualTo(2);
    assertThat(unset.err())
        .containsExactly(
            "kad watch: --tls-password-env names KAD_NOT_SET, which is not set in the environment"
                + " (see 'kad watch --help')");
  }

  @Test
  void theTlsOptionsGoTogether() {
    Cli.Run keyOnly =
        Cli.kad(
            env,
            "get",
            "--bootstrap",
            "127.0.0.1:7000",
            "--tls-key-store",
            node.keyStore().toString(),
            "--tls-password-env",
            "KAD_TEST_TLS_PASSWORD",
            "k");
    assertThat(keyOnly.exitCode()).isEqualTo(2);
    assertThat(keyOnly.err())
        .containsExactly(
            "kad get: --tls-key-store, --tls-trust-store and --tls-password-env go together:"
                + " missing --tls-trust-store (see 'kad get --help')");
    Cli.Run noClientAuthAlone = Cli.kad(env, "node", "--port", "0", "--tls-no-client-auth");
    assertThat(noClientAuthAlone.exitCode()).isEqualTo(2);
    assertThat(noClientAuthAlone.err())
        .containsExactly(
            "kad node: --tls-key-store, --tls-trust-store and --tls-password-env go together:"
                + " missing --tls-key-store, --tls-trust-store, --tls-password-env (see 'kad node"
                + " --help')");
  }
}
