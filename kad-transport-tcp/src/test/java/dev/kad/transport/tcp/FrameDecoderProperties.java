package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.ResourceLeakDetector;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import reactor.core.publisher.Sinks;

/**
 * The inbound side of a connection ({@link FrameDecoder} and {@link PeerConnection}, as {@link
 * TcpTransport} wires them, on an embedded channel, accepted or dialed) fed a valid preface and
 * frames (requests, or the answers to the requests sent on it) followed by garbage, in random
 * chunks: the frames before the garbage are delivered, in order; the garbage closes the connection
 * and counts one violation of its kind; nothing after it is delivered; and every buffer, the
 * chunks, the decoder's cumulation, the frames and the answers, is released.
 */
class FrameDecoderProperties {

  static {
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
  }

  private static final int MAX_FRAME = 4096;
  private static final Contact SELF = Messages.contact(9, new Address("127.0.0.1", 7000));
  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

  /** What follows the valid frames. */
  enum Garbage {
    EMPTY_FRAME(Violation.MALFORMED_MESSAGE),
    OVERSIZED_FRAME(Violation.OVERSIZED_FRAME),
    MALFORMED_BODY(Violation.MALFORMED_MESSAGE),
    /** Only the body counts: the connection is closed for it, nothing after it is read. */
    MALFORMED_BODY_THEN_OVERSIZED_FRAME(Violation.MALFORMED_MESSAGE),
    UNKNOWN_RESPONSE(Violation.UNKNOWN_RESPONSE),
    BAD_PREFACE(Violation.BAD_PREFACE),
    TRUNCATED_FRAME(Violation.TRUNCATED_FRAME);

    final Violation violation;

    Garbage(Violation violation) {
      this.violation = violation;
    }
  }

  @Provide
  Arbitrary<List<Request>> requests() {
    return Messages.messages(160)
        .filter(m -> m instanceof Request)
        .map(m -> (Request) m)
        .list()
        .ofMaxSize(4);
  }

  @Provide
  Arbitrary<Response> responses() {
    return Messages.messages(160).filter(m -> m instanceof Response).map(m -> (Response) m);
  }

  @Provide
  Arbitrary<List<WireMutationProperties.Mutation>> mutations() {
    return WireMutationProperties.mutationLists();
  }

  @Provide
  Arbitrary<List<Integer>> chunks() {
    return Arbitraries.integers().between(1, 80).list().ofMinSize(1).ofMaxSize(8);
  }

  @Property(tries = 300)
  void framesBeforeGarbageArriveTheGarbageClosesAndEveryBufferIsReleased(
      @ForAll WireFormat format,
      @ForAll("requests") List<Request> valid,
      @ForAll Garbage garbage,
      @ForAll("responses") Response response,
      @ForAll("requests") List<Request> after,
      @ForAll("chunks") List<Integer> chunks,
      @ForAll @IntRange(min = 0, max = 1_000_000) int pick,
      @ForAll("mutations") List<WireMutationProperties.Mutation> mutations,
      @ForAll boolean direct,
      @ForAll boolean dialed) {
    WireCodec codec = new WireCodec(format, 160, 1024, MAX_FRAME);
    ByteArrayOutputStream stream = new ByteArrayOutputStream();
    stream.writeBytes(preface(format, garbage == Garbage.BAD_PREFACE ? pick : -1));
    // on a dialed connection, the answers to the requests sent on it; on an accepted one, requests
    for (int i = 0; i < valid.size(); i++) {
      stream.writeBytes(
          dialed
              ? frame(codec, i + 1, answer(valid.get(i)))
              : frame(codec, 1000 + pick, valid.get(i)));
    }
    stream.writeBytes(garbage(codec, garbage, response, valid, pick, mutations));
    if (garbage != Garbage.TRUNCATED_FRAME) {
      for (Request r : after) {
        stream.writeBytes(frame(codec, 2000 + pick, r));
      }
    }
    byte[] bytes = stream.toByteArray();

    TrackingAllocator alloc = new TrackingAllocator();
    List<Request> delivered = new ArrayList<>();
    TransportMetrics metrics = new TransportMetrics("fuzz");
    EmbeddedChannel channel = new EmbeddedChannel(false, false);
    channel.config().setAllocator(alloc);
    PeerConnection connection =
        new PeerConnection(
            channel,
            !dialed,
            codec,
            metrics,
            owner(delivered),
            16,
            dialed ? new byte[Preface.NONCE_BYTES] : null,
            null);
    List<Response> answers = new ArrayList<>();
    List<Throwable> failures = new ArrayList<>();
    Sinks.Many<Object> frames = Sinks.many().unicast().onBackpressureBuffer();
    channel
        .pipeline()
        .addLast(
            "kad.frames",
            new FrameDecoder(format, 160, MAX_FRAME, 10_000_000_000L, metrics, connection))
        .addLast(
            new ChannelInboundHandlerAdapter() {
              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                // as reactor-netty does: the frame is released once its subscriber had it
                try {
                  assertThat(frames.tryEmitNext(msg)).isEqualTo(Sinks.EmitResult.OK);
                } finally {
                  ReferenceCountUtil.release(msg);
                }
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                frames.tryEmitComplete();
              }
            });
    // as TcpTransport does
    channel.closeFuture().addListener(f -> connection.onChannelClosed());
    connection.serve(frames.asFlux()).subscribe();
    try {
      channel.register();
      if (dialed) {
        for (Request r : valid) {
          connection.request(r).subscribe(answers::add, failures::add);
        }
      }
      int at = 0;
      for (int i = 0; at < bytes.length; i++) {
        int n = Math.min(chunks.get(i % chunks.size()), bytes.length - at);
        ByteBuf chunk = direct ? alloc.directBuffer(n) : alloc.heapBuffer(n);
        chunk.writeBytes(bytes, at, n);
        at += n;
        if (channel.isOpen()) {
          channel.writeInbound(chunk);
        } else {
          chunk.release();
        }
      }
      if (garbage == Garbage.TRUNCATED_FRAME) {
        assertThat(channel.isOpen()).as("open until the stream ends").isTrue();
        channel.finish();
      }
    } catch (Exception e) {
      throw new AssertionError(e);
    } finally {
      channel.finishAndReleaseAll();
    }

    String stream16 = format + " " + ByteBufUtil.hexDump(bytes);
    assertThat(channel.isOpen()).as(stream16).isFalse();
    List<Request> before = garbage == Garbage.BAD_PREFACE ? List.of() : valid;
    if (dialed) {
      assertThat(delivered).as(stream16).isEmpty();
      assertThat(answers)
          .as(stream16)
          .containsExactlyElementsOf(before.stream().map(FrameDecoderProperties::answer).toList());
      assertThat(failures).as(stream16).hasSize(valid.size() - before.size());
    } else {
      assertThat(delivered).as(stream16).containsExactlyElementsOf(before);
    }
    Map<Violation, Long> counted = new EnumMap<>(Violation.class);
    for (Violation v : Violation.values()) {
      if (metrics.count(v) > 0) {
        counted.put(v, metrics.count(v));
      }
    }
    assertThat(counted).as(stream16).isEqualTo(Map.of(garbage.violation, 1L));
    assertThat(alloc.unreleased()).as("buffers not released").isEmpty();
  }

  /** What the peer answers to {@code request}, distinct for each sender. */
  private static Response answer(Request request) {
    return new Response.Pong(request.sender());
  }

  private static PeerConnection.Owner owner(List<Request> delivered) {
    return StubOwner.answering(delivered, new Response.Pong(SELF));
  }

  /** A dialer's preface; with {@code spoil} at least 0, one of its first five bytes changed. */
  private static byte[] preface(WireFormat format, int spoil) {
    ByteBuf b = Preface.encode(ALLOC, format, Preface.READS_RENEWED, new byte[16], null);
    try {
      byte[] bytes = ByteBufUtil.getBytes(b);
      if (spoil >= 0) {
        int i = spoil % Preface.VERSIONED_BYTES;
        bytes[i] = (byte) (bytes[i] + 1 + (spoil >>> 3) % 255);
      }
      return bytes;
    } finally {
      b.release();
    }
  }

  private static byte[] frame(WireCodec codec, long rid, Message message) {
    ByteBuf b = codec.encode(ALLOC, rid, message);
    try {
      return ByteBufUtil.getBytes(b);
    } finally {
      b.release();
    }
  }

  private static byte[] withLength(byte[] body) {
    byte[] out = new byte[4 + body.length];
    Unpooled.wrappedBuffer(out).setInt(0, body.length);
    System.arraycopy(body, 0, out, 4, body.length);
    return out;
  }

  private static byte[] garbage(
      WireCodec codec,
      Garbage garbage,
      Response response,
      List<Request> valid,
      int pick,
      List<WireMutationProperties.Mutation> mutations) {
    return switch (garbage) {
      case EMPTY_FRAME -> new byte[] {0, 0, 0, 0, (byte) pick};
      case OVERSIZED_FRAME -> {
        long length = MAX_FRAME + 1 + (pick * 4294L) % (0xffffffffL - MAX_FRAME);
        yield new byte[] {
          (byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length, 1
        };
      }
      case MALFORMED_BODY_THEN_OVERSIZED_FRAME -> {
        byte[] body = garbage(codec, Garbage.MALFORMED_BODY, response, valid, pick, mutations);
        byte[] oversized =
            garbage(codec, Garbage.OVERSIZED_FRAME, response, valid, pick, mutations);
        byte[] both = Arrays.copyOf(body, body.length + oversized.length);
        System.arraycopy(oversized, 0, both, body.length, oversized.length);
        yield both;
      }
      case MALFORMED_BODY -> {
        byte[] body =
            WireMutationProperties.body(codec, pick, valid.isEmpty() ? response : valid.get(0));
        for (WireMutationProperties.Mutation m : mutations) {
          body = WireMutationProperties.apply(codec.format(), body, body, m);
        }
        if (body.length == 0 || body.length > MAX_FRAME || decodes(codec, body)) {
          body = new byte[] {0};
        }
        yield withLength(body);
      }
      // an id no request on this connection had
      case UNKNOWN_RESPONSE -> frame(codec, valid.size() + 1 + pick, response);
      case BAD_PREFACE -> new byte[0];
      case TRUNCATED_FRAME -> {
        byte[] whole = frame(codec, pick, valid.isEmpty() ? response : valid.get(0));
        yield Arrays.copyOf(whole, 1 + pick % (whole.length - 1));
      }
    };
  }

  private static boolean decodes(WireCodec codec, byte[] body) {
    ByteBuf b = Unpooled.wrappedBuffer(body);
    try {
      codec.decode(b);
      return true;
    } catch (InvalidMessageException e) {
      return false;
    } finally {
      b.release();
    }
  }

  /** Hands out unpooled buffers and remembers each, to check that all are released. */
  static final class TrackingAllocator extends AbstractByteBufAllocator {
    private final List<ByteBuf> all = new ArrayList<>();

    TrackingAllocator() {
      super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      ByteBuf b = new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
      all.add(b);
      return b;
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      ByteBuf b = new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
      all.add(b);
      return b;
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }

    List<ByteBuf> unreleased() {
      return all.stream().filter(b -> b.refCnt() != 0).toList();
    }
  }
}
