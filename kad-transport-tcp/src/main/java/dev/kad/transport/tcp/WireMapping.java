package dev.kad.transport.tcp;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.InvalidMessageException;
import dev.kad.api.KadConfig;
import dev.kad.api.Key;
import dev.kad.api.NodeId;
import dev.kad.api.Value;
import dev.kad.api.message.Message;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the {@link Wire} shapes {@link WireReader} read into the API's message records ({@link
 * WireWriter} writes those records directly), checking what the reader cannot: id lengths against
 * the configured {@code idBits}, value sizes against {@code maxValueBytes}, and every invariant of
 * the API records (their constructors' {@code IllegalArgumentException} and {@code
 * NullPointerException} become {@link InvalidMessageException}).
 */
final class WireMapping {

  private static final Logger log = LoggerFactory.getLogger(WireMapping.class);

  /** The most contacts of one answer left out for a host this node refuses (see contacts). */
  static final int MAX_CONTACTS_LEFT_OUT = 32;

  private final int idBytes;
  private final int maxValueBytes;

  WireMapping(int idBits, int maxValueBytes) {
    this.idBytes = idBits / 8;
    this.maxValueBytes = maxValueBytes;
  }

  /**
   * The API message a wire message stands for.
   *
   * @throws InvalidMessageException naming the first violated rule
   */
  Message toApi(Wire.Msg msg) {
    try {
      return convert(msg);
    } catch (InvalidMessageException e) {
      throw e;
    } catch (RuntimeException e) {
      // the API records' own checks: blank host, port range, negative counts, null elements
      throw new InvalidMessageException("invalid " + typeName(msg) + ": " + e, e);
    }
  }

  private Message convert(Wire.Msg msg) {
    Contact s = contact(msg.sender(), "sender");
    if (msg instanceof Wire.Ping m) {
      return new Request.Ping(s, m.fromClient());
    } else if (msg instanceof Wire.FindNode m) {
      return new Request.FindNode(s, nodeId(m.target(), "target"), m.fromClient());
    } else if (msg instanceof Wire.FindValue m) {
      return new Request.FindValue(s, key(m.key()), m.fromClient());
    } else if (msg instanceof Wire.Store m) {
      return new Request.Store(s, key(m.key()), values(m.values()), m.cached(), m.fromClient());
    } else if (msg instanceof Wire.Subscribe m) {
      return new Request.Subscribe(s, key(m.key()), ttl(m.ttlMillis()), m.fromClient(), m.token());
    } else if (msg instanceof Wire.Unsubscribe m) {
      return new Request.Unsubscribe(s, key(m.key()), m.fromClient(), m.token());
    } else if (msg instanceof Wire.Notify m) {
      return new Request.Notify(s, key(m.key()), values(m.values()), m.fromClient(), m.token());
    } else if (msg instanceof Wire.Pong) {
      return new Response.Pong(s);
    } else if (msg instanceof Wire.NodesFound m) {
      return new Response.NodesFound(s, contacts(m.contacts()));
    } else if (msg instanceof Wire.ValuesFound m) {
      return new Response.ValuesFound(s, values(m.values()), contacts(m.contacts()));
    } else if (msg instanceof Wire.Stored m) {
      List<Response.Rejected> rejected = new ArrayList<>(m.rejected().size());
      for (Wire.Rejection r : m.rejected()) {
        rejected.add(new Response.Rejected(r.index(), PeerText.printable(r.reason())));
      }
      return new Response.Stored(s, m.accepted(), rejected);
    } else if (msg instanceof Wire.Subscribed m) {
      return new Response.Subscribed(s, ttl(m.ttlMillis()), m.renewed(), m.token());
    } else if (msg instanceof Wire.Failure m) {
      // The peer's words reach exceptions, lookup events and put results, and so log lines.
      return new Response.Failure(s, m.code(), PeerText.printable(m.message()));
    }
    throw new InvalidMessageException("unknown message type " + typeName(msg));
  }

  private static String typeName(Wire.Msg msg) {
    return msg == null ? "null message" : msg.getClass().getSimpleName();
  }

  private Contact contact(Wire.Peer p, String what) {
    NodeId nodeId = peerId(p, what);
    try {
      return new Contact(nodeId, new Address(p.host(), p.port()));
    } catch (IllegalArgumentException e) {
      // Address's own rules (host length and characters, port range), naming which contact broke
      // them: a node repeats the contacts it hears of, so one no peer could dial is refused here.
      throw new InvalidMessageException(what + " " + e.getMessage(), e);
    }
  }

  private NodeId peerId(Wire.Peer p, String what) {
    if (p == null) {
      throw new InvalidMessageException(what + " is missing");
    }
    // The description only on error: this runs for every contact of every answer.
    byte[] id = p.id();
    return id != null && id.length == idBytes ? NodeId.of(id) : nodeId(id, what + " id");
  }

  /**
   * The contacts of an answer, without those whose address breaks {@link Address}'s rules: they are
   * left out, not the answer refused, unlike a sender's. An earlier version took hosts this one
   * refuses (a numeric spelling of an IPv4 address such as {@code 167772165}) and repeats the
   * contacts it hears of, so refusing the whole answer would close the connection to an honest
   * older node and count a failure against it at every lookup that met such a contact. A contact
   * with a missing part or an id of the wrong width still makes the answer malformed.
   */
  private List<Contact> contacts(List<Wire.Peer> peers) {
    List<Contact> out = new ArrayList<>(peers.size());
    int left = 0;
    for (Wire.Peer p : peers) {
      Contact c = contactOrNull(p);
      if (c != null) {
        out.add(c);
      } else if (++left > MAX_CONTACTS_LEFT_OUT) {
        // Each costs an exception on the event loop: an answer of a thousand one-letter hosts
        // is no older node's, and is malformed as the first bad host once was.
        throw new InvalidMessageException(
            "more than " + MAX_CONTACTS_LEFT_OUT + " contacts with hosts this node refuses");
      }
    }
    return out;
  }

  private Contact contactOrNull(Wire.Peer p) {
    NodeId nodeId = peerId(p, "contact");
    try {
      return new Contact(nodeId, new Address(p.host(), p.port()));
    } catch (IllegalArgumentException e) {
      if (log.isDebugEnabled()) {
        log.debug("left out contact {}: {}", nodeId.toShortHex(), e.getMessage());
      }
      return null;
    }
  }

  private NodeId nodeId(byte[] bytes, String what) {
    return NodeId.of(checkIdLength(bytes, what));
  }

  private Key key(byte[] bytes) {
    return NodeId.of(checkIdLength(bytes, "key")).asKey();
  }

  private byte[] checkIdLength(byte[] bytes, String what) {
    if (bytes == null) {
      throw new InvalidMessageException(what + " is missing");
    }
    if (bytes.length != idBytes) {
      throw new InvalidMessageException(
          what
              + " must be "
              + idBytes
              + " bytes (idBits "
              + idBytes * 8
              + ") but was "
              + bytes.length);
    }
    return bytes;
  }

  private List<Value> values(List<Wire.Val> vals) {
    List<Value> out = new ArrayList<>(vals.size());
    for (Wire.Val v : vals) {
      if (v == null) {
        throw new InvalidMessageException("value is missing");
      }
      if (v.data().length > maxValueBytes) {
        throw new InvalidMessageException(
            "value must be at most maxValueBytes "
                + maxValueBytes
                + " but was "
                + v.data().length
                + " bytes");
      }
      out.add(
          new Value(
              v.data(),
              nodeId(v.publisher(), "publisher"),
              v.valueId(),
              v.seq(),
              Instant.ofEpochSecond(v.expiresSec(), checkNanos(v.expiresNano())),
              v.publicKey(),
              v.signature()));
    }
    return out;
  }

  private static int checkNanos(int nanos) {
    if (nanos < 0 || nanos > 999_999_999) {
      throw new InvalidMessageException("expiresNano must be in [0, 999999999] but was " + nanos);
    }
    return nanos;
  }

  private static Duration ttl(long millis) {
    if (millis < 0) {
      throw new InvalidMessageException("ttlMillis must not be negative but was " + millis);
    }
    // Taken as the longest ttl a node asks or grants: another implementation may write
    // Long.MAX_VALUE for "forever", and both sides bound a subscription's ttl anyway.
    return millis > MAX_TTL_MILLIS ? KadConfig.MAX_DURATION : Duration.ofMillis(millis);
  }

  private static final long MAX_TTL_MILLIS = KadConfig.MAX_DURATION.toMillis();
}
