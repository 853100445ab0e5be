package dev.kad.transport.tcp;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.dataformat.cbor.CBORFactory;
import com.fasterxml.jackson.dataformat.smile.SmileFactory;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.message.Message;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Objects;

/**
 * Encodes messages into frames ({@code 4-byte big-endian length + body}) and decodes frame bodies,
 * strictly: an unknown type, a missing, null or unknown field, trailing bytes, an id of the wrong
 * length or an oversized value is an {@link InvalidMessageException}. Thread-safe.
 */
final class WireCodec {

  /** Bytes of the length prefix. */
  static final int LENGTH_BYTES = 4;

  private final WireFormat format;
  private final JsonFactory factory;
  private final WireMapping mapping;
  private final int maxFrameBytes;

  WireCodec(WireFormat format, int idBits, int maxValueBytes, int maxFrameBytes) {
    this.format = Objects.requireNonNull(format, "format");
    this.factory = factory(format);
    this.mapping = new WireMapping(idBits, maxValueBytes);
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The streaming parser and generator factory of {@code format}; tests craft bodies with it. */
  static JsonFactory factory(WireFormat format) {
    return switch (format) {
      case JSON -> new JsonFactory();
      case CBOR -> new CBORFactory();
      case SMILE -> new SmileFactory();
    };
  }

  WireFormat format() {
    return format;
  }

  /**
   * Encodes one message as a complete frame.
   *
   * @param alloc where the frame's buffer comes from; the caller owns the result
   * @return the frame, length prefix included
   * @throws InvalidMessageException when the body would exceed {@code maxFrameBytes}
   */
  ByteBuf encode(ByteBufAllocator alloc, long rid, Message message) {
    ByteBuf buf = alloc.buffer(256);
    boolean done = false;
    try {
      buf.writeInt(0);
      try (OutputStream out = new ByteBufOutputStream(buf);
          JsonGenerator g = factory.createGenerator(out)) {
        WireWriter.write(g, rid, message);
      }
      int bodyBytes = buf.readableBytes() - LENGTH_BYTES;
      if (bodyBytes > maxFrameBytes) {
        throw new InvalidMessageException(
            message.getClass().getSimpleName()
                + " needs "
                + bodyBytes
                + " bytes, over maxFrameBytes "
                + maxFrameBytes);
      }
      buf.setInt(0, bodyBytes);
      done = true;
      return buf;
    } catch (IOException e) {
      throw new InvalidMessageException("cannot encode " + message.getClass().getSimpleName(), e);
    } finally {
      if (!done) {
        buf.release();
      }
    }
  }

  /**
   * Decodes one frame body.
   *
   * @param body the body without its length prefix; read but not released
   * @return the request id and the message
   * @throws InvalidMessageException naming what is wrong with the body
   */
  Decoded decode(ByteBuf body) {
    Wire.Frame frame;
    try (JsonParser p = parser(body)) {
      frame = WireReader.read(p);
    } catch (JacksonException e) {
      throw malformed(e.getOriginalMessage(), e);
    } catch (IOException | InvalidMessageException e) {
      throw malformed(e.getMessage(), e);
    } catch (IllegalArgumentException e) {
      // the parser's own complaint about bad base64
      throw malformed(e.getMessage(), e);
    }
    return new Decoded(frame.rid(), mapping.toApi(frame.msg()));
  }

  private JsonParser parser(ByteBuf body) throws IOException {
    if (body.hasArray()) {
      return factory.createParser(
          body.array(), body.arrayOffset() + body.readerIndex(), body.readableBytes());
    }
    return factory.createParser((InputStream) new ByteBufInputStream(body));
  }

  private InvalidMessageException malformed(String detail, Exception cause) {
    return new InvalidMessageException("malformed " + format + " body: " + detail, cause);
  }

  /** A decoded frame body. */
  record Decoded(long rid, Message message) {}
}
