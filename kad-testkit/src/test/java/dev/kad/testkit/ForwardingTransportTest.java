package dev.kad.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import dev.kad.api.spi.Transport;
import java.util.Random;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.scheduler.VirtualTimeScheduler;

class ForwardingTransportTest {

  private final VirtualTimeScheduler time = VirtualTimeScheduler.create();
  private final SimulatedNetwork network = new SimulatedNetwork(time, 1);

  @Test
  void aWrappedTransportStillRefusesANodeItCannotCarry() {
    Transport strict =
        new ForwardingTransport(network.newTransport()) {
          @Override
          public void checkCompatible(KadConfig config) {
            throw new IllegalArgumentException("idBits " + config.idBits() + " not carried");
          }
        };
    Transport wrapper = new ForwardingTransport(strict) {};

    assertThatIllegalArgumentException()
        .isThrownBy(() -> wrapper.checkCompatible(KadConfig.builder().idBits(256).build()))
        .withMessage("idBits 256 not carried");
  }

  @Test
  void everyCallReachesTheWrappedTransport() {
    Transport server = network.newTransport();
    Transport client = new ForwardingTransport(network.newTransport()) {};
    NodeId serverId = NodeId.random(160, new Random(1));
    VirtualTime.await(
        time,
        server.start(
            r -> Mono.just(new Response.Pong(new Contact(serverId, server.localAddress())))));
    VirtualTime.await(time, client.start(r -> Mono.empty()));

    Response answer =
        VirtualTime.await(
            time,
            client.send(
                server.localAddress(),
                new Request.Ping(
                    new Contact(NodeId.random(160, new Random(2)), client.localAddress()))));

    assertThat(answer.sender().id()).isEqualTo(serverId);
    VirtualTime.await(time, client.close());
    VirtualTime.await(time, server.close());
  }
}
