package dev.kad.spring;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import dev.kad.api.Address;
import dev.kad.api.KadId;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import java.time.Duration;
import java.util.function.Function;
import java.util.function.IntSupplier;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.KeyDeserializer;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.annotation.JsonSerialize;
import tools.jackson.databind.deser.std.StdScalarDeserializer;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.ser.std.StdSerializer;

/**
 * Jackson 3 serializers for kad's types, so a controller can return them as they are: {@code
 * Mono<PutResult>}, {@code Flux<Value>}, {@code Flux<LookupEvent>}, a {@code RoutingTableSnapshot}
 * or {@code NodeStats}. {@code kad-api} has no Jackson in it, so this module brings the shapes from
 * outside (serializers and mix-ins):
 *
 * <ul>
 *   <li>{@link NodeId} and {@link Key}: lower-case hex, {@code "0123…"}; read back from hex (a key
 *       is not hashed again as a name), as values and as map keys;
 *   <li>{@link Address}: {@code "host:port"}, an IPv6 host in brackets, as {@link
 *       Address#toString()} writes and {@link Address#parse(String)} reads it back;
 *   <li>{@code Contact}: {@code {"id", "address"}}; {@code PutResult} and {@code
 *       RoutingTableSnapshot} by their components;
 *   <li>{@link Value}: {@code data} in base64, {@code publisher}, {@code valueId}, {@code seq},
 *       {@code expiresAt} (ISO-8601 unless the mapper writes dates as timestamps), and {@code
 *       publicKey} and {@code signature} in base64 only when it is signed;
 *   <li>{@link LookupEvent}: a {@code "type"} of {@code queried}, {@code stalled}, {@code
 *       answered}, {@code failed}, {@code closer} or {@code finished}, then the event's components,
 *       {@code elapsed} as {@code elapsedMs};
 *   <li>{@code NodeStats}: its components, {@code lastHeard} a time or {@code null}.
 * </ul>
 *
 * <p>A bad id or address in a request body fails the read with a message naming the value, as
 * {@code NodeId.parse} and {@code Address.parse} word it. Made with the node's id width ({@link
 * #KadJacksonModule(IntSupplier)}, as the starter makes it when there is a node), a node id or key
 * of the other width fails the read too, as {@link KadConverterAutoConfiguration} refuses it in a
 * request parameter: no call of the node takes it. The composite types are written only: they are
 * results, not requests.
 *
 * <p>The starter registers it as a bean when Jackson 3 is on the class path ({@code
 * kad.jackson.enabled=false} turns that off), and Spring Boot adds every such bean to the {@code
 * JsonMapper} it configures. Without Spring Boot: {@code JsonMapper.builder().addModule(new
 * KadJacksonModule()).build()}.
 */
public class KadJacksonModule extends SimpleModule {

  private static final long serialVersionUID = 1L;

  /** A module with kad's serializers, deserializers and mix-ins, reading ids of either width. */
  public KadJacksonModule() {
    this(() -> 0);
  }

  /**
   * A module with kad's serializers, deserializers and mix-ins that reads node ids and keys of one
   * width only.
   *
   * @param idBits the width ids must have, read at each id read ({@code kad.id-bits}: 160 or 256),
   *     or 0 for either width
   */
  public KadJacksonModule(IntSupplier idBits) {
    super("kad");
    Function<String, NodeId> nodeId = hex -> checkedWidth(NodeId.parse(hex), "node id", idBits);
    Function<String, Key> key = hex -> checkedWidth(Key.parse(hex), "key", idBits);
    addSerializer(NodeId.class, new TextSerializer<>(NodeId.class, KadId::toHex, false));
    addSerializer(Key.class, new TextSerializer<>(Key.class, KadId::toHex, false));
    addSerializer(Address.class, new TextSerializer<>(Address.class, Address::toString, false));
    addKeySerializer(NodeId.class, new TextSerializer<>(NodeId.class, KadId::toHex, true));
    addKeySerializer(Key.class, new TextSerializer<>(Key.class, KadId::toHex, true));
    addKeySerializer(Address.class, new TextSerializer<>(Address.class, Address::toString, true));
    addDeserializer(NodeId.class, new ParsingDeserializer<>(NodeId.class, nodeId));
    addDeserializer(Key.class, new ParsingDeserializer<>(Key.class, key));
    addDeserializer(Address.class, new ParsingDeserializer<>(Address.class, Address::parse));
    addKeyDeserializer(NodeId.class, new ParsingKeyDeserializer(NodeId.class, nodeId));
    addKeyDeserializer(Key.class, new ParsingKeyDeserializer(Key.class, key));
    addKeyDeserializer(Address.class, new ParsingKeyDeserializer(Address.class, Address::parse));
    setMixInAnnotation(Value.class, ValueMixin.class);
    setMixInAnnotation(LookupEvent.class, LookupEventMixin.class);
  }

  /**
   * {@code id} when it has the width {@code idBits} gives (any when 0), else the refusal {@link
   * KadConverterAutoConfiguration} words for a request parameter.
   */
  private static <T extends KadId> T checkedWidth(T id, String what, IntSupplier idBits) {
    int bits = idBits.getAsInt();
    if (bits != 0 && id.bits() != bits) {
      throw new IllegalArgumentException(KadConverterAutoConfiguration.otherWidth(what, bits, id));
    }
    return id;
  }

  /** Writes a value as a string, or as a map key, in kad's own text form. */
  private static final class TextSerializer<T> extends StdSerializer<T> {

    private final Function<? super T, String> format;
    private final boolean name;

    TextSerializer(Class<T> type, Function<? super T, String> format, boolean name) {
      super(type);
      this.format = format;
      this.name = name;
    }

    @Override
    public void serialize(T value, JsonGenerator gen, SerializationContext ctxt) {
      if (name) {
        gen.writeName(format.apply(value));
      } else {
        gen.writeString(format.apply(value));
      }
    }
  }

  /** Reads a value from a JSON string with kad's own parser, failing with the parser's message. */
  private static final class ParsingDeserializer<T> extends StdScalarDeserializer<T> {

    private final Class<T> type;
    private final Function<String, T> parse;

    ParsingDeserializer(Class<T> type, Function<String, T> parse) {
      super(type);
      this.type = type;
      this.parse = parse;
    }

    @Override
    public T deserialize(JsonParser p, DeserializationContext ctxt) {
      if (!p.hasToken(JsonToken.VALUE_STRING)) {
        return type.cast(ctxt.handleUnexpectedToken(type, p));
      }
      String text = p.getString();
      try {
        return parse.apply(text);
      } catch (IllegalArgumentException e) {
        throw ctxt.weirdStringException(text, type, e.getMessage());
      }
    }
  }

  /** Reads a map key with kad's own parser, failing with the parser's message. */
  private static final class ParsingKeyDeserializer extends KeyDeserializer {

    private final Class<?> type;
    private final Function<String, ?> parse;

    ParsingKeyDeserializer(Class<?> type, Function<String, ?> parse) {
      this.type = type;
      this.parse = parse;
    }

    @Override
    public Object deserializeKey(String key, DeserializationContext ctxt) {
      try {
        return parse.apply(key);
      } catch (IllegalArgumentException e) {
        throw ctxt.weirdKeyException(type, key, e.getMessage());
      }
    }
  }

  /** Writes a {@link Duration} as whole milliseconds. */
  private static final class MillisSerializer extends StdSerializer<Duration> {

    MillisSerializer() {
      super(Duration.class);
    }

    @Override
    public void serialize(Duration duration, JsonGenerator gen, SerializationContext ctxt) {
      gen.writeNumber(duration.toMillis());
    }
  }

  /** {@link Value}: the key and signature only when signed; no {@code signed} flag beside them. */
  private abstract static class ValueMixin {

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    abstract byte[] publicKey();

    @JsonInclude(JsonInclude.Include.NON_EMPTY)
    abstract byte[] signature();

    @JsonIgnore
    abstract boolean isSigned();
  }

  /** {@link LookupEvent}: a {@code type} first, as the example web API names the events. */
  @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.PROPERTY, property = "type")
  @JsonSubTypes({
    @JsonSubTypes.Type(value = LookupEvent.Queried.class, name = "queried"),
    @JsonSubTypes.Type(value = LookupEvent.Stalled.class, name = "stalled"),
    @JsonSubTypes.Type(value = LookupEvent.Answered.class, name = "answered"),
    @JsonSubTypes.Type(value = LookupEvent.Failed.class, name = "failed"),
    @JsonSubTypes.Type(value = LookupEvent.CloserFound.class, name = "closer"),
    @JsonSubTypes.Type(value = LookupEvent.Finished.class, name = "finished")
  })
  private interface LookupEventMixin {

    @JsonProperty("elapsedMs")
    @JsonSerialize(using = MillisSerializer.class)
    Duration elapsed();
  }
}
