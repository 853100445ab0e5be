package dev.kad.transport.tcp;

import dev.kad.api.Contact;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import java.util.List;
import java.util.Optional;
import reactor.core.publisher.Mono;

/**
 * The owner of a {@link PeerConnection} tested alone: it learns nothing, and either never answers
 * or records each request and answers it with one fixed response.
 */
final class StubOwner implements PeerConnection.Owner {

  private final List<Request> delivered;
  private final Response answer;

  /** An owner that never answers. */
  StubOwner() {
    this(null, null);
  }

  private StubOwner(List<Request> delivered, Response answer) {
    this.delivered = delivered;
    this.answer = answer;
  }

  /** An owner that adds every request to {@code delivered} and answers it with {@code answer}. */
  static StubOwner answering(List<Request> delivered, Response answer) {
    return new StubOwner(delivered, answer);
  }

  @Override
  public Mono<Response> answer(Request request) {
    if (delivered != null) {
      delivered.add(request);
    }
    return answer == null ? Mono.never() : Mono.just(answer);
  }

  @Override
  public Optional<Response> refuse(PeerConnection connection, Request request) {
    return Optional.empty();
  }

  @Override
  public Mono<Response> checkSender(PeerConnection connection, Request request) {
    return Mono.empty();
  }

  @Override
  public void learned(PeerConnection c, Contact sender) {}

  @Override
  public boolean dialedWith(byte[] nonce) {
    return false;
  }

  @Override
  public void claimChecked(PeerConnection dialBack, boolean confirmed) {}
}
