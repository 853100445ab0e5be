package dev.kad.transport.tcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.kad.api.message.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.io.IOException;
import java.util.function.Consumer;

/**
 * Message bodies as the codec writes them, read back as trees, edited and decoded: what the codec
 * tests build a peer's hand-made messages from. Ids are 160 bits, values at most 100 bytes, frames
 * at most 64 KiB.
 */
final class WireBodies {

  static final int MAX_VALUE = 100;

  private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

  private WireBodies() {}

  static WireCodec codec(WireFormat format) {
    return new WireCodec(format, 160, MAX_VALUE, 64 * 1024);
  }

  /**
   * The body the codec writes for {@code message}, read as a tree ({@code rid} and {@code msg}).
   */
  static ObjectNode tree(WireFormat format, Message message) throws IOException {
    ByteBuf frame = codec(format).encode(ALLOC, 42, message);
    try {
      frame.skipBytes(WireCodec.LENGTH_BYTES);
      return (ObjectNode)
          new ObjectMapper(WireCodec.factory(format)).readTree(ByteBufUtil.getBytes(frame));
    } finally {
      frame.release();
    }
  }

  /** The body of {@code message}, its tree changed by {@code edit} and written again. */
  static byte[] edited(WireFormat format, Message message, Consumer<ObjectNode> edit)
      throws IOException {
    ObjectNode tree = tree(format, message);
    edit.accept(tree);
    return new ObjectMapper(WireCodec.factory(format)).writeValueAsBytes(tree);
  }

  /** The {@code msg} object of a body's tree. */
  static ObjectNode msg(ObjectNode frame) {
    return (ObjectNode) frame.get("msg");
  }

  /** What the codec decodes {@code body} to; throws as the codec does. */
  static Message decoded(WireFormat format, byte[] body) {
    ByteBuf buf = Unpooled.wrappedBuffer(body);
    try {
      return codec(format).decode(buf).message();
    } finally {
      buf.release();
    }
  }
}
