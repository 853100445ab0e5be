package dev.kad.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.LookupEvent;
import dev.kad.api.NodeId;
import dev.kad.api.NodeStats;
import dev.kad.api.PutResult;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.Value;
import java.nio.charset.StandardCharsets;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.DatabindException;
import tools.jackson.databind.json.JsonMapper;

/** The JSON {@link KadJacksonModule} gives kad's types, on a plain {@link JsonMapper}. */
class KadJacksonModuleTest {

  private static final String ID_HEX = "0123456789abcdef0123456789abcdef01234567";
  private static final String PEER_HEX = "fedcba9876543210fedcba9876543210fedcba98";
  private static final NodeId ID = NodeId.parse(ID_HEX);
  private static final NodeId PEER = NodeId.parse(PEER_HEX);
  private static final Key KEY = Key.of("greeting");
  private static final Instant EXPIRES = Instant.parse("2030-01-02T03:04:05Z");
  private static final Contact CONTACT = new Contact(PEER, Address.parse("10.0.0.5:7000"));
  private static final String CONTACT_JSON =
      "{\"id\":\"" + PEER_HEX + "\",\"address\":\"10.0.0.5:7000\"}";

  private final JsonMapper mapper = JsonMapper.builder().addModule(new KadJacksonModule()).build();

  @Test
  void nodeIdsAndKeysAreLowerCaseHexAndReadBack() {
    NodeId wide = NodeId.parse("AB".repeat(32));
    assertThat(mapper.writeValueAsString(ID)).isEqualTo("\"" + ID_HEX + "\"");
    assertThat(mapper.writeValueAsString(wide)).isEqualTo("\"" + "ab".repeat(32) + "\"");
    assertThat(mapper.readValue(mapper.writeValueAsString(ID), NodeId.class)).isEqualTo(ID);
    assertThat(mapper.readValue(mapper.writeValueAsString(wide), NodeId.class)).isEqualTo(wide);
    assertThat(mapper.writeValueAsString(KEY)).isEqualTo("\"" + KEY.toHex() + "\"");
    // A key reads back from its hex, not hashed again as a name.
    assertThat(mapper.readValue(mapper.writeValueAsString(KEY), Key.class)).isEqualTo(KEY);
  }

  @Test
  void addressesAreHostColonPortWithIpv6BracketedAndReadBack() {
    for (String text : List.of("10.0.0.5:7000", "node-1.example:7001", "[::1]:7002")) {
      Address address = Address.parse(text);
      assertThat(mapper.writeValueAsString(address)).isEqualTo("\"" + text + "\"");
      assertThat(mapper.readValue("\"" + text + "\"", Address.class)).isEqualTo(address);
    }
  }

  @Test
  void idsAndAddressesWorkAsMapKeys() {
    Map<NodeId, Address> byId = Map.of(PEER, CONTACT.address());
    String json = mapper.writeValueAsString(byId);
    assertThat(json).isEqualTo("{\"" + PEER_HEX + "\":\"10.0.0.5:7000\"}");
    assertThat(mapper.readValue(json, new TypeReference<Map<NodeId, Address>>() {}))
        .isEqualTo(byId);
  }

  @Test
  void aBadIdKeyOrAddressFailsNamingTheValue() {
    assertThatThrownBy(() -> mapper.readValue("\"xyz\"", NodeId.class))
        .isInstanceOf(DatabindException.class)
        .hasMessageContaining("\"xyz\"")
        .hasMessageContaining("node id must be 40 or 64 hex digits");
    assertThatThrownBy(() -> mapper.readValue("\"" + "zz".repeat(20) + "\"", Key.class))
        .isInstanceOf(DatabindException.class)
        .hasMessageContaining("key is not hexadecimal");
    assertThatThrownBy(() -> mapper.readValue("\"10.0.0.5\"", Address.class))
        .isInstanceOf(DatabindException.class)
        .hasMessageContaining("address must be HOST:PORT but was '10.0.0.5'");
    assertThatThrownBy(() -> mapper.readValue("{\"xyz\":\"10.0.0.5:1\"}", IdMap.TYPE))
        .isInstanceOf(DatabindException.class)
        .hasMessageContaining("node id must be 40 or 64 hex digits");
    assertThatThrownBy(() -> mapper.readValue("42", NodeId.class))
        .isInstanceOf(DatabindException.class)
        .hasMessageContaining("NodeId");
  }

  @Test
  void idsAndAddressesBindInsideARequestBody() {
    Lookup body =
        mapper.readValue(
            "{\"target\":\"" + ID_HEX + "\",\"via\":\"[2001:db8::1]:7000\"}", Lookup.class);
    assertThat(body).isEqualTo(new Lookup(ID, Address.parse("[2001:db8::1]:7000")));
  }

  @Test
  void anUnsignedValueHasNoKeyOrSignature() {
    Value value = Value.of(bytes("hello"), ID, 7, 3, EXPIRES);
    assertThat(mapper.writeValueAsString(value))
        .isEqualTo(
            "{\"data\":\"aGVsbG8=\",\"publisher\":\""
                + ID_HEX
                + "\",\"valueId\":7,\"seq\":3,\"expiresAt\":\"2030-01-02T03:04:05Z\"}");
  }

  @Test
  void aSignedValueCarriesItsKeyAndSignatureInBase64() throws Exception {
    var keyPair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Value value = Value.of(bytes("hello"), ID, 7, 3, EXPIRES).signedWith(KEY, keyPair);
    Base64.Encoder base64 = Base64.getEncoder();
    assertThat(mapper.writeValueAsString(value))
        .isEqualTo(
            "{\"data\":\"aGVsbG8=\",\"publisher\":\""
                + ID_HEX
                + "\",\"valueId\":7,\"seq\":3,\"expiresAt\":\"2030-01-02T03:04:05Z\""
                + ",\"publicKey\":\""
                + base64.encodeToString(value.publicKey())
                + "\",\"signature\":\""
                + base64.encodeToString(value.signature())
                + "\"}");
  }

  @Test
  void aPutResultShowsItsKeyValueAndWhoAcceptedRejectedOrFailed() {
    Contact failed = new Contact(ID, Address.parse("[::1]:7002"));
    PutResult result =
        new PutResult(
            KEY,
            Value.of(bytes("hi"), ID, 1, 2, EXPIRES),
            List.of(CONTACT),
            List.of(new PutResult.Rejection(CONTACT, "store full")),
            List.of(failed));
    assertThat(mapper.writeValueAsString(result))
        .isEqualTo(
            "{\"key\":\""
                + KEY.toHex()
                + "\",\"value\":{\"data\":\"aGk=\",\"publisher\":\""
                + ID_HEX
                + "\",\"valueId\":1,\"seq\":2,\"expiresAt\":\"2030-01-02T03:04:05Z\"}"
                + ",\"accepted\":["
                + CONTACT_JSON
                + "],\"rejected\":[{\"contact\":"
                + CONTACT_JSON
                + ",\"reason\":\"store full\"}],\"failed\":[{\"id\":\""
                + ID_HEX
                + "\",\"address\":\"[::1]:7002\"}]}");
  }

  @Test
  void lookupEventsNameTheirTypeAndTheElapsedMillis() {
    Duration elapsed = Duration.ofMillis(1500);
    assertThat(
            mapper
                .writerFor(LookupEvent.class)
                .writeValueAsString(new LookupEvent.Queried(ID, elapsed, CONTACT, 2)))
        .isEqualTo(
            "{\"type\":\"queried\",\"target\":\""
                + ID_HEX
                + "\",\"elapsedMs\":1500,\"contact\":"
                + CONTACT_JSON
                + ",\"hop\":2}");
    // The same without the static type: the record's own class carries the discriminator.
    assertThat(mapper.writeValueAsString(new LookupEvent.Failed(ID, elapsed, CONTACT, "timeout")))
        .isEqualTo(
            "{\"type\":\"failed\",\"target\":\""
                + ID_HEX
                + "\",\"elapsedMs\":1500,\"contact\":"
                + CONTACT_JSON
                + ",\"reason\":\"timeout\"}");
  }

  @Test
  void everyKindOfLookupEventHasItsOwnType() {
    Duration d = Duration.ZERO;
    Map<String, LookupEvent> byType =
        Map.of(
            "queried", new LookupEvent.Queried(ID, d, CONTACT, 1),
            "stalled", new LookupEvent.Stalled(ID, d, CONTACT),
            "answered", new LookupEvent.Answered(ID, d, CONTACT, 8, 0),
            "failed", new LookupEvent.Failed(ID, d, CONTACT, "timeout"),
            "closer", new LookupEvent.CloserFound(ID, d, CONTACT, 2),
            "finished", new LookupEvent.Finished(ID, d, List.of(CONTACT), 5));
    assertThat(LookupEvent.class.getPermittedSubclasses()).hasSameSizeAs(byType.keySet());
    byType.forEach(
        (type, event) ->
            assertThat(mapper.writerFor(LookupEvent.class).writeValueAsString(event))
                .startsWith("{\"type\":\"" + type + "\",\"target\":\"" + ID_HEX + "\""));
    assertThat(mapper.writeValueAsString(byType.get("finished")))
        .endsWith(",\"elapsedMs\":0,\"closest\":[" + CONTACT_JSON + "],\"queried\":5}");
  }

  @Test
  void aRoutingTableShowsItsBucketsOfContacts() {
    RoutingTableSnapshot table =
        new RoutingTableSnapshot(
            ID,
            List.of(new RoutingTableSnapshot.Bucket(PEER, 1, List.of(CONTACT), List.of(CONTACT))));
    assertThat(mapper.writeValueAsString(table))
        .isEqualTo(
            "{\"self\":\""
                + ID_HEX
                + "\",\"buckets\":[{\"prefix\":\""
                + PEER_HEX
                + "\",\"depth\":1,\"contacts\":["
                + CONTACT_JSON
                + "],\"replacements\":["
                + CONTACT_JSON
                + "]}]}");
  }

  @Test
  void nodeStatsShowLastHeardAsATimeOrNull() {
    String heard =
        mapper.writeValueAsString(new NodeStats(3, 2, 1, 5, 0, 0, 0, Optional.of(EXPIRES)));
    assertThat(heard)
        .isEqualTo(
            "{\"contacts\":3,\"buckets\":2,\"storedValues\":1,\"storedBytes\":5,"
                + "\"activeWatches\":0,\"pollingWatches\":0,\"subscribers\":0,"
                + "\"lastHeard\":\"2030-01-02T03:04:05Z\"}");
    assertThat(mapper.writeValueAsString(new NodeStats(0, 1, 0, 0, 0, 0, 0, Optional.empty())))
        .endsWith(",\"lastHeard\":null}");
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** A request body as a controller might take it. */
  record Lookup(NodeId target, Address via) {}

  private static final class IdMap {
    static final TypeReference<Map<NodeId, Address>> TYPE = new TypeReference<>() {};
  }
}
