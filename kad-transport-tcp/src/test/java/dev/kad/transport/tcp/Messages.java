package dev.kad.transport.tcp;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.arbitraries.StringArbitrary;

/** Generators and fixtures of API messages for codec and transport tests. */
final class Messages {

  private Messages() {}

  static NodeId id(int seed) {
    byte[] b = new byte[20];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) (seed * 31 + i);
    }
    b[0] = (byte) (seed >>> 24);
    b[1] = (byte) (seed >>> 16);
    b[2] = (byte) (seed >>> 8);
    b[3] = (byte) seed;
    return NodeId.of(b);
  }

  static Contact contact(int seed, Address address) {
    return new Contact(id(seed), address);
  }

  static Value value(int size) {
    return Value.of(new byte[size], id(7), 1, 1, Instant.ofEpochSecond(1_700_000_000L, 5));
  }

  static Arbitrary<NodeId> ids(int bits) {
    return Arbitraries.bytes().array(byte[].class).ofSize(bits / 8).map(NodeId::of);
  }

  /** Every message type; requests of full nodes and of clients alike. */
  static Arbitrary<Message> messages(int bits) {
    return Combinators.combine(unmarked(bits), Arbitraries.of(false, true))
        .as((m, client) -> m instanceof Request r ? r.withFromClient(client) : m);
  }

  private static Arbitrary<Message> unmarked(int bits) {
    Arbitrary<NodeId> ids = ids(bits);
    Arbitrary<Key> keys = ids.map(NodeId::asKey);
    Arbitrary<String> hosts =
        Arbitraries.oneOf(
            Arbitraries.of("127.0.0.1", "::1", "fe80::1", "10.0.0.5", "node-1.example.org"),
            // Led by a letter: a host of digits alone is an IPv4 address in another form, refused.
            Arbitraries.strings().alpha().numeric().ofMaxLength(29).map(s -> "h" + s));
    Arbitrary<Address> addresses =
        Combinators.combine(hosts, Arbitraries.integers().between(0, 65535)).as(Address::new);
    Arbitrary<Contact> contacts = Combinators.combine(ids, addresses).as(Contact::new);
    Arbitrary<Instant> instants =
        Combinators.combine(
                Arbitraries.longs().between(-100_000_000_000L, 100_000_000_000L),
                Arbitraries.integers().between(0, 999_999_999))
            .as(Instant::ofEpochSecond);
    Arbitrary<byte[]> data = Arbitraries.bytes().array(byte[].class).ofMaxSize(64);
    Arbitrary<byte[]> publicKeys =
        Arbitraries.bytes().array(byte[].class).ofSize(Value.PUBLIC_KEY_BYTES);
    Arbitrary<byte[]> signed =
        Arbitraries.bytes().array(byte[].class).ofSize(Value.SIGNATURE_BYTES);
    Arbitrary<byte[][]> signatures =
        Arbitraries.oneOf(
            Arbitraries.just(new byte[][] {new byte[0], new byte[0]}),
            Combinators.combine(publicKeys, signed).as((k, s) -> new byte[][] {k, s}));
    Arbitrary<Value> values =
        Combinators.combine(
                data, ids, Arbitraries.longs(), Arbitraries.longs(), instants, signatures)
            .as((d, p, vid, seq, exp, sig) -> new Value(d, p, vid, seq, exp, sig[0], sig[1]));
    Arbitrary<List<Value>> valueLists = values.list().ofMaxSize(4);
    Arbitrary<List<Contact>> contactLists = contacts.list().ofMaxSize(6);
    // A live-stream subscription's token: none (0, as an earlier version), or any long.
    Arbitrary<Long> tokens = Arbitraries.oneOf(Arbitraries.just(0L), Arbitraries.longs());
    Arbitrary<Duration> ttls =
        Arbitraries.longs().between(0, 10_000_000_000L).map(Duration::ofMillis);
    // A peer's words arrive as they were when printable (PeerText): any script, no control or
    // format characters (a soft hyphen, an Arabic letter mark), which are escaped.
    StringArbitrary words =
        Arbitraries.strings()
            .withCharRange(' ', '~')
            .withCharRange('\u00a0', '\u07ff')
            .excludeChars('\u00ad', '\u061c', '\u06dd', '\u070f')
            .excludeChars('\u0600', '\u0601', '\u0602', '\u0603', '\u0604', '\u0605');
    Arbitrary<Response.Rejected> rejections =
        Combinators.combine(Arbitraries.integers().between(0, 100), words.ofMaxLength(40))
            .as(Response.Rejected::new);
    return Arbitraries.oneOf(
        List.of(
            contacts.map(Request.Ping::new),
            Combinators.combine(contacts, ids).as(Request.FindNode::new),
            Combinators.combine(contacts, keys).as(Request.FindValue::new),
            Combinators.combine(contacts, keys, valueLists, Arbitraries.of(true, false))
                .as(Request.Store::new),
            Combinators.combine(contacts, keys, ttls, tokens)
                .as((c, k, t, token) -> new Request.Subscribe(c, k, t, false, token)),
            Combinators.combine(contacts, keys, tokens)
                .as((c, k, token) -> new Request.Unsubscribe(c, k, false, token)),
            Combinators.combine(contacts, keys, valueLists, tokens)
                .as((c, k, v, token) -> new Request.Notify(c, k, v, false, token)),
            contacts.map(Response.Pong::new),
            Combinators.combine(contacts, contactLists).as(Response.NodesFound::new),
            Combinators.combine(contacts, valueLists, contactLists).as(Response.ValuesFound::new),
            Combinators.combine(
                    contacts,
                    Arbitraries.integers().between(0, 1000),
                    rejections.list().ofMaxSize(3))
                .as(Response.Stored::new),
            Combinators.combine(contacts, ttls, Arbitraries.of(false, true), tokens)
                .as(Response.Subscribed::new),
            Combinators.combine(
                    contacts, Arbitraries.of(Response.Code.class), words.ofMaxLength(60))
                .as(Response.Failure::new)));
  }
}
