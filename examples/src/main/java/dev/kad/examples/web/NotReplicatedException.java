package dev.kad.examples.web;

import dev.kad.api.Contact;
import dev.kad.api.KadNode;
import dev.kad.api.PutResult;
import dev.kad.examples.web.Views.PutView;
import java.util.List;
import java.util.stream.Collectors;
import org.springframework.http.HttpStatus;

/**
 * A put that only the node itself accepted while it knows other nodes: the value has one copy,
 * which leaves with this node. {@link ProblemHandler} answers it 502 when other nodes answered and
 * refused (as a store nobody accepted), 503 when none answered (as no reachable node), with the put
 * result.
 */
final class NotReplicatedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final transient PutView put;
  private final HttpStatus status;

  private NotReplicatedException(String message, HttpStatus status, PutView put) {
    super(message, null, false, false);
    this.status = status;
    this.put = put;
  }

  /**
   * Checks that the value is stored beyond {@code node}: at another node, or at the node alone when
   * it knows no other (the first node of its network holds the only copy there can be).
   *
   * @return {@code result} when it is
   * @throws NotReplicatedException when only the node itself accepted it
   */
  static PutResult check(KadNode node, String key, PutResult result) {
    if (result.accepted().stream().anyMatch(c -> !c.id().equals(node.id()))) {
      return result;
    }
    List<PutResult.Rejection> refused =
        result.rejected().stream().filter(r -> !r.contact().id().equals(node.id())).toList();
    List<Contact> silent = result.failed();
    int known = node.routingTable().size();
    if (refused.isEmpty() && silent.isEmpty() && known == 0) {
      return result;
    }
    String where =
        "the value of key '"
            + key
            + "' is stored only at this node, which keeps and republishes it: ";
    String why;
    HttpStatus status;
    if (!refused.isEmpty()) {
      status = HttpStatus.BAD_GATEWAY;
      why =
          "0 of the "
              + (refused.size() + silent.size())
              + " other nodes asked accepted it ("
              + refused.size()
              + " refused: "
              + refused.stream()
                  .map(r -> Views.describe(r.contact()) + " " + r.reason())
                  .collect(Collectors.joining("; "))
              + ", "
              + silent.size()
              + " did not answer)";
    } else if (!silent.isEmpty()) {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      why = "none of the " + silent.size() + " other nodes asked answered";
    } else {
      status = HttpStatus.SERVICE_UNAVAILABLE;
      why = "none of the " + known + " nodes it knows answered its lookup";
    }
    throw new NotReplicatedException(where + why, status, PutView.of(result));
  }

  HttpStatus status() {
    return status;
  }

  PutView put() {
    return put;
  }
}
