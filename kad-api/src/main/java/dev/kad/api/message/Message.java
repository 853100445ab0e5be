package dev.kad.api.message;

import dev.kad.api.Contact;

/** A protocol message: a {@link Request} or a {@link Response}. */
public sealed interface Message permits Request, Response {

  /**
   * The node that sent this message, with the address it advertises.
   *
   * @return the sender's contact
   */
  Contact sender();
}
