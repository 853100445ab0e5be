package dev.kad.examples.cli;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.IncompatiblePeerException;
import dev.kad.api.KadException;
import dev.kad.api.KadNode;
import dev.kad.api.NoSeedAnsweredException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * The seeds of a join that is tried again until it succeeds, {@code kad node --retry-join}'s and
 * {@code kad watch}'s rejoin, and what their failures tell. Each attempt goes through the seeds and
 * the addresses of up to {@code k} contacts the node knows, nearest first (nodes that reached it
 * meanwhile, or that it knew before it was cut off).
 *
 * <p>A seed whose settings do not fit the node's (its failure in {@link
 * NoSeedAnsweredException#seedFailures()} is an {@link IncompatiblePeerException}: TLS on one side
 * only, another wire format, protocol version or id width, a certificate the other side does not
 * trust), or that failed otherwise in a way no retry mends (a non-transient {@link KadException},
 * e.g. {@link dev.kad.api.InvalidMessageException} for a peer that answers the ping with something
 * other than a pong), fails every attempt alike: it is reported once to the {@link Misfit} listener
 * and not dialed again while other addresses failed in a way a retry may mend. When every address
 * that is not the node itself fails so, the attempt fails with a {@link CliException} naming each
 * and why, which ends the retries.
 *
 * <p>One instance per join: its attempts run one at a time, each after the one before has ended.
 */
final class RetriedJoin {

  /** Told once of each address dropped from the join. */
  @FunctionalInterface
  interface Misfit {
    /**
     * @param seed the address dropped
     * @param why its failure's message
     * @param retrying the seeds still tried, not the node itself; empty when only the contacts the
     *     node knows are left
     */
    void dropped(Address seed, String why, List<Address> retrying);
  }

  private final KadNode node;
  private final List<Address> seeds;
  private final Misfit listener;
  private final Map<Address, String> misfits = Collections.synchronizedMap(new LinkedHashMap<>());
  private final Set<Address> selves = ConcurrentHashMap.newKeySet();

  /**
   * @param node the joining node
   * @param seeds the addresses it joins through
   * @param listener told of each seed dropped
   */
  RetriedJoin(KadNode node, List<Address> seeds, Misfit listener) {
    this.node = Objects.requireNonNull(node, "node");
    this.seeds = List.copyOf(seeds);
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  /**
   * One attempt, lazily: {@code bootstrap} of the addresses still worth dialing. Fails with a
   * {@link CliException} when none is left but the node itself, or when every address tried that is
   * not the node itself failed in a way no retry mends; otherwise as {@code bootstrap} does.
   *
   * @param bootstrap the bootstrap of the given addresses, e.g. {@code node::bootstrap}
   */
  Mono<Void> attempt(Function<List<Address>, Mono<Void>> bootstrap) {
    return Mono.defer(
        () -> {
          List<Address> tried = withPeersMet(seeds).stream().filter(this::fits).toList();
          if (!misfits.isEmpty() && selves.containsAll(tried)) {
            // Only this node itself is left: it would "join" as the first node of its network,
            // which the seeds that do not fit were named to prevent.
            return Mono.error(noSeedFits());
          }
          return bootstrap
              .apply(tried)
              .onErrorMap(NoSeedAnsweredException.class, e -> dropMisfits(e, tried));
        });
  }

  private boolean fits(Address a) {
    return !misfits.containsKey(a);
  }

  /**
   * Takes the addresses of a failed attempt whose failure no retry mends (a non-transient {@link
   * KadException}: settings that do not fit this node's, or an answer a kad node does not give)
   * into {@code misfits}, telling the listener of each once.
   *
   * @param failure the attempt's failure, which names every address {@code tried}
   * @return {@code failure}, to retry, or a {@link CliException} when every address tried that is
   *     not this node itself failed so: no retry can join then
   */
  private Throwable dropMisfits(NoSeedAnsweredException failure, List<Address> tried) {
    selves.addAll(failure.selfSeeds());
    Map<Address, Throwable> seedFailures = failure.seedFailures();
    Map<Address, String> found = new LinkedHashMap<>();
    boolean mendable = false;
    for (Address a : tried) {
      if (selves.contains(a)) {
        continue;
      }
      // As NoSeedAnsweredException#isTransient reads them: not up yet, unreachable, or a node that
      // answered (whose settings fit) may take this node at a later attempt.
      if (seedFailures.get(a) instanceof KadException k && !k.isTransient()) {
        found.put(a, k.getMessage());
      } else {
        mendable = true;
      }
    }
    misfits.putAll(found);
    if (!mendable) {
      return noSeedFits();
    }
    List<Address> retrying = seeds.stream().filter(s -> fits(s) && !selves.contains(s)).toList();
    found.forEach((seed, why) -> listener.dropped(seed, why, retrying));
    return failure;
  }

  /**
   * The end of a join that no retry can make: every seed failed so (its settings and this node's do
   * not fit, or it answered as no kad node does).
   */
  private CliException noSeedFits() {
    synchronized (misfits) {
      return noSeedFits(misfits, selves);
    }
  }

  /**
   * A join's failure that no retry mends ({@code failure} is not transient), said as a retried
   * join's end says it, whether or not the join was retried: {@code cannot join the network: each
   * seed failed in a way no retry changes: [...]}.
   */
  static CliException noSeedFits(NoSeedAnsweredException failure) {
    Map<Address, String> each = new LinkedHashMap<>();
    failure.seedFailures().forEach((seed, why) -> each.put(seed, why.getMessage()));
    return noSeedFits(each, failure.selfSeeds());
  }

  private static CliException noSeedFits(Map<Address, String> misfits, Collection<Address> selves) {
    List<String> each = new ArrayList<>();
    misfits.forEach((seed, why) -> each.add(seed + " (" + why + ")"));
    String line = "cannot join the network: each seed failed in a way no retry changes: " + each;
    if (!selves.isEmpty()) {
      line += "; skipped " + List.copyOf(selves) + ": this node itself";
    }
    return new CliException(line);
  }

  /**
   * {@code seeds}, then the addresses of up to {@code k} contacts the node knows, nearest first.
   */
  private List<Address> withPeersMet(List<Address> seeds) {
    List<Address> all = new ArrayList<>(seeds);
    for (Contact c : node.routingTable().closest(node.id(), node.config().k())) {
      if (!all.contains(c.address())) {
        all.add(c.address());
      }
    }
    return all;
  }
}
