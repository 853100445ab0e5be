package dev.kad.testkit;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * For tests of code on real event loops (a TCP transport, a web application): records every
 * blocking call made on a thread that must not block, Netty's event loops and Reactor's
 * non-blocking schedulers (BlockHound's integrations for both come with their jars). Recording
 * rather than throwing, so a test sees every call, not only the first, and tests that do not look
 * are not disturbed.
 *
 * <p>BlockHound must be installed before those threads first wait for work, or their wait inside
 * the scheduler's queue, begun before, counts as a blocking call: a test module lists {@link
 * Recording} in {@code META-INF/services/reactor.blockhound.integration.BlockHoundIntegration} of
 * its test resources and adds {@code blockhound-junit-platform}, which installs BlockHound when the
 * test run starts. On Java 17 it also needs {@code -XX:+AllowRedefinitionToAddDeleteMethods}.
 */
public final class NoBlocking {

  private static final List<String> CALLS = new CopyOnWriteArrayList<>();

  private NoBlocking() {}

  /** How BlockHound reports here. Public with a no-argument constructor for the service loader. */
  public static final class Recording implements BlockHoundIntegration {

    /** Created by the service loader. */
    public Recording() {}

    @Override
    public void applyTo(BlockHound.Builder builder) {
      builder
          // Netty's buffer allocator takes a short lock of its own when its magazines grow, on
          // whatever thread allocates: contention, not I/O.
          .allowBlockingCallsInside(
              "io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines")
          .allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$Magazine", "free")
          .blockingMethodCallback(
              method -> CALLS.add(Thread.currentThread().getName() + ": " + method));
    }
  }

  /**
   * Installs the detector unless the test run already did, and forgets the calls seen so far.
   * {@code install(...)} also loads the integrations on the class path (Reactor's, Netty's), which
   * tell it which threads must not block; {@code builder()} alone would not.
   */
  public static void start() {
    BlockHound.install(new Recording());
    CALLS.clear();
  }

  /**
   * The blocking calls seen since {@link #start()}.
   *
   * @return each call as {@code thread: method}
   */
  public static List<String> calls() {
    return List.copyOf(CALLS);
  }
}
