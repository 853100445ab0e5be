package dev.kad.transport.tcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/** The transport-wide look-ups of claimed sender host names, on a clock the test moves. */
class HostLookupsTest {

  private static final Duration BOUND = Duration.ofSeconds(10);
  private static final long TTL_NANOS = Duration.ofSeconds(30).toNanos();

  private final AtomicLong now = new AtomicLong(-5_000_000_000L); // nanoTime may be negative
  private final AtomicInteger calls = new AtomicInteger();
  private final Map<String, Sinks.One<List<InetAddress>>> answers = new ConcurrentHashMap<>();
  private HostLookups lookups;

  @AfterEach
  void dispose() {
    if (lookups != null) {
      lookups.dispose();
    }
  }

  /** Look-ups that answer when the test says, up to {@code maxInFlight} at once. */
  private HostLookups lookups(int maxInFlight, int maxHosts) {
    lookups =
        new HostLookups(
            host -> {
              calls.incrementAndGet();
              return answer(host).asMono();
            },
            maxInFlight,
            maxHosts,
            Duration.ofNanos(TTL_NANOS),
            now::get);
    return lookups;
  }

  private Sinks.One<List<InetAddress>> answer(String host) {
    return answers.computeIfAbsent(host, h -> Sinks.one());
  }

  private static InetAddress address(String host, int last) throws UnknownHostException {
    return InetAddress.getByAddress(host, new byte[] {(byte) 192, 0, 2, (byte) last});
  }

  private static List<InetAddress> now(Mono<List<InetAddress>> addresses) {
    return addresses.block(BOUND);
  }

  @Test
  void aHostIsLookedUpOnceWhileItsAddressesAreFreshAndAgainAfterTheirTtl() throws Exception {
    HostLookups hosts = lookups(4, 16);
    Mono<List<InetAddress>> first = hosts.addresses("a.test").orElseThrow();
    Mono<List<InetAddress>> sameMeanwhile = hosts.addresses("a.test").orElseThrow();
    answer("a.test").tryEmitValue(List.of(address("a.test", 1))).orThrow();

    assertThat(now(first)).containsExactly(address("a.test", 1));
    assertThat(now(sameMeanwhile)).containsExactly(address("a.test", 1));
    now.addAndGet(TTL_NANOS - 1);
    assertThat(now(hosts.addresses("a.test").orElseThrow())).hasSize(1);
    assertThat(calls).as("one look-up within the TTL").hasValue(1);

    now.addAndGet(1);
    answers.remove("a.test");
    Mono<List<InetAddress>> again = hosts.addresses("a.test").orElseThrow();
    answer("a.test").tryEmitValue(List.of(address("a.test", 2))).orThrow();
    assertThat(now(again)).containsExactly(address("a.test", 2));
    assertThat(calls).hasValue(2);
  }

  @Test
  void aFailedLookUpIsKeptAsNoAddressesForTheTtl() {
    HostLookups hosts = lookups(4, 16);
    Mono<List<InetAddress>> failed = hosts.addresses("nowhere.test").orElseThrow();
    answer("nowhere.test").tryEmitError(new UnknownHostException("nowhere.test")).orThrow();

    assertThat(now(failed)).isEmpty();
    assertThat(now(hosts.addresses("nowhere.test").orElseThrow())).isEmpty();
    assertThat(calls).hasValue(1);
    now.addAndGet(TTL_NANOS);
    hosts.addresses("nowhere.test").orElseThrow();
    Await.until("a second look-up", () -> calls.get() == 2);
  }

  @Test
  void noLookUpStartsWhileTheBoundIsInFlightAndARefusalIsNotKept() throws Exception {
    HostLookups hosts = lookups(2, 16);
    Mono<List<InetAddress>> slow = hosts.addresses("slow1.test").orElseThrow();
    hosts.addresses("slow2.test").orElseThrow();
    Await.until("both look-ups to start", () -> calls.get() == 2);
    // no answer within a waiter's patience does not free the look-up: its thread is still taken
    assertThat(slow.timeout(Duration.ofMillis(50)).onErrorReturn(List.of()).block(BOUND)).isEmpty();

    assertThat(hosts.addresses("next.test")).isEmpty();
    assertThat(hosts.addresses("slow1.test")).as("a look-up in flight is shared").isPresent();
    assertThat(calls).hasValue(2);

    answer("slow1.test").tryEmitValue(List.of(address("slow1.test", 1))).orThrow();
    Await.until("the look-up to be free", () -> hosts.addresses("next.test").isPresent());
    assertThat(now(hosts.addresses("slow1.test").orElseThrow())).hasSize(1);
    Await.until("next.test to be looked up", () -> calls.get() == 3);
  }

  @Test
  void aSourceRunsOneLookUpAtATimeAndOthersStillGetTheirs() throws Exception {
    HostLookups hosts = lookups(4, 16);
    hosts.addresses("slow1.test", "192.0.2.1").orElseThrow();

    assertThat(hosts.addresses("slow2.test", "192.0.2.1"))
        .as("its one look-up is in flight")
        .isEmpty();
    assertThat(hosts.addresses("slow1.test", "192.0.2.1"))
        .as("a look-up in flight is shared")
        .isPresent();
    assertThat(hosts.addresses("slow2.test", "192.0.2.2")).as("another source").isPresent();
    assertThat(hosts.addresses("slow3.test", null)).as("a peer on this host").isPresent();
    Await.until("three look-ups to start", () -> calls.get() == 3);

    answer("slow1.test").tryEmitValue(List.of(address("slow1.test", 1))).orThrow();
    Await.until(
        "the source's look-up to be free",
        () -> hosts.addresses("slow4.test", "192.0.2.1").isPresent());
  }

  @Test
  void atMostMaxHostsAreKeptAndLookUpsInFlightAreNeverDropped() throws Exception {
    HostLookups hosts = lookups(2, 3);
    Mono<List<InetAddress>> slow = hosts.addresses("slow.test").orElseThrow();
    for (int i = 1; i <= 10; i++) {
      String host = "h" + i + ".test";
      answer(host).tryEmitValue(List.of(address(host, i))).orThrow();
      assertThat(now(hosts.addresses(host).orElseThrow())).hasSize(1);
      assertThat(hosts.size()).isLessThanOrEqualTo(3);
    }

    assertThat(hosts.addresses("slow.test").orElseThrow()).isSameAs(slow);
    Await.until("every look-up to start", () -> calls.get() == 11);
  }
}
