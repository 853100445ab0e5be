package dev.kad.spring;

import dev.kad.api.Address;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeClosedException;
import dev.kad.api.NodeId;
import dev.kad.api.spi.NodeListener;
import dev.kad.reactor.KadNodes;
import dev.kad.reactor.store.FileRecordStore;
import dev.kad.reactor.store.RecordStore;
import dev.kad.transport.tcp.TcpTls;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import dev.kad.transport.tcp.WireFormat;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.core.type.AnnotatedTypeMetadata;
import reactor.core.scheduler.Schedulers;

/**
 * Creates a started {@link KadNode} on the TCP transport from the {@code kad.*} properties. The
 * node binds its port while the context starts, joins its network in the background once the
 * context is running (retrying a failed join with back-off), pauses joining while the context is
 * stopped, and closes with the context, after the web server. Every {@link NodeListener} bean hears
 * what the node does. A user bean of type {@link KadNode} (or {@link KadConfig}, or {@link
 * TcpTransport}) replaces the one made here; with a user node no transport is made. With {@code
 * kad.tls.bundle}, an update of that SSL bundle ({@code reload-on-update}) reaches the transport
 * made here: new connections handshake with the new material.
 */
@AutoConfiguration
@EnableConfigurationProperties(KadProperties.class)
@ConditionalOnProperty(prefix = "kad", name = "enabled", matchIfMissing = true)
@Import(UnknownKadProperties.class)
public class KadAutoConfiguration {

  private static final Logger log = LoggerFactory.getLogger(KadAutoConfiguration.class);

  /** The longest the context waits for the transport to bind. */
  static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  @Bean
  @ConditionalOnMissingBean
  KadConfig kadConfig(KadProperties properties) {
    return properties.toConfig();
  }

  /** The id shared by the node and its transport (which signs its own error answers with it). */
  @Bean
  @ConditionalOnMissingBean
  NodeId kadNodeId(KadProperties properties, KadConfig config) {
    return properties.nodeId(config, new SecureRandom());
  }

  /**
   * Whether {@code kad.store-file} names a file: an empty value (what {@code
   * kad.store-file=${KAD_STORE_FILE:}} gives when the variable is unset) keeps values in memory.
   */
  static final class StoreFileSet implements Condition {
    @Override
    public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
      String file = context.getEnvironment().getProperty("kad.store-file");
      return file != null && !file.isBlank();
    }
  }

  // Stopping the context pauses joining; closing it closes the node (an application's own node
  // too), through this destroy method, once the web server has finished its requests.
  @Bean(destroyMethod = "close")
  @ConditionalOnMissingBean
  KadNodeLifecycle kadNodeLifecycle(KadNode kadNode, KadProperties properties) {
    // Bootstrap retries and silence checks wait on the scheduler KadNodes gives a node unless told
    // otherwise, and read its clock (as the health indicator does); the same threshold makes the
    // health down and the node bootstrap again.
    return new KadNodeLifecycle(
        kadNode,
        properties.bootstrapAddresses(),
        properties.getHealth().silenceThreshold(kadNode.config()),
        Clock.systemUTC(),
        Schedulers.parallel());
  }

  static WireFormat format(String name) {
    for (WireFormat f : WireFormat.values()) {
      if (f.name().equals(name.trim().toUpperCase(Locale.ROOT))) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "kad.format must be json, cbor or smile but was '" + name + "'");
  }

  /**
   * The transport options the properties describe, with TLS from the SSL bundle {@code
   * kad.tls.bundle} names when it is set. An unset pending-write bound leaves the transport's
   * default, which grows with {@code maxFrameBytes}.
   *
   * @param bundles Spring Boot's SSL bundles, null when the application has none
   * @throws IllegalArgumentException naming {@code kad.tls.bundle} when it names no usable bundle
   */
  static TcpTransportOptions.Builder transportOptions(
      KadProperties properties, KadConfig config, SslBundles bundles) {
    TcpTransportOptions.Builder options =
        TcpTransportOptions.builder()
            .fromConfig(config)
            .bindHost(properties.getHost())
            .bindPort(properties.getPort())
            .format(format(properties.getFormat()))
            .connectTimeout(properties.getConnectTimeout())
            .idleTimeout(properties.getIdleTimeout())
            .maxInboundConnections(properties.getMaxInboundConnections())
            .maxInboundConnectionsPerIp(properties.getMaxInboundConnectionsPerIp())
            .perIpLimitForLocalPeers(properties.isPerIpLimitForLocalPeers())
            .maxRequestsPerSecondPerIp(properties.getMaxRequestsPerSecondPerIp())
            .checkSenderAddress(properties.isCheckSenderAddress())
            .nativeTransport(properties.isNativeTransport())
            .maxOutboundConnections(properties.getMaxOutboundConnections())
            .maxConcurrentRequestsPerConnection(properties.getMaxConcurrentRequestsPerConnection());
    if (properties.getMaxPendingWriteBytes() != null) {
      options.maxPendingWriteBytes(
          KadProperties.intBytes("maxPendingWriteBytes", properties.getMaxPendingWriteBytes()));
    }
    if (properties.getMaxTotalPendingWriteBytes() != null) {
      options.maxTotalPendingWriteBytes(properties.getMaxTotalPendingWriteBytes().toBytes());
    }
    if (properties.getAdvertise() != null && !properties.getAdvertise().isBlank()) {
      options.advertisedAddress(Address.parse(properties.getAdvertise()));
    }
    KadProperties.Tls tls = properties.getTls();
    tls.bundleName().ifPresent(name -> options.tls(tls(name, tls, bundles)));
    return options;
  }

  /**
   * TLS from the key and trust managers of the SSL bundle {@code name}: Spring Boot loads its
   * stores, from {@code spring.ssl.bundle.jks.NAME.*} or {@code spring.ssl.bundle.pem.NAME.*}.
   *
   * @throws IllegalArgumentException naming {@code kad.tls.bundle} when there is no such bundle,
   *     when it lacks a key store or a trust store (Spring would then trust the JDK's public CAs,
   *     which kad never does), or when it sets ciphers or protocols, which kad does not apply
   */
  static TcpTls tls(String name, KadProperties.Tls properties, SslBundles bundles) {
    if (bundles == null) {
      throw new IllegalArgumentException(
          "kad.tls.bundle is '"
              + name
              + "' but the application has no SslBundles bean (Spring Boot's SslAutoConfiguration"
              + " makes one from spring.ssl.bundle.*)");
    }
    SslBundle bundle;
    try {
      bundle = bundles.getBundle(name);
    } catch (NoSuchSslBundleException e) {
      // Without the cause: its message, the root cause Spring Boot reports, lacks the property.
      throw new IllegalArgumentException(
          "kad.tls.bundle names no SSL bundle '"
              + name
              + "' (spring.ssl.bundle.jks."
              + name
              + " or spring.ssl.bundle.pem."
              + name
              + "); the bundles are "
              + bundles.getBundleNames());
    }
    return tls(name, properties, bundle);
  }

  /**
   * TLS from the key and trust managers of {@code bundle}, the SSL bundle {@code name}, at start-up
   * or updated.
   *
   * @throws IllegalArgumentException naming {@code kad.tls.bundle} when the bundle lacks a key
   *     store or a trust store, sets ciphers or protocols, or its material cannot be used
   */
  static TcpTls tls(String name, KadProperties.Tls properties, SslBundle bundle) {
    String prefix = "kad.tls.bundle '" + name + "' ";
    if (bundle.getStores().getKeyStore() == null) {
      throw new IllegalArgumentException(
          prefix
              + "has no key store: set spring.ssl.bundle.*."
              + name
              + ".keystore to the node's key and certificate");
    }
    if (bundle.getStores().getTrustStore() == null) {
      throw new IllegalArgumentException(
          prefix
              + "has no trust store: set spring.ssl.bundle.*."
              + name
              + ".truststore to the certificates to trust (the cluster's CA); kad never trusts"
              + " the JDK's public CAs");
    }
    if (bundle.getOptions().isSpecified()) {
      throw new IllegalArgumentException(
          prefix
              + "sets options (ciphers, enabled-protocols), which kad's TLS does not apply: remove"
              + " spring.ssl.bundle.*."
              + name
              + ".options");
    }
    try {
      return TcpTls.builder()
          .keyManagerFactory(bundle.getManagers().getKeyManagerFactory())
          .trustManagerFactory(bundle.getManagers().getTrustManagerFactory())
          .requireClientAuth(properties.isRequireClientAuth())
          .endpointIdentification(properties.isEndpointIdentification())
          .build();
    } catch (IllegalArgumentException | IllegalStateException e) {
      // IllegalStateException: Spring's managers failed to load a store.
      throw new IllegalArgumentException(prefix + "cannot be used: " + e.getMessage(), e);
    }
  }

  /**
   * Hands the transport new TLS material each time the SSL bundle {@code name} is updated ({@code
   * spring.ssl.bundle.*.NAME.reload-on-update=true}, when its files change): connections made from
   * then on use it, open ones keep theirs. Material that cannot be used is logged and the transport
   * keeps what it has. An update since {@code read} (the bundle as the transport's options read it,
   * or earlier), which reached no handler yet, is applied at once.
   */
  static void reloadTlsOnUpdate(
      TcpTransport transport,
      String name,
      KadProperties.Tls properties,
      SslBundles bundles,
      SslBundle read) {
    // Both under one lock, each applying the bundle as it stands (Spring updates the registry
    // before it calls the handlers): whichever runs last applies the newest.
    Object lock = new Object();
    bundles.addBundleUpdateHandler(
        name,
        bundle -> {
          synchronized (lock) {
            reloadTls(transport, name, properties, bundle);
          }
        });
    // An update after the options read the bundle and before the handler was registered reached
    // no handler: apply it now. The registry hands out the same bundle until it is updated.
    synchronized (lock) {
      SslBundle now = bundles.getBundle(name);
      if (now != read) {
        reloadTls(transport, name, properties, now);
      }
    }
  }

  /** The bundle {@code name}, or null when there is none (the options then fail, naming why). */
  private static SslBundle bundleOrNull(SslBundles bundles, String name) {
    try {
      return bundles == null ? null : bundles.getBundle(name);
    } catch (NoSuchSslBundleException e) {
      return null;
    }
  }

  /** Applies an updated bundle; runs on Spring's file-watching thread, never an event loop. */
  static void reloadTls(
      TcpTransport transport, String name, KadProperties.Tls properties, SslBundle bundle) {
    TcpTls tls;
    try {
      tls = tls(name, properties, bundle);
    } catch (RuntimeException e) {
      log.warn(
          "kad: TLS material of bundle '{}' was updated but cannot be used, so new connections"
              + " keep the previous material: {}",
          name,
          e.getMessage());
      return;
    }
    try {
      transport.updateTls(tls);
    } catch (NodeClosedException e) {
      log.debug("kad: TLS material of bundle '{}' updated after {} closed", name, transport);
      return;
    }
    log.info(
        "kad: TLS material of bundle '{}' reloaded: new connections use it, open ones keep"
            + " theirs",
        name);
  }

  /** The node on the TCP transport, unless the application has a node of its own. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnMissingBean(KadNode.class)
  static class Tcp {

    /**
     * The values the node stores for the network, kept in {@code kad.store-file} so that they
     * survive a restart. Closed after the node, which depends on it. Only for the node made here:
     * an application's own node has its own store.
     */
    @Bean(destroyMethod = "close")
    @Conditional(StoreFileSet.class)
    @ConditionalOnMissingBean(RecordStore.class)
    FileRecordStore kadRecordStore(KadProperties properties, KadConfig config) {
      Path file = properties.getStoreFile();
      try {
        FileRecordStore store = FileRecordStore.open(file, config, Instant.now());
        log.info("kad.store-file {}: {} stored values loaded", file, store.loadedValues());
        return store;
      } catch (IOException e) {
        throw new KadStoreFileException(e);
      }
    }

    // The node closes its transport; this closes one whose node did not start (a port in use,
    // say), whose event loops would otherwise outlive the context. Closing again is harmless.
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    TcpTransport kadTransport(
        KadProperties properties,
        KadConfig config,
        NodeId kadNodeId,
        ObjectProvider<SslBundles> sslBundles) {
      SslBundles bundles = sslBundles.getIfAvailable();
      KadProperties.Tls tls = properties.getTls();
      // Read no later than the options below read it, so that an update in between is seen.
      SslBundle read = tls.bundleName().map(name -> bundleOrNull(bundles, name)).orElse(null);
      TcpTransport transport =
          TcpTransport.create(
              transportOptions(properties, config, bundles).nodeId(kadNodeId).build());
      // Only this transport: an application's own is its owner's to update.
      tls.bundleName().ifPresent(name -> reloadTlsOnUpdate(transport, name, tls, bundles, read));
      return transport;
    }

    // KadNodeLifecycle closes the node when the context closes. This destroy method closes it
    // when there is no lifecycle yet: a bean created after this one failed and the context was
    // torn down. Spring waits for the Mono; closing twice is harmless.
    @Bean(destroyMethod = "close")
    KadNode kadNode(
        KadProperties properties,
        KadConfig config,
        TcpTransport transport,
        NodeId kadNodeId,
        ObjectProvider<NodeListener> listeners,
        ObjectProvider<RecordStore> store) {
      // Checked before the port is bound, so that a bad address leaves no node behind.
      properties.bootstrapAddresses();
      checkSameId(transport, kadNodeId);
      KadNodes.Builder builder =
          KadNodes.builder()
              .config(config)
              .transport(transport)
              .id(kadNodeId)
              .listener(CompositeNodeListener.of(listeners.orderedStream().toList()));
      store.ifAvailable(builder::store);
      // Binding a port is start-up work on the thread that builds the context, never an event
      // loop; the bean must be usable once it is injected, so the context waits for it.
      return awaitStart(builder.start().toFuture(), START_TIMEOUT);
    }
  }

  /**
   * Refuses a transport of the application's own that names another node id than the node's: it
   * signs its own error answers with that id, so peers would hear from an id that is not the node.
   *
   * @throws IllegalStateException naming both ids
   */
  static void checkSameId(TcpTransport transport, NodeId nodeId) {
    transport
        .options()
        .nodeId()
        .filter(id -> !id.equals(nodeId))
        .ifPresent(
            id -> {
              throw new IllegalStateException(
                  "the TcpTransport bean's nodeId "
                      + id
                      + " is not the node's id "
                      + nodeId
                      + " (kad.node-id, or the kadNodeId bean): build the transport with"
                      + " .nodeId(kadNodeId)");
            });
  }

  /**
   * Waits at most {@code timeout} for a start. When the wait ends first (time out, interrupt), the
   * start is cancelled (Reactor's {@code toFuture()} cancels its subscription), so that a late
   * start leaves no node running that nobody owns and closes; a start that completed meanwhile
   * (cancelling then fails) is used, since waiting longer would lose nothing.
   */
  static <T> T awaitStart(CompletableFuture<T> start, Duration timeout) {
    try {
      return start.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw couldNotStart(e.getCause());
    } catch (TimeoutException e) {
      if (start.cancel(true)) {
        throw new IllegalStateException("kad node did not start within " + timeout, e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      if (start.cancel(true)) {
        throw new IllegalStateException("interrupted while starting the kad node", e);
      }
    }
    // Cancelling failed: the start completed meanwhile, and join() returns at once.
    try {
      return start.join();
    } catch (CompletionException e) {
      throw couldNotStart(e.getCause());
    }
  }

  private static IllegalStateException couldNotStart(Throwable cause) {
    return new IllegalStateException("kad node could not start: " + cause.getMessage(), cause);
  }

  /**
   * The health indicator, when Spring Boot's health support is on the class path and neither {@code
   * management.health.kad.enabled} nor {@code management.health.defaults.enabled} is false.
   */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
  @ConditionalOnEnabledHealthIndicator("kad")
  static class Health {

    // The system clock is the clock of the node made here (KadNodes' default without a
    // scheduler); an application whose own node reads another clock defines its own indicator.
    @Bean
    @ConditionalOnMissingBean(name = "kadHealthIndicator")
    KadHealthIndicator kadHealthIndicator(
        KadNode kadNode, KadNodeLifecycle kadNodeLifecycle, KadProperties properties) {
      return new KadHealthIndicator(
          kadNode,
          kadNodeLifecycle,
          properties.getHealth().silenceThreshold(kadNode.config()),
          Clock.systemUTC());
    }
  }

  /** Meters, when Micrometer is on the class path. */
  @Configuration(proxyBeanMethods = false)
  @ConditionalOnClass(MeterRegistry.class)
  static class Metrics {

    @Bean
    @ConditionalOnMissingBean
    KadMetrics kadMetrics(ObjectProvider<MeterRegistry> registry, KadProperties properties) {
      return new KadMetrics(registry, tags(properties));
    }

    @Bean
    @ConditionalOnMissingBean
    KadNodeMeters kadNodeMeters(
        KadNode kadNode, ObjectProvider<TcpTransport> kadTransport, KadProperties properties) {
      // An application's own node may run on another transport: then only the node's gauges.
      // kad.network.silence reads the system clock, the clock of the node made here.
      TcpTransport transport = kadTransport.getIfUnique();
      return transport == null
          ? new KadNodeMeters(kadNode, tags(properties))
          : new KadNodeMeters(kadNode, transport, tags(properties));
    }

    private static List<Tag> tags(KadProperties properties) {
      return properties.getMetrics().getTags().entrySet().stream()
          .map(e -> Tag.of(e.getKey(), e.getValue()))
          .toList();
    }
  }
}
