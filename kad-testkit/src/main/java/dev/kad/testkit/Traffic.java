package dev.kad.testkit;

/**
 * A snapshot of message counters of a {@link SimulatedNetwork}, for the whole network or for one
 * address. A message is a request or a response leg.
 *
 * <p>For the whole network {@code sent == delivered + dropped + inFlight}, and {@code received ==
 * delivered}. For one address, {@code sent}, {@code requests}, {@code delivered} and {@code
 * dropped} count the messages that address sent, and {@code received} the messages delivered to it.
 *
 * @param sent messages sent (requests and responses)
 * @param requests the requests among {@code sent}: the RPCs started
 * @param delivered sent messages that reached their destination
 * @param dropped sent messages that were lost, crossed a partition, or found their destination
 *     dead, closed or unknown
 * @param received messages delivered to the address (equal to {@code delivered} for the network)
 */
public record Traffic(long sent, long requests, long delivered, long dropped, long received) {

  /** No traffic at all. */
  public static final Traffic NONE = new Traffic(0, 0, 0, 0, 0);

  /**
   * Messages sent and not yet delivered or dropped.
   *
   * @return {@code sent - delivered - dropped}
   */
  public long inFlight() {
    return sent - delivered - dropped;
  }
}
