package dev.kad.testkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import javax.security.auth.x500.X500Principal;

/**
 * Certificates for tests of TLS, made with the JDK's own {@code keytool} (run as a process from
 * {@code java.home}) and {@code java.security}: a certificate authority of the test's own in a
 * directory, certificates it signs for named nodes with the subject alternative names asked for, a
 * trust store holding only the CA, and self-signed certificates it did not sign. Every key is EC
 * P-256; every store is PKCS12 with the password {@link #password()}; certificates are valid for
 * {@value #VALIDITY_DAYS} days from their making, unless made by {@link #issueValid} for a period
 * of the caller's (an expired or a not yet valid one).
 *
 * <pre>{@code
 * @TempDir static Path dir;
 *
 * TestCertificates ca = TestCertificates.create(dir);
 * TestCertificates.Issued node = ca.issue("node1", "IP:127.0.0.1");
 * TcpTls tls = TcpTls.builder()
 *     .keyStore(node.keyStore(), ca.password().toCharArray())
 *     .trustStore(ca.trustStore(), ca.password().toCharArray())
 *     .build();
 * // or from PEM: keyPem(node.certificatePem(), node.privateKeyPem()).trustPem(ca.caPem())
 * TestCertificates.Issued outsider = ca.selfSigned("outsider"); // refused by the nodes above
 * Instant now = Instant.now();
 * TestCertificates.Issued expired = // refused as expired by the nodes above
 *     ca.issueValid("expired", now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)));
 * }</pre>
 *
 * <p>Each {@code keytool} call starts a JVM (a second or two): the CA takes one call, made on first
 * need, and each {@link #issue}, {@link #issueValid} and {@link #selfSigned} one more (a key pair
 * and its signing request are made in this JVM). Test classes that share certificates can use
 * {@link #shared()}, one CA per test JVM, whose {@code issue} of a name already issued returns the
 * same files at once. Methods block while {@code keytool} runs (at most {@value
 * #KEYTOOL_TIMEOUT_SECONDS} s a call): call them from test set-up, never on an event loop. An
 * instance is safe to use from several threads.
 */
public final class TestCertificates {

  /** How long every certificate made here is valid, from its making. */
  public static final int VALIDITY_DAYS = 2;

  /** The longest one {@code keytool} call may take before it is killed and the call fails. */
  public static final int KEYTOOL_TIMEOUT_SECONDS = 60;

  private static final String PASSWORD = "changeit";
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+");
  private static final Pattern SAN = Pattern.compile("(?i)(DNS|IP|URI|EMAIL):[^,]+");

  /** keytool's absolute {@code -startdate}, read in UTC as {@link #keytool} runs it. */
  private static final DateTimeFormatter START_DATE =
      DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss").withZone(ZoneOffset.UTC);

  /** What {@link Made#validity()} says of a certificate valid from its making. */
  private static final String FROM_MAKING = VALIDITY_DAYS + " days from its making";

  /** ecdsa-with-SHA256, RFC 5758: the signature algorithm of the signing requests made here. */
  private static final byte[] ECDSA_WITH_SHA256 = {
    0x30, 0x0a, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02
  };

  private static TestCertificates shared;

  private final Path dir;
  private final Path caKeyStore;
  private final Path caPem;
  private final Path trustStore;
  private X509Certificate certificate; // made on first need, by ca()
  private final Map<String, Made> made = new HashMap<>();

  /** What a name was made as, to refuse making it again as something else. */
  private record Made(boolean signed, List<String> sans, String validity, Issued issued) {}

  /**
   * A key and its certificate, in a PKCS12 key store and as PEM files, all in the CA's directory
   * and named after {@link #name()}.
   *
   * @param name the name it was made for: its key store alias and subject {@code CN=name}
   * @param keyStore {@code name.p12}: the private key (alias {@code name}) with its certificate
   *     chain, the certificate then, if the CA signed it, the CA's
   * @param certificatePem {@code name.pem}: the same chain, PEM {@code CERTIFICATE} blocks
   * @param privateKeyPem {@code name-key.pem}: the private key, unencrypted PKCS#8 PEM ({@code
   *     PRIVATE KEY})
   * @param certificate the certificate
   */
  public record Issued(
      String name,
      Path keyStore,
      Path certificatePem,
      Path privateKeyPem,
      X509Certificate certificate) {

    /** Checks that nothing is null. */
    public Issued {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(keyStore, "keyStore");
      Objects.requireNonNull(certificatePem, "certificatePem");
      Objects.requireNonNull(privateKeyPem, "privateKeyPem");
      Objects.requireNonNull(certificate, "certificate");
    }
  }

  private TestCertificates(Path dir) {
    this.dir = dir;
    this.caKeyStore = dir.resolve("ca.p12");
    this.caPem = dir.resolve("ca.pem");
    this.trustStore = dir.resolve("trust.p12");
  }

  /**
   * A new CA ({@code CN=kad test CA}, a self-signed CA certificate) in {@code dir}, made on first
   * need (the first {@link #issue}, {@link #trustStore()}, {@link #caPem()} or {@link
   * #certificate()}), so that tests that only need {@link #selfSigned} certificates wait for no CA:
   * its key store {@code ca.p12}, its certificate as {@code ca.pem}, and {@code trust.p12}, a trust
   * store holding only that certificate. Everything made goes to {@code dir}; use one directory per
   * CA, such as a JUnit {@code @TempDir}.
   *
   * @param dir an existing directory, which the caller deletes when done
   * @return the CA
   * @throws IllegalArgumentException if {@code dir} is not a directory
   */
  public static TestCertificates create(Path dir) {
    Objects.requireNonNull(dir, "dir");
    if (!Files.isDirectory(dir)) {
      throw new IllegalArgumentException("dir " + dir + " is not a directory");
    }
    return new TestCertificates(dir);
  }

  /**
   * The CA's certificate, making the CA's files first unless made already.
   *
   * @throws IllegalStateException if {@code keytool} is missing, fails (naming its command and
   *     output) or takes over {@value #KEYTOOL_TIMEOUT_SECONDS} s
   */
  private synchronized X509Certificate ca() {
    if (certificate != null) {
      return certificate;
    }
    deleteQuietly(caKeyStore); // keytool would refuse to add a second "ca" to a store left before
    keytool(
        dir,
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
        String.valueOf(VALIDITY_DAYS),
        "-keystore",
        caKeyStore.toString(),
        "-storetype",
        "PKCS12",
        "-storepass",
        PASSWORD,
        "-keypass",
        PASSWORD);
    try {
      X509Certificate ca = (X509Certificate) load(caKeyStore).getCertificate("ca");
      Files.writeString(caPem, pem("CERTIFICATE", ca.getEncoded()), StandardCharsets.US_ASCII);
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca);
      store(trust, trustStore);
      certificate = ca;
      return ca;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the CA made in " + caKeyStore, e);
    }
  }

  /**
   * One CA for the whole test JVM, made on first use in a temporary directory deleted when the JVM
   * exits: for test classes that would otherwise each wait for {@code keytool} to make the same
   * certificates. Its {@link #issue} of a name already issued with the same names returns the files
   * made before.
   *
   * @return the JVM's shared CA
   * @throws UncheckedIOException if the directory cannot be made
   */
  public static synchronized TestCertificates shared() {
    if (shared == null) {
      Path dir;
      try {
        dir = Files.createTempDirectory("kad-test-certificates");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteFlat(dir)));
      shared = create(dir);
    }
    return shared;
  }

  /**
   * A key and a certificate the CA signs for it, subject {@code CN=name}, with the given subject
   * alternative names, which TLS endpoint identification checks against the host dialed. The CA
   * signs with {@code keytool -gencert}; the key never leaves this JVM and the directory.
   *
   * <p>Issuing a name again with the same names returns the files made before; with other names, or
   * a name made as a {@link #selfSigned}, it fails.
   *
   * @param name letters, digits, {@code .}, {@code _} and {@code -} (not {@code ca} or {@code
   *     trust}): the key store alias, the subject's common name and the files' names
   * @param sans subject alternative names in {@code keytool}'s form {@code TYPE:value}, TYPE one of
   *     {@code DNS}, {@code IP}, {@code URI}, {@code EMAIL}: {@code "IP:127.0.0.1"}, {@code
   *     "DNS:localhost"}; none for a certificate that names no host
   * @return the key store and PEM files
   * @throws IllegalArgumentException if the name or a SAN is malformed, or the name was made
   *     otherwise before
   * @throws IllegalStateException if {@code keytool} fails (naming its command and output, e.g. for
   *     {@code IP:} with no IP address) or takes over {@value #KEYTOOL_TIMEOUT_SECONDS} s
   * @throws UncheckedIOException if the files cannot be written
   */
  public synchronized Issued issue(String name, String... sans) {
    return signed(name, null, VALIDITY_DAYS, FROM_MAKING, checked(name, sans));
  }

  /**
   * As {@link #issue}, but a certificate valid from {@code notBefore} to {@code notAfter}, whatever
   * the time now: in the past for an expired certificate, in the future for one not yet valid. The
   * CA's own certificate is valid from its making; a TLS peer checks each certificate of the chain
   * against the time now, not one against another, so it refuses an expired certificate of this CA
   * as expired, not as signed by a stranger.
   *
   * <p>{@code keytool} takes the start to the second and the length in whole days: {@code
   * notBefore} is cut to the second and {@code notAfter} must be a whole number of days after it.
   * Issuing a name again with the same names and period returns the files made before; otherwise as
   * {@link #issue}.
   *
   * @param name as for {@link #issue}
   * @param notBefore the first instant the certificate is valid
   * @param notAfter the last instant it is valid: a whole number of days after {@code notBefore}
   * @param sans as for {@link #issue}
   * @return the key store and PEM files
   * @throws IllegalArgumentException if the name or a SAN is malformed, {@code notAfter} is not a
   *     whole number of days after {@code notBefore}, or the name was made otherwise before
   * @throws IllegalStateException if {@code keytool} fails (naming its command and output) or takes
   *     over {@value #KEYTOOL_TIMEOUT_SECONDS} s
   * @throws UncheckedIOException if the files cannot be written
   */
  public synchronized Issued issueValid(
      String name, Instant notBefore, Instant notAfter, String... sans) {
    List<String> names = checked(name, sans);
    Objects.requireNonNull(notBefore, "notBefore");
    Objects.requireNonNull(notAfter, "notAfter");
    if (!notAfter.isAfter(notBefore)) {
      throw new IllegalArgumentException(
          "notAfter must be after notBefore but was "
              + notAfter
              + " (notBefore "
              + notBefore
              + ")");
    }
    Duration length = Duration.between(notBefore, notAfter);
    if (length.toSeconds() % Duration.ofDays(1).toSeconds() != 0 || length.getNano() != 0) {
      throw new IllegalArgumentException(
          "notAfter must be a whole number of days after notBefore (keytool's -validity) but was "
              + notAfter
              + ", "
              + length
              + " after notBefore "
              + notBefore);
    }
    Instant start = notBefore.truncatedTo(ChronoUnit.SECONDS);
    return signed(name, start, length.toDays(), start + " to " + start.plus(length), names);
  }

  /**
   * A key and a certificate the CA signs for it, valid for {@code days} from {@code start}, or from
   * its making if {@code start} is null; {@code validity} says so for {@link #before}.
   */
  private Issued signed(
      String name, Instant start, long days, String validity, List<String> names) {
    Issued before = before(name, true, names, validity);
    if (before != null) {
      return before;
    }
    X509Certificate ca = ca();
    Path csr = dir.resolve(name + ".csr");
    Path crt = dir.resolve(name + ".crt");
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      Files.writeString(
          csr, pem("CERTIFICATE REQUEST", signingRequest(name, pair)), StandardCharsets.US_ASCII);
      List<String> args =
          new ArrayList<>(
              List.of(
                  "-gencert",
                  "-rfc",
                  "-alias",
                  "ca",
                  "-keystore",
                  caKeyStore.toString(),
                  "-storepass",
                  PASSWORD,
                  "-infile",
                  csr.toString(),
                  "-outfile",
                  crt.toString(),
                  "-validity",
                  String.valueOf(days)));
      if (start != null) {
        args.add("-startdate");
        args.add(START_DATE.format(start));
      }
      sanExtension(names, args);
      keytool(dir, args.toArray(String[]::new));
      X509Certificate cert;
      try (InputStream in = Files.newInputStream(crt)) {
        cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      }
      Issued issued = write(name, pair.getPrivate(), new Certificate[] {cert, ca}, true);
      made.put(name, new Made(true, names, validity, issued));
      return issued;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot issue a certificate for '" + name + "'", e);
    } finally {
      deleteQuietly(csr);
      deleteQuietly(crt);
    }
  }

  /**
   * A key with a self-signed certificate, subject {@code CN=name}, that this CA did not sign: a
   * stranger that a node trusting only {@link #trustStore()} refuses (and that refuses the CA's
   * nodes unless it trusts them); or, its key store being its own trust store, the one key of a
   * whole cluster. Needs no CA and makes none. Made, and asked again, as {@link #issue} is.
   *
   * @param name as for {@link #issue}
   * @param sans as for {@link #issue}
   * @return the key store and PEM files, the chain being the certificate alone
   * @throws IllegalArgumentException if the name or a SAN is malformed, or the name was made
   *     otherwise before
   * @throws IllegalStateException if {@code keytool} fails (naming its command and output) or takes
   *     over {@value #KEYTOOL_TIMEOUT_SECONDS} s
   * @throws UncheckedIOException if the files cannot be written
   */
  public synchronized Issued selfSigned(String name, String... sans) {
    List<String> names = checked(name, sans);
    Issued before = before(name, false, names, FROM_MAKING);
    if (before != null) {
      return before;
    }
    Path keyStore = dir.resolve(name + ".p12");
    List<String> args =
        new ArrayList<>(
            List.of(
                "-genkeypair",
                "-alias",
                name,
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=" + name,
                "-validity",
                String.valueOf(VALIDITY_DAYS),
                "-keystore",
                keyStore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                PASSWORD,
                "-keypass",
                PASSWORD));
    sanExtension(names, args);
    deleteQuietly(keyStore); // keytool would add to a store left from before
    keytool(dir, args.toArray(String[]::new));
    try {
      KeyStore ks = load(keyStore);
      PrivateKey key = (PrivateKey) ks.getKey(name, PASSWORD.toCharArray());
      Issued issued = write(name, key, ks.getCertificateChain(name), false);
      made.put(name, new Made(false, names, FROM_MAKING, issued));
      return issued;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot read the self-signed key made in " + keyStore, e);
    }
  }

  /**
   * The directory holding the CA and everything it issued.
   *
   * @return the directory given to {@link #create(Path)}
   */
  public Path directory() {
    return dir;
  }

  /**
   * The password of every key store made here, and of the keys in them.
   *
   * @return {@code changeit}
   */
  public String password() {
    return PASSWORD;
  }

  /**
   * A PKCS12 trust store whose one entry is the CA's certificate: a node's trust store.
   *
   * @return {@code trust.p12} in {@link #directory()}
   * @throws IllegalStateException if the CA, made now unless made before, cannot be made
   */
  public Path trustStore() {
    ca();
    return trustStore;
  }

  /**
   * The CA's certificate as PEM: trust for those who configure TLS from PEM files.
   *
   * @return {@code ca.pem} in {@link #directory()}
   * @throws IllegalStateException if the CA, made now unless made before, cannot be made
   */
  public Path caPem() {
    ca();
    return caPem;
  }

  /**
   * The CA's self-signed certificate, which signs what {@link #issue} makes.
   *
   * @return the certificate
   * @throws IllegalStateException if the CA, made now unless made before, cannot be made
   */
  public X509Certificate certificate() {
    return ca();
  }

  @Override
  public String toString() {
    return "TestCertificates[" + dir + "]";
  }

  private static List<String> checked(String name, String... sans) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(sans, "sans");
    if (!NAME.matcher(name).matches() || name.equals("ca") || name.equals("trust")) {
      throw new IllegalArgumentException(
          "name must match [A-Za-z0-9._-]+ and not be 'ca' or 'trust' but was '" + name + "'");
    }
    for (String san : sans) {
      if (san == null || !SAN.matcher(san).matches()) {
        throw new IllegalArgumentException(
            "san must be TYPE:value with TYPE one of DNS, IP, URI, EMAIL and no ',' but was '"
                + san
                + "'");
      }
    }
    return List.of(sans);
  }

  private Issued before(String name, boolean signed, List<String> sans, String validity) {
    Made m = made.get(name);
    if (m == null) {
      return null;
    }
    if (m.signed() != signed || !m.sans().equals(sans) || !m.validity().equals(validity)) {
      throw new IllegalArgumentException(
          "'"
              + name
              + "' was made before as "
              + (m.signed() ? "issued" : "self-signed")
              + " with sans "
              + m.sans()
              + " valid "
              + m.validity()
              + "; asked again as "
              + (signed ? "issued" : "self-signed")
              + " with sans "
              + sans
              + " valid "
              + validity);
    }
    return m.issued();
  }

  private static void sanExtension(List<String> sans, List<String> args) {
    if (!sans.isEmpty()) {
      args.add("-ext");
      args.add("SAN=" + String.join(",", sans));
    }
  }

  /**
   * Writes {@code name.pem} and {@code name-key.pem}, and {@code name.p12} unless keytool made it
   * already.
   */
  private Issued write(String name, PrivateKey key, Certificate[] chain, boolean keyStore)
      throws GeneralSecurityException {
    Issued issued =
        new Issued(
            name,
            dir.resolve(name + ".p12"),
            dir.resolve(name + ".pem"),
            dir.resolve(name + "-key.pem"),
            (X509Certificate) chain[0]);
    if (keyStore) {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try {
        ks.load(null, null);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      ks.setKeyEntry(name, key, PASSWORD.toCharArray(), chain);
      store(ks, issued.keyStore());
    }
    StringBuilder pems = new StringBuilder();
    for (Certificate c : chain) {
      pems.append(pem("CERTIFICATE", c.getEncoded()));
    }
    try {
      Files.writeString(issued.certificatePem(), pems, StandardCharsets.US_ASCII);
      Files.writeString(
          issued.privateKeyPem(), pem("PRIVATE KEY", key.getEncoded()), StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return issued;
  }

  /**
   * A PKCS#10 certificate signing request (RFC 2986) for {@code CN=name}, signed with the pair's
   * key: what {@code keytool -gencert} signs. Made here rather than with {@code keytool -certreq}
   * to save a JVM start per certificate.
   */
  private static byte[] signingRequest(String name, KeyPair pair) throws GeneralSecurityException {
    byte[] info =
        der(
            0x30,
            new byte[] {0x02, 0x01, 0x00}, // version 0
            new X500Principal("CN=" + name).getEncoded(),
            pair.getPublic().getEncoded(), // SubjectPublicKeyInfo
            new byte[] {(byte) 0xa0, 0x00}); // no attributes
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(pair.getPrivate());
    signer.update(info);
    byte[] signature = signer.sign();
    byte[] bits = new byte[signature.length + 1]; // no unused bits
    System.arraycopy(signature, 0, bits, 1, signature.length);
    return der(0x30, info, ECDSA_WITH_SHA256, der(0x03, bits));
  }

  /** A DER element of the tag whose contents are the parts, one after the other. */
  private static byte[] der(int tag, byte[]... parts) {
    ByteArrayOutputStream contents = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      contents.writeBytes(p);
    }
    int length = contents.size();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    if (length < 0x80) {
      out.write(length);
    } else if (length < 0x100) {
      out.write(0x81);
      out.write(length);
    } else {
      out.write(0x82);
      out.write(length >> 8);
      out.write(length & 0xff);
    }
    out.writeBytes(contents.toByteArray());
    return out.toByteArray();
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

  private static KeyStore load(Path path) throws GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(path)) {
      ks.load(in, PASSWORD.toCharArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
    return ks;
  }

  private static void store(KeyStore ks, Path path) throws GeneralSecurityException {
    try (OutputStream out = Files.newOutputStream(path)) {
      ks.store(out, PASSWORD.toCharArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + path, e);
    }
  }

  /**
   * Runs the JDK's keytool with the arguments, its output (both streams) going to a file in {@code
   * dir} so that it can neither fill a pipe nor be lost, and fails naming the command and that
   * output unless it exits with 0 within the timeout.
   */
  private static void keytool(Path dir, String... args) {
    Path home = Path.of(System.getProperty("java.home"));
    Path executable = home.resolve("bin").resolve("keytool");
    if (!Files.isExecutable(executable)) {
      Path exe = home.resolve("bin").resolve("keytool.exe");
      if (!Files.isExecutable(exe)) {
        throw new IllegalStateException(
            "no keytool in " + home.resolve("bin") + " (java.home " + home + ")");
      }
      executable = exe;
    }
    String shown = "keytool " + String.join(" ", args);
    List<String> command = new ArrayList<>();
    command.add(executable.toString());
    command.add("-J-Duser.timezone=UTC"); // reads an absolute -startdate as START_DATE writes it
    command.addAll(List.of(args));
    Path log = null;
    try {
      log = Files.createTempFile(dir, "keytool-", ".log");
      Process p =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      p.getOutputStream().close(); // a prompt reads end of input and fails, rather than waits
      boolean done;
      try {
        done = p.waitFor(KEYTOOL_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        p.destroyForcibly();
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for " + shown, e);
      }
      if (!done) {
        p.destroyForcibly();
        throw new IllegalStateException(
            shown
                + " did not finish within "
                + KEYTOOL_TIMEOUT_SECONDS
                + " s, its output so far:\n"
                + Files.readString(log));
      }
      if (p.exitValue() != 0) {
        throw new IllegalStateException(
            shown + " exited with " + p.exitValue() + ", its output:\n" + Files.readString(log));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + shown, e);
    } finally {
      if (log != null) {
        deleteQuietly(log);
      }
    }
  }

  private static void deleteQuietly(Path path) {
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // a stray file in a directory the caller deletes
    }
  }

  /** Deletes the files of a directory without subdirectories, then the directory. */
  private static void deleteFlat(Path dir) {
    try (var files = Files.list(dir)) {
      files.forEach(TestCertificates::deleteQuietly);
    } catch (IOException e) {
      // best effort, at exit
    }
    deleteQuietly(dir);
  }
}
