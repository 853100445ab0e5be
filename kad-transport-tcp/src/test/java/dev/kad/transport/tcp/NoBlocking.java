package dev.kad.transport.tcp;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.blockhound.BlockHound;

/**
 * Records every blocking call made on a thread that must not block: Netty's event loops and
 * Reactor's non-blocking schedulers (BlockHound's integrations for both come with their jars).
 * Installed once per JVM; recording rather than throwing, so a test sees every call, not only the
 * first, and tests that do not look are not disturbed.
 */
final class NoBlocking {

  private static final List<String> CALLS = new CopyOnWriteArrayList<>();
  private static boolean installed;

  private NoBlocking() {}

  /** Installs the detector if needed and forgets the calls seen so far. */
  static synchronized void start() {
    if (!installed) {
      // install(...) also loads the integrations on the class path (Reactor's, Netty's), which
      // tell it which threads must not block; builder() alone would not.
      BlockHound.install(
          builder ->
              builder
                  // Netty's buffer allocator takes a short lock of its own when its magazines
                  // grow, on whatever thread allocates: contention, not I/O.
                  .allowBlockingCallsInside(
                      "io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup",
                      "tryExpandMagazines")
                  .allowBlockingCallsInside(
                      "io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free")
                  .blockingMethodCallback(
                      method -> CALLS.add(Thread.currentThread().getName() + ": " + method)));
      installed = true;
    }
    CALLS.clear();
  }

  /** The blocking calls seen since {@link #start()}, with the thread that made each. */
  static List<String> calls() {
    return List.copyOf(CALLS);
  }
}
