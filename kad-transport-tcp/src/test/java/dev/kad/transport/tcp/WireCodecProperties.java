package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.message.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class WireCodecProperties {

  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

  @Provide
  Arbitrary<Message> messages160() {
    return Messages.messages(160);
  }

  @Provide
  Arbitrary<Message> messages256() {
    return Messages.messages(256);
  }

  @Property(tries = 400)
  void everyMessageSurvivesTheRoundTripIn160BitIds(
      @ForAll WireFormat format, @ForAll long rid, @ForAll("messages160") Message message) {
    assertRoundTrip(new WireCodec(format, 160, 64 * 1024, 64 * 1024), rid, message);
  }

  @Property(tries = 200)
  void everyMessageSurvivesTheRoundTripIn256BitIds(
      @ForAll WireFormat format, @ForAll long rid, @ForAll("messages256") Message message) {
    assertRoundTrip(new WireCodec(format, 256, 64 * 1024, 64 * 1024), rid, message);
  }

  private static void assertRoundTrip(WireCodec codec, long rid, Message message) {
    ByteBuf frame = codec.encode(ALLOC, rid, message);
    try {
      int length = frame.readInt();
      assertThat(length).isEqualTo(frame.readableBytes());
      WireCodec.Decoded decoded = codec.decode(frame);
      assertThat(decoded.rid()).isEqualTo(rid);
      assertThat(decoded.message()).isEqualTo(message);
    } finally {
      frame.release();
    }
  }
}
