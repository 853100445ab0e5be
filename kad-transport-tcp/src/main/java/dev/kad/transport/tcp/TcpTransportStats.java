package dev.kad.transport.tcp;

/**
 * A snapshot of a {@link TcpTransport}'s counters. Connection counts are current; every other
 * figure counts events since the transport was created. Each protocol-violation counter counts
 * connections closed (or frames dropped) for that reason.
 *
 * @param openConnections connections open now, both directions
 * @param pendingRequests requests sent and waiting for their response now
 * @param pendingWriteBytes outbound bytes of all connections written and not yet taken by their
 *     sockets now, what {@code maxTotalPendingWriteBytes} bounds
 * @param acceptedConnections connections accepted from peers
 * @param dialedConnections connections this transport opened
 * @param rejectedConnections accepted connections closed at once because {@code
 *     maxInboundConnections} were open and every accepted connection had a request in flight
 * @param rejectedConnectionsPerIp accepted connections closed at once because {@code
 *     maxInboundConnectionsPerIp} were open from the peer's IPv4 address or IPv6 /64
 * @param badPrefaces connections closed because their preface named another protocol, version or
 *     format (garbage bytes included)
 * @param oversizedFrames connections closed for a length prefix over {@code maxFrameBytes}
 * @param truncatedFrames connections that ended in the middle of a preface or frame
 * @param malformedMessages connections closed for a body that did not decode: bad syntax, unknown
 *     type, missing field, id of the wrong length, value over {@code maxValueBytes}
 * @param unknownResponses connections closed for a response to a request id never sent on them
 * @param lateResponses responses dropped because their request had timed out or been cancelled
 * @param slowReadersClosed connections closed because the peer did not read and unwritten bytes
 *     exceeded {@code maxPendingWriteBytes}, or because theirs were the largest while those of all
 *     connections together exceeded {@code maxTotalPendingWriteBytes}
 * @param idleClosed connections closed for being idle
 * @param handlerFailures inbound requests whose handler failed, answered with {@code
 *     Failure(INTERNAL)}
 * @param evictedConnections idle dialed connections closed to dial another within {@code
 *     maxOutboundConnections}
 * @param evictedInboundConnections accepted connections closed to accept another within {@code
 *     maxInboundConnections}: each the one quiet the longest (no message either way, nothing in
 *     flight); not violations, the peer dials again when it needs to
 * @param claimsConfirmed connections peers opened that a dial-back to the address they advertised
 *     confirmed, and that then carried requests to them
 * @param claimsRefuted connections peers opened claiming an address whose node, asked by a
 *     dial-back, did not open them: never used for requests to that address
 * @param tlsFailures connections closed, with TLS on, because their TLS handshake failed or timed
 *     out (a peer without TLS, garbage, a certificate the trust material does not accept, a peer
 *     that stalls the handshake) or a TLS alert ended them; counted on whichever side saw it
 * @param rateLimitedRequests inbound requests answered with {@code Failure(RATE_LIMITED)} because
 *     their source (an IPv4 address or IPv6 /64) was over {@code maxRequestsPerSecondPerIp}, or,
 *     with {@code checkSenderAddress} on, because the host name they claimed was not known and
 *     every look-up was taken; their connections stay open, so they are not violations
 * @param spoofedSenders inbound requests answered with {@code Failure(INVALID)}, with {@code
 *     checkSenderAddress} on, because the sender address they claimed is not on the host their
 *     connection comes from; their connections stay open, so they are not violations
 */
public record TcpTransportStats(
    long openConnections,
    long pendingRequests,
    long pendingWriteBytes,
    long acceptedConnections,
    long dialedConnections,
    long rejectedConnections,
    long rejectedConnectionsPerIp,
    long badPrefaces,
    long oversizedFrames,
    long truncatedFrames,
    long malformedMessages,
    long unknownResponses,
    long lateResponses,
    long slowReadersClosed,
    long idleClosed,
    long handlerFailures,
    long evictedConnections,
    long evictedInboundConnections,
    long claimsConfirmed,
    long claimsRefuted,
    long tlsFailures,
    long rateLimitedRequests,
    long spoofedSenders) {

  /**
   * The sum of every protocol-violation counter.
   *
   * @return connections closed because a peer misbehaved or failed TLS
   */
  public long violations() {
    return rejectedConnections
        + rejectedConnectionsPerIp
        + badPrefaces
        + oversizedFrames
        + truncatedFrames
        + malformedMessages
        + unknownResponses
        + slowReadersClosed
        + tlsFailures;
  }
}
