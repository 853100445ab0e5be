package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.KadNode;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.reactor.KadNodes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** What a hostile peer advertises about itself must not spoil a node's answers to others. */
class HostileContactIntegrationTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final KadConfig CONFIG =
      KadConfig.builder().k(8).maintenance(false).hardTimeout(Duration.ofSeconds(3)).build();

  private final List<KadNode> nodes = new ArrayList<>();
  private final List<TcpTransport> transports = new ArrayList<>();

  @AfterEach
  void closeAll() {
    Flux.fromIterable(nodes).flatMap(KadNode::close).then().block(BOUND);
    Flux.fromIterable(transports).flatMap(TcpTransport::close).then().block(BOUND);
  }

  private TcpTransport peer() {
    TcpTransport t = TcpTransport.create(TcpTransportOptions.builder().fromConfig(CONFIG).build());
    transports.add(t);
    t.start(new EchoHandler(9)).block(BOUND);
    return t;
  }

  @Test
  void contactsWithOverlongHostsNeverReachTheRoutingTableSoAnswersStillFitAFrame() {
    TcpTransport nodeTransport =
        TcpTransport.create(TcpTransportOptions.builder().fromConfig(CONFIG).build());
    KadNode node =
        KadNodes.builder()
            .config(CONFIG)
            .transport(nodeTransport)
            .random(new SplittableRandom(1))
            .start()
            .block(BOUND);
    nodes.add(node);

    // Two hostile ids, each advertising a host no DNS name (at most 253 characters) can be, of
    // half a frame: each fits in a Ping, no answer fits both.
    NodeId target = NodeId.random(new SplittableRandom(2));
    for (int i = 0; i < 2; i++) {
      byte[] id = target.toBytes();
      id[id.length - 1] ^= (byte) (i + 1);
      Contact poisoned = new Contact(NodeId.of(id), new Address("a".repeat(33_000), 7000 + i));
      peer()
          .send(node.address(), new Request.Ping(poisoned))
          .onErrorResume(e -> Mono.empty())
          .block(BOUND);
    }

    TcpTransport good = peer();
    Contact asker = new Contact(NodeId.random(new SplittableRandom(3)), good.localAddress());
    Response answer = good.send(node.address(), new Request.FindNode(asker, target)).block(BOUND);
    assertThat(answer).isInstanceOf(Response.NodesFound.class);
    assertThat(((Response.NodesFound) answer).contacts())
        .allSatisfy(c -> assertThat(c.address().host()).hasSizeLessThanOrEqualTo(253));
    assertThat(nodeTransport.stats().malformedMessages()).isEqualTo(2);
  }
}
