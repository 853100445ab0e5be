package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.KadException;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.test.StepVerifier;

/**
 * {@link FrameDecoder} and {@link PeerConnection} wired as {@link TcpTransport} wires them, on an
 * embedded channel: what one read holds does not depend on timing.
 */
class FrameDecoderTest {

  private static final Contact PEER = Messages.contact(1, new Address("127.0.0.1", 7001));
  private static final Contact SELF = Messages.contact(2, new Address("127.0.0.1", 7000));
  private static final int MAX_FRAME = 4096;

  private final WireCodec codec = new WireCodec(WireFormat.JSON, 160, 1024, MAX_FRAME);
  private final TransportMetrics metrics = new TransportMetrics("test");
  private final List<Request> answered = new ArrayList<>();
  private EmbeddedChannel channel;
  private PeerConnection connection;

  @AfterEach
  void close() {
    channel.finishAndReleaseAll();
  }

  private void connect(boolean inbound) throws Exception {
    channel = new EmbeddedChannel(false, false);
    connection =
        new PeerConnection(
            channel,
            inbound,
            codec,
            metrics,
            StubOwner.answering(answered, new Response.Pong(SELF)),
            16,
            inbound ? null : new byte[Preface.NONCE_BYTES],
            null);
    // as reactor-netty hands frames on: released after onNext, completed when the channel is
    // inactive
    Sinks.Many<Object> frames = Sinks.many().unicast().onBackpressureBuffer();
    channel
        .pipeline()
        .addLast(
            "kad.frames",
            new FrameDecoder(WireFormat.JSON, 160, MAX_FRAME, 10_000_000_000L, metrics, connection))
        .addLast(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                try {
                  frames.tryEmitNext(msg).orThrow();
                } finally {
                  ReferenceCountUtil.release(msg);
                }
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                frames.tryEmitComplete();
              }
            });
    channel.closeFuture().addListener(f -> connection.onChannelClosed());
    connection.serve(frames.asFlux()).subscribe();
    channel.register();
    releaseOutbound();
  }

  private void releaseOutbound() {
    Object written;
    while ((written = channel.readOutbound()) != null) {
      ReferenceCountUtil.release(written);
    }
  }

  private ByteBuf preface() {
    return Preface.encode(channel.alloc(), WireFormat.JSON, Preface.READS_RENEWED, null, null);
  }

  private ByteBuf frame(long rid, Message message) {
    return codec.encode(channel.alloc(), rid, message);
  }

  /** Four zero bytes: a frame of length 0, which no peer may send. */
  private static ByteBuf emptyFrame() {
    return Unpooled.buffer(4).writeInt(0);
  }

  @Test
  void aRequestBeforeGarbageInTheSameReadIsStillAnswered() throws Exception {
    connect(true);
    channel.writeInbound(preface());
    releaseOutbound();

    channel.writeInbound(Unpooled.wrappedBuffer(frame(7, new Request.Ping(PEER)), emptyFrame()));

    assertThat(answered).containsExactly(new Request.Ping(PEER));
    assertThat(metrics.count(Violation.MALFORMED_MESSAGE)).isEqualTo(1);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aBodyThatDoesNotDecodeIsTheOneViolationEvenWithAnOversizedPrefixBehindItInTheSameRead()
      throws Exception {
    connect(true);
    channel.writeInbound(preface());

    ByteBuf malformed = Unpooled.buffer().writeInt(1).writeByte('x');
    ByteBuf oversized = Unpooled.buffer(4).writeInt(MAX_FRAME + 1);
    channel.writeInbound(Unpooled.wrappedBuffer(malformed, oversized));

    assertThat(metrics.count(Violation.MALFORMED_MESSAGE)).isEqualTo(1);
    assertThat(metrics.count(Violation.OVERSIZED_FRAME)).isZero();
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aResponseBeforeGarbageInTheSameReadStillCompletesItsRequest() throws Exception {
    connect(false);
    channel.writeInbound(preface());
    Mono<Response> reply = connection.request(new Request.Ping(SELF));

    StepVerifier.create(reply)
        .then(
            () -> {
              releaseOutbound();
              ByteBuf oversized = Unpooled.buffer(4).writeInt(MAX_FRAME + 1);
              channel.writeInbound(
                  Unpooled.wrappedBuffer(frame(1, new Response.Pong(PEER)), oversized));
            })
        .expectNext(new Response.Pong(PEER))
        .expectComplete()
        .verify(Duration.ofSeconds(10));
    assertThat(metrics.count(Violation.OVERSIZED_FRAME)).isEqualTo(1);
    assertThat(channel.isOpen()).isFalse();
  }

  @Test
  void aClientHelloArrivingAByteAtATimeIsStillAnsweredWithThisNodesPreface() throws Exception {
    connect(true);

    channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x16}));
    assertThat(channel.isOpen()).as("one byte says nothing yet").isTrue();
    channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x03, 0x01, 0x00, 0x40}));

    // answered, as a kad peer of another width is: the dialer learns this node has TLS off
    ByteBuf answer = channel.readOutbound();
    try {
      byte[] b = new byte[Preface.LENGTH];
      answer.readBytes(b);
      assertThat(Preface.check(b, WireFormat.JSON, 160)).isEmpty();
    } finally {
      answer.release();
    }
    assertThat(metrics.count(Violation.BAD_PREFACE)).isEqualTo(1);
  }

  @Test
  void aPrefaceThatRequiresTlsSplitAfterItsFormatNamesTlsNotTheFormat() throws Exception {
    connect(false);
    ByteBuf required =
        Preface.encode(
            channel.alloc(),
            WireFormat.CBOR,
            Preface.READS_RENEWED | Preface.IDS_160 | Preface.TLS_REQUIRED,
            null,
            null);
    Mono<Response> reply = connection.request(new Request.Ping(SELF));

    StepVerifier.create(reply)
        .then(
            () -> {
              releaseOutbound();
              channel.writeInbound(required.readRetainedSlice(Preface.VERSIONED_BYTES));
              assertThat(channel.isOpen()).as("waits for the flags").isTrue();
              channel.writeInbound(required);
            })
        .expectErrorSatisfies(
            e ->
                assertThat(e)
                    .isInstanceOf(IncompatiblePeerException.class)
                    .hasMessageContaining("requires TLS, which this node has off")
                    .matches(u -> !((KadException) u).isTransient(), "is not transient"))
        .verify(Duration.ofSeconds(10));
  }
}
