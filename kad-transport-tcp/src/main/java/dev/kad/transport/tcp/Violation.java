package dev.kad.transport.tcp;

/** The ways a peer can break the protocol; each closes that peer's connection. */
enum Violation {
  CONNECTION_LIMIT("too many connections"),
  CONNECTION_LIMIT_PER_IP("too many connections from one IP"),
  BAD_PREFACE("bad preface"),
  OVERSIZED_FRAME("oversized frame"),
  TRUNCATED_FRAME("truncated frame"),
  MALFORMED_MESSAGE("malformed message"),
  UNKNOWN_RESPONSE("response to an unknown request id"),
  SLOW_READER("peer does not read"),
  TLS("TLS failed");

  private final String description;

  Violation(String description) {
    this.description = description;
  }

  String description() {
    return description;
  }
}
