package dev.kad.reactor.routing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.kad.api.Address;
import dev.kad.api.Contact;
import dev.kad.api.KadConfig;
import dev.kad.api.NodeId;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class RoutingTableConcurrencyTest {

  @Test
  void invariantsHoldAfterManyThreadsUpdateAndReadAtOnce() throws Exception {
    SplittableRandom seedRng = new SplittableRandom(99);
    NodeId self = NodeId.random(seedRng);
    KadConfig config = KadConfig.builder().k(8).replacementCacheSize(4).maxFailures(2).build();
    RoutingTable table = new RoutingTable(self, config, Clock.systemUTC());
    List<Contact> pool = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      pool.add(
          new Contact(self.randomInBucket(seedRng.nextInt(160), seedRng), new Address("n" + i, 1)));
    }
    int threads = 8;
    ExecutorService executor = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<Integer>> results = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        long seed = seedRng.nextLong();
        results.add(
            executor.submit(
                () -> {
                  SplittableRandom rng = new SplittableRandom(seed);
                  start.await();
                  int reads = 0;
                  for (int i = 0; i < 8_000; i++) {
                    Contact c = pool.get(rng.nextInt(pool.size()));
                    switch (rng.nextInt(5)) {
                      case 0, 1 ->
                          table
                              .seen(c)
                              .toPing()
                              .ifPresent(p -> table.pingResult(p, rng.nextBoolean()));
                      case 2 -> table.failed(c);
                      case 3 -> reads += table.closest(c.id(), 20).size() <= 20 ? 1 : 0;
                      default -> reads += table.snapshot().size() >= 0 ? 1 : 0;
                    }
                  }
                  return reads;
                }));
      }
      start.countDown();
      for (Future<Integer> f : results) {
        f.get(60, TimeUnit.SECONDS);
      }
    } finally {
      executor.shutdownNow();
      assertThat(executor.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
    }
    RoutingTableProperties.assertInvariants(table, self, config);
    assertThat(table.size()).isGreaterThan(config.k());
  }
}
