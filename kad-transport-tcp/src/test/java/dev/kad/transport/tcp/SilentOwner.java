package dev.kad.transport.tcp;

import dev.kad.api.Contact;
import dev.kad.api.message.Request;
import dev.kad.api.message.Response;
import reactor.core.publisher.Mono;

/** The owner of a {@link PeerConnection} tested alone: it never answers and learns nothing. */
final class SilentOwner implements PeerConnection.Owner {

  @Override
  public Mono<Response> answer(Request request) {
    return Mono.never();
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
