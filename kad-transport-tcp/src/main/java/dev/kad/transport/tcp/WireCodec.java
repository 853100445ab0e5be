package dev.kad.transport.tcp;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.cfg.MapperBuilder;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import com.fasterxml.jackson.dataformat.smile.databind.SmileMapper;
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
 * Encodes messages into frames ({@code 4-byte big-endian length + body}) and decodes frame
 * bodies, strictly: an unknown type, a missing, null or unknown field, trailing bytes, an id of
 * the wrong length or an oversized value is an {@link InvalidMessageException}. Thread-safe.
 */
final class WireCodec {

  /** Bytes of the length prefix. */
  static final int LENGTH_BYTES = 4;

  private final WireFormat format;
  private final ObjectReader reader;
  private final ObjectWriter writer;
  private final WireMapping mapping;
  private final int maxFrameBytes;

  WireCodec(WireFormat format, int idBits, int maxValueBytes, int maxFrameBytes) {
    this.format = Objects.requireNonNull(format, "format");
    ObjectMapper mapper = mapper(format);
    this.reader = mapper.readerFor(Wire.Frame.class);
    this.writer = mapper.writerFor(Wire.Frame.class);
    this.mapping = new WireMapping(idBits, maxValueBytes);
    this.maxFrameBytes = maxFrameBytes;
  }

  /** A strict mapper for {@code format}; also used by tests to craft hostile bodies. */
  static ObjectMapper mapper(WireFormat format) {
    MapperBuilder<?, ?> b =
        switch (format) {
          case JSON -> JsonMapper.builder();
          case CBOR -> CBORMapper.builder();
          case SMILE -> SmileMapper.builder();
        };
    return b.enable(
            DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES,
            DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES,
            DeserializationFeature.FAIL_ON_NULL_CREATOR_PROPERTIES,
            DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES,
            DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS,
            DeserializationFeature.FAIL_ON_TRAILING_TOKENS,
            DeserializationFeature.FAIL_ON_INVALID_SUBTYPE)
        .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
        .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
        // Duplicate keys are not checked: the check costs a hash set per object on the hot
        // path (a third of JSON decoding in the rpc benchmark) and a duplicate can only
        // replace a field with another value that is validated like the first.
        .build();
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
    Wire.Frame frame = new Wire.Frame(rid, WireMapping.toWire(message));
    ByteBuf buf = alloc.buffer(256);
    boolean done = false;
    try {
      buf.writeInt(0);
      try (OutputStream out = new ByteBufOutputStream(buf)) {
        writer.writeValue(out, frame);
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
    try (InputStream in = new ByteBufInputStream(body)) {
      frame = reader.readValue(in);
    } catch (JacksonException e) {
      throw new InvalidMessageException("malformed " + format + " body: " + e.getOriginalMessage(), e);
    } catch (IOException e) {
      throw new InvalidMessageException("malformed " + format + " body: " + e.getMessage(), e);
    }
    if (frame == null || frame.msg() == null) {
      throw new InvalidMessageException("malformed " + format + " body: no message");
    }
    return new Decoded(frame.rid(), mapping.toApi(frame.msg()));
  }

  /** A decoded frame body. */
  record Decoded(long rid, Message message) {}
}
