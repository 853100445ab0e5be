package dev.kad.examples.web;

import dev.kad.api.Contact;
import dev.kad.api.KadNode;
import dev.kad.api.LookupEvent;
import dev.kad.api.PutResult;
import dev.kad.api.RoutingTableSnapshot;
import dev.kad.api.Value;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/** The JSON shapes of the HTTP API: plain records built from the kad types. */
final class Views {

  private Views() {}

  /** A value: its bytes as base64 and, when they are UTF-8, as text. */
  record ValueView(
      String publisher, long valueId, long seq, String expiresAt, String data, String text) {
    static ValueView of(Value v) {
      return new ValueView(
          v.publisher().toHex(),
          v.valueId(),
          v.seq(),
          v.expiresAt().toString(),
          Base64.getEncoder().encodeToString(v.data()),
          utf8(v.data()));
    }
  }

  record Rejection(String node, String reason) {}

  record PutView(
      String key, long seq, List<String> accepted, List<Rejection> rejected, List<String> failed) {
    static PutView of(PutResult r) {
      return new PutView(
          r.key().toHex(),
          r.value().seq(),
          r.accepted().stream().map(Views::describe).toList(),
          r.rejected().stream().map(x -> new Rejection(describe(x.contact()), x.reason())).toList(),
          r.failed().stream().map(Views::describe).toList());
    }
  }

  record BucketView(int depth, String prefix, int contacts, int replacements) {}

  /** The node; {@code lastHeard} is null until it first hears from another node. */
  record NodeView(
      String id,
      String address,
      int contacts,
      int storedValues,
      long storedBytes,
      String lastHeard,
      List<BucketView> buckets) {
    static NodeView of(KadNode node) {
      RoutingTableSnapshot table = node.routingTable();
      var stats = node.stats();
      return new NodeView(
          node.id().toHex(),
          node.contact().address().toString(),
          table.size(),
          stats.storedValues(),
          stats.storedBytes(),
          stats.lastHeard().map(Object::toString).orElse(null),
          table.buckets().stream()
              .map(
                  b ->
                      new BucketView(
                          b.depth(),
                          b.prefix().toShortHex(),
                          b.contacts().size(),
                          b.replacements().size()))
              .toList());
    }
  }

  /** One step of a lookup, flattened for JSON. */
  record LookupEventView(String type, long elapsedMs, String contact, Integer hop, String detail) {
    static LookupEventView of(LookupEvent e) {
      long ms = e.elapsed().toMillis();
      if (e instanceof LookupEvent.Queried q) {
        return new LookupEventView("queried", ms, describe(q.contact()), q.hop(), null);
      } else if (e instanceof LookupEvent.Answered a) {
        return new LookupEventView(
            "answered", ms, describe(a.contact()), null, a.returned() + " contacts");
      } else if (e instanceof LookupEvent.Stalled s) {
        return new LookupEventView("stalled", ms, describe(s.contact()), null, null);
      } else if (e instanceof LookupEvent.Failed f) {
        return new LookupEventView("failed", ms, describe(f.contact()), null, f.reason());
      } else if (e instanceof LookupEvent.CloserFound c) {
        return new LookupEventView("closer", ms, describe(c.contact()), c.hop(), null);
      }
      LookupEvent.Finished f = (LookupEvent.Finished) e;
      return new LookupEventView(
          "finished",
          ms,
          null,
          null,
          f.closest().size() + " closest after " + f.queried() + " requests");
    }
  }

  static String describe(Contact c) {
    return c.id().toShortHex() + "@" + c.address();
  }

  private static String utf8(byte[] data) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(data)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
