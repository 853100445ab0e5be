package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.UnreachableContactException;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * Retiring a dialed connection, on an embedded channel: what happens to requests around it does not
 * depend on timing.
 */
class PeerConnectionTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final Contact PEER = Messages.contact(1, new Address("127.0.0.1", 1));
  private static final Request PING = new Request.Ping(Messages.contact(2, PEER.address()));

  private final WireCodec codec = new WireCodec(WireFormat.JSON, 160, 1024, 64 * 1024);
  private final TransportMetrics metrics = new TransportMetrics("test");
  private EmbeddedChannel channel;
  private PeerConnection connection;

  @BeforeEach
  void connect() {
    channel = new EmbeddedChannel();
    connection =
        new PeerConnection(
            channel,
            false,
            codec,
            metrics,
            new StubOwner(),
            16,
            new byte[Preface.NONCE_BYTES],
            null);
    channel.closeFuture().addListener(f -> connection.onChannelClosed());
  }

  /** Writes held here have not reached the socket, as when a peer's window is full. */
  private final List<Object> unwritten = new ArrayList<>();

  @AfterEach
  void release() {
    channel.finishAndReleaseAll();
    unwritten.forEach(ReferenceCountUtil::release);
  }

  private void holdWrites() {
    channel
        .pipeline()
        .addFirst(
            new ChannelOutboundHandlerAdapter() {
              @Override
              public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
                unwritten.add(msg);
              }
            });
  }

  /** The peer's answer to request {@code rid}, as the transport's frame decoder hands it on. */
  private ByteBuf pongBody(long rid) {
    ByteBuf frame = codec.encode(ByteBufAllocator.DEFAULT, rid, new Response.Pong(PEER));
    return frame.skipBytes(WireCodec.LENGTH_BYTES);
  }

  private void answer(long rid) {
    ByteBuf body = pongBody(rid);
    try {
      connection.serve(Flux.just(body)).block(BOUND);
    } finally {
      body.release();
    }
  }

  @Test
  void retiringAnIdleConnectionClosesItAndRefusesLaterRequestsSoTheyDialAgain() {
    assertThat(connection.retire()).isTrue();

    assertThat(channel.isOpen()).isFalse();
    assertThat(connection.takesRequests()).isFalse();
    // A sender that took the connection before it was retired is told to dial again, not that
    // the peer is unreachable.
    StepVerifier.create(connection.request(PING))
        .expectError(PeerConnection.Retired.class)
        .verify(BOUND);
  }

  @Test
  void aConnectionIsRetiredOrLeavesServiceOnlyOnce() {
    assertThat(connection.retire()).isTrue();
    assertThat(connection.retire()).isFalse();
    assertThat(connection.leaveService()).isFalse();
  }

  @Test
  void aClosedConnectionThatLeftServiceCannotBeRetired() {
    channel.close();
    assertThat(connection.leaveService()).isTrue();
    assertThat(connection.retire()).isFalse();
  }

  @Test
  void aRequestInFlightWhenRetiredIsAnsweredBeforeTheConnectionCloses() {
    StepVerifier.create(connection.request(PING))
        .then(() -> assertThat(connection.retire()).isTrue())
        .then(() -> assertThat(channel.isOpen()).isTrue())
        .then(() -> answer(1))
        .expectNextMatches(Response.Pong.class::isInstance)
        .expectComplete()
        .verify(BOUND);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aCancelledRequestLetsARetiredConnectionClose() {
    StepVerifier.create(connection.request(PING))
        .then(() -> assertThat(connection.retire()).isTrue())
        .thenCancel()
        .verify(BOUND);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aRequestThatTakesAConnectionAsThisSideClosesItIsSentElsewhere() {
    // A sender took the connection while it was open; an idle close came first.
    connection.closeChannel();
    StepVerifier.create(connection.request(PING))
        .expectErrorMatches(PeerConnection::sendAgain)
        .verify(BOUND);
  }

  @Test
  void aRequestWhoseFrameHadNotGoneOutWhenThisSideClosedTheConnectionIsSentElsewhere() {
    holdWrites();
    StepVerifier.create(connection.request(PING))
        .then(() -> assertThat(connection.pendingRequests()).isEqualTo(1))
        // the idle close: nothing in flight as far as it could see when it decided
        .then(connection::closeChannel)
        .expectErrorMatches(PeerConnection::sendAgain)
        .verify(BOUND);
  }

  @Test
  void aRequestWrittenBeforeThisSideClosedTheConnectionIsNotSentAgain() {
    // Written whole: the peer may have handled it. This side closed the connection (a violation),
    // so it is not a peer's idle close that a new dial would get past.
    StepVerifier.create(connection.request(PING))
        .then(connection::closeChannel)
        .expectErrorMatches(
            e -> e instanceof UnreachableContactException && !PeerConnection.sendAgain(e))
        .verify(BOUND);
  }
}
