package dev.kad.transport.tcp.readme;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.Key;
import dev.kad.api.NoSeedAnsweredException;
import dev.kad.api.NodeId;
import dev.kad.api.PutOptions;
import dev.kad.api.UnreachableContactException;
import dev.kad.reactor.KadNodes;
import dev.kad.transport.tcp.TcpTransport;
import dev.kad.transport.tcp.TcpTransportOptions;
import dev.kad.transport.tcp.WireFormat;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * The README's "Over TCP" as a newcomer writes it: real nodes on 127.0.0.1, any free port. This
 * package sees only the public API, as an application does.
 */
class OverTcpTest {

  private static final Duration BOUND = Duration.ofSeconds(20);

  private final List<KadNode> nodes = new ArrayList<>();
  private final List<TcpTransport> unused = new ArrayList<>();

  @AfterEach
  void closeEverything() {
    Flux.fromIterable(nodes).flatMap(KadNode::close).then().block(BOUND);
    Flux.fromIterable(unused).flatMap(TcpTransport::close).then().block(BOUND);
  }

  private KadNode start(KadConfig config) {
    return start(config, WireFormat.JSON);
  }

  private KadNode start(KadConfig config, WireFormat format) {
    TcpTransport transport =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .fromConfig(config) // ids, value and frame sizes as the node's
                .bindHost("127.0.0.1")
                .bindPort(0) // 0: any free port
                .format(format)
                .eventLoopThreads(1)
                .build());
    KadNode node = KadNodes.builder().config(config).transport(transport).start().block(BOUND);
    nodes.add(node);
    return node;
  }

  @Test
  void threeNodesOnLoopbackJoinStoreFindAndWatch() {
    KadConfig config = KadConfig.builder().maintenance(false).build();
    KadNode first = start(config);
    KadNode second = start(config);
    KadNode third = start(config);
    second.bootstrap(List.of(first.address())).block(BOUND);
    third.bootstrap(List.of(second.address())).block(BOUND);
    Key key = Key.of("greeting");

    assertThat(first.address().host()).isEqualTo("127.0.0.1");
    assertThat(first.address().port()).isPositive();
    assertThat(first.put(key, "hello".getBytes(UTF_8)).block(BOUND).acceptedCount()).isEqualTo(3);
    assertThat(third.get(key).map(v -> new String(v.data(), UTF_8)).collectList().block(BOUND))
        .containsExactly("hello");
    assertThat(third.findNode(first.id()).block(BOUND)).first().isEqualTo(first.contact());
    StepVerifier.create(second.watch(key).map(v -> new String(v.data(), UTF_8)))
        .expectNext("hello")
        .then(() -> third.put(key, "again".getBytes(UTF_8)).block(BOUND))
        .expectNext("again")
        .thenCancel()
        .verify(BOUND);
  }

  @Test
  void aSignedPutThroughABootstrappedNodeIsReadVerifiedElsewhere() throws Exception {
    KadConfig config = KadConfig.builder().maintenance(false).build();
    KadNode seed = start(config);
    KadNode node = start(config);
    KadNode reader = start(config);
    Duration bound = Duration.ofSeconds(10);
    node.bootstrap(List.of(Address.parse("127.0.0.1:" + seed.address().port()))).block(bound);
    reader.bootstrap(List.of(seed.address())).block(bound);

    KeyPair keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    node.put(Key.of("greeting"), "hello".getBytes(UTF_8), PutOptions.defaults().signedBy(keys))
        .block(bound);

    assertThat(reader.get(Key.of("greeting")).collectList().block(bound))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(new String(v.data(), UTF_8)).isEqualTo("hello");
              assertThat(v.verifySignature(Key.of("greeting"))).isTrue();
              assertThat(v.publicKey()).isEqualTo(keys.getPublic().getEncoded());
            });
  }

  @Test
  void aNodeWhoseSettingsItsTransportCannotCarryIsRefusedNamingTheSetting() {
    KadConfig wide = KadConfig.builder().idBits(256).build();
    KadConfig largeValues = KadConfig.builder().maxValueBytes(32 * 1024).build();
    KadConfig largeFrames = KadConfig.builder().maxFrameBytes(128 * 1024).build();

    assertThatThrownBy(() -> KadNodes.builder().config(wide).transport(defaults()).start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "the node's idBits 256 differs from the idBits 160 of transport kad-tcp: build its"
                + " options with TcpTransportOptions.builder().fromConfig(config)");
    assertThatThrownBy(() -> KadNodes.builder().config(largeValues).transport(defaults()).start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "the node's maxValueBytes 32768 exceeds the maxValueBytes 16384 of transport kad-tcp");
    assertThatThrownBy(() -> KadNodes.builder().config(largeFrames).transport(defaults()).start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith(
            "the node's maxFrameBytes 131072 exceeds the maxFrameBytes 65536 of transport kad-tcp");
    // Options made from the node's configuration fit it; smaller node limits fit any transport.
    for (KadConfig config : List.of(wide, largeValues, largeFrames)) {
      assertThatCode(
              () ->
                  TcpTransport.create(TcpTransportOptions.builder().fromConfig(config).build())
                      .checkCompatible(config))
          .doesNotThrowAnyException();
    }
    assertThatCode(
            () -> defaults().checkCompatible(KadConfig.builder().maxValueBytes(1024).build()))
        .doesNotThrowAnyException();
  }

  @Test
  void aBootstrapThroughAClosedPortSaysTheConnectionWasRefused() {
    KadConfig config = KadConfig.builder().maintenance(false).build();
    KadNode gone = start(config);
    KadNode lonely = start(config);
    Address seed = gone.address();
    gone.close().block(BOUND);

    assertThatThrownBy(() -> lonely.bootstrap(List.of(seed)).block(BOUND))
        .isInstanceOf(UnreachableContactException.class)
        .hasMessageStartingWith("no seed answered: [" + seed + " (cannot connect to " + seed)
        .hasMessageContaining("(cannot connect to " + seed + ": Connection refused)")
        .hasCauseInstanceOf(UnreachableContactException.class);
  }

  @Test
  void aBootstrapThroughASeedOfAnotherFormatNamesBothFormats() {
    KadConfig config = KadConfig.builder().maintenance(false).build();
    KadNode cborSeed = start(config, WireFormat.CBOR);
    KadNode joining = start(config);
    Address seed = cborSeed.address();

    assertThatThrownBy(() -> joining.bootstrap(List.of(seed)).block(BOUND))
        .isInstanceOf(NoSeedAnsweredException.class)
        .hasMessage(
            "each seed failed in a way no retry changes: ["
                + seed
                + " (peer at "
                + seed
                + " speaks kad protocol v2 with format CBOR but this node speaks v2 with JSON)]");
  }

  @Test
  void aBootstrapThroughASeedOfAnotherIdWidthNamesBothWidths() {
    KadConfig narrow = KadConfig.builder().maintenance(false).build();
    KadConfig wide = KadConfig.builder().maintenance(false).idBits(256).build();
    KadNode wideSeed = start(wide);
    KadNode joining = start(narrow);
    Address seed = wideSeed.address();

    assertThatThrownBy(() -> joining.bootstrap(List.of(seed)).block(BOUND))
        .isInstanceOf(NoSeedAnsweredException.class)
        .hasMessage(
            "each seed failed in a way no retry changes: ["
                + seed
                + " (peer at "
                + seed
                + " uses 256-bit ids but this node 160-bit)]");
  }

  @Test
  void aRateLimitedPeerWhoseTransportWasBuiltWithoutAnIdStaysInRoutingTables() {
    KadConfig config = KadConfig.builder().maintenance(false).maxFailures(2).build();
    KadNode asking = start(config);
    KadNode healthy = start(config);
    // Built as the README shows, without nodeId: the node gives the transport its id.
    TcpTransport limitedTransport =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .fromConfig(config)
                .bindHost("127.0.0.1")
                .eventLoopThreads(1)
                .maxRequestsPerSecondPerIp(1)
                .perIpLimitForLocalPeers(true) // loopback peers count, as remote ones would
                .build());
    KadNode limited =
        KadNodes.builder().config(config).transport(limitedTransport).start().block(BOUND);
    nodes.add(limited);
    healthy.bootstrap(List.of(asking.address())).block(BOUND);
    limited.bootstrap(List.of(asking.address())).block(BOUND);

    for (int i = 0; i < 6; i++) {
      asking.findNode(NodeId.random(160, new SplittableRandom(i))).block(BOUND);
    }

    assertThat(limitedTransport.stats().rateLimitedRequests())
        .as("the limited node refused some of the lookups' requests")
        .isGreaterThanOrEqualTo(config.maxFailures());
    assertThat(asking.routingTable().contacts())
        .extracting(Contact::id)
        .as("a refusal from the node asked is a sign of life, not a failure")
        .contains(limited.id(), healthy.id());
  }

  @Test
  void aTransportServesOneNodeAndOnlyTheIdItWasBuiltFor() {
    KadConfig config = KadConfig.builder().maintenance(false).build();
    NodeId built = NodeId.random(160, new SplittableRandom(1));
    NodeId other = NodeId.random(160, new SplittableRandom(2));
    TcpTransport forBuilt =
        TcpTransport.create(TcpTransportOptions.builder().fromConfig(config).nodeId(built).build());
    unused.add(forBuilt);
    TcpTransport shared = defaults();

    assertThatThrownBy(
            () -> KadNodes.builder().config(config).transport(forBuilt).id(other).start())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "the node's id "
                + other.toHex()
                + " differs from the nodeId "
                + built.toHex()
                + " of transport kad-tcp: set the same id on both, or leave it out of the"
                + " transport's options");
    assertThatCode(() -> forBuilt.attach(built, config)).doesNotThrowAnyException();
    // Not started yet: another node may still take it (a start called again after a failure).
    shared.attach(other, config);
    shared.attach(built, config);
    shared.start(request -> Mono.empty()).block(BOUND);
    assertThatThrownBy(() -> shared.attach(other, config))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "transport kad-tcp already serves node "
                + built.toHex()
                + ": each node needs a transport of its own");
  }

  @Test
  void aStartThatFailedOnAPortInUseFailsTheSameWayWhenCalledAgain() {
    KadConfig config = KadConfig.builder().maintenance(false).build();
    KadNode holder = start(config);
    TcpTransport taken =
        TcpTransport.create(
            TcpTransportOptions.builder()
                .fromConfig(config)
                .bindHost("127.0.0.1")
                .bindPort(holder.address().port())
                .eventLoopThreads(1)
                .build());
    unused.add(taken);
    KadNodes.Builder builder = KadNodes.builder().config(config).transport(taken);

    // Each call draws a new id; the second is not refused for the first's.
    assertThatThrownBy(() -> Mono.defer(builder::start).retry(1).block(BOUND))
        .isInstanceOf(KadException.class)
        .hasMessageStartingWith("cannot listen on 127.0.0.1:" + holder.address().port());
  }

  private TcpTransport defaults() {
    TcpTransport transport = TcpTransport.create();
    unused.add(transport);
    return transport;
  }
}
