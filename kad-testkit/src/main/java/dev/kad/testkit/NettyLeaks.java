package dev.kad.testkit;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakDetectorFactory;
import io.netty.util.ResourceLeakTracker;
import java.lang.ref.PhantomReference;
import java.lang.ref.ReferenceQueue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.LongAdder;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test class that leaked a Netty buffer (or any other resource a Netty leak detector
 * tracks). Netty only logs a {@code LEAK:} line, and only when a collection happens to find the
 * buffer and a later allocation happens to look: this extension installs, once per JVM, a {@link
 * ResourceLeakDetectorFactory} whose detectors record each leak they report (and still log it), and
 * after each test class collects garbage, makes every detector look, and throws an {@link
 * AssertionError} listing the leaks reported since the previous check.
 *
 * <p>A test module registers it for every test class: it lists {@code dev.kad.testkit.NettyLeaks}
 * in {@code META-INF/services/org.junit.jupiter.api.extension.Extension} of its test resources and
 * sets {@code junit.jupiter.extensions.autodetection.enabled=true} in its {@code
 * junit-platform.properties}; it brings {@code netty-buffer} itself (an optional dependency here,
 * like BlockHound for {@link NoBlocking}). The factory must be installed before Netty makes its
 * {@code ByteBuf} detector, when a buffer class is first initialized: autodetected extensions are
 * made when the Jupiter engine starts, before any test class runs; a check that finds Netty's
 * detector made elsewhere fails rather than pass blind. Leaks are traced with their access records
 * at {@code -Dio.netty.leakDetection.level=paranoid}, which kad's builds set; at Netty's default
 * level only one buffer in 128 is tracked.
 */
public final class NettyLeaks implements AfterAllCallback {

  /**
   * Collection rounds per check: the reference handler enqueues one collection's references before
   * the next's, so the second sentinel shows that all the first collection found was enqueued.
   */
  private static final int GC_ROUNDS = 2;

  /** How long a round waits for its collection to show (normally a few milliseconds). */
  private static final long GC_WAIT_MILLIS = 200;

  /** Leaks listed in full in a failure; Netty's log has every one. */
  private static final int MAX_SHOWN = 5;

  private static final Recorder RECORDER = install();

  private static long trackedAtLastCheck = -1;

  /** Created by the service loader or {@code @ExtendWith}. */
  public NettyLeaks() {}

  @Override
  public void afterAll(ExtensionContext context) {
    assertNone(context.getDisplayName());
  }

  /**
   * {@link #check()}, failing if it found leaks: for another test engine's after-class hook (the
   * transport's jqwik properties run in jqwik, not in Jupiter).
   *
   * @param after what just ran, for the message
   * @throws AssertionError listing the leaks, if any
   */
  public static void assertNone(String after) {
    List<String> leaks = check();
    if (!leaks.isEmpty()) {
      List<String> shown = leaks.subList(0, Math.min(leaks.size(), MAX_SHOWN));
      throw new AssertionError(
          leaks.size()
              + " Netty resource leak(s) reported after "
              + after
              + " (release() was not called before the object was garbage-collected)"
              + (shown.size() < leaks.size()
                  ? ", the first " + shown.size() + " (all logged):\n"
                  : ":\n")
              + String.join("\n\n", shown));
    }
  }

  /**
   * Collects garbage, makes every recording detector look for collected unreleased resources, and
   * returns (and forgets) the leaks reported since the previous check.
   *
   * @return one text per leak: its resource type and Netty's access records (empty below
   *     paranoid/advanced level)
   * @throws AssertionError if Netty's buffer leak detector is not one of this factory's, so no leak
   *     could be seen
   */
  public static synchronized List<String> check() {
    long tracked = RECORDER.tracked();
    if (tracked != trackedAtLastCheck) {
      // a class that tracked nothing since the last check skips the collections; a leak that
      // becomes unreachable only later is found by the next check that collects
      awaitCollections();
    }
    touchAllocators();
    trackedAtLastCheck = RECORDER.tracked();
    RECORDER.pollAll();
    List<String> leaks = RECORDER.drain();
    if (!RECORDER.tracksBuffers()) {
      throw new AssertionError(
          "NettyLeaks was installed after Netty made its ByteBuf leak detector:"
              + " buffer leaks cannot be seen (install it before the first buffer is allocated)");
    }
    return leaks;
  }

  private static synchronized Recorder install() {
    ResourceLeakDetectorFactory current = ResourceLeakDetectorFactory.instance();
    if (current instanceof Recorder) {
      return (Recorder) current;
    }
    Recorder recorder = new Recorder();
    ResourceLeakDetectorFactory.setResourceLeakDetectorFactory(recorder);
    return recorder;
  }

  /**
   * Waits, without sleeping, until a few full collections have run and the JDK has enqueued what
   * they found: a phantom-reachable sentinel is enqueued by the same reference handler, one
   * collection after another, as the detectors' references to leaked buffers.
   */
  private static void awaitCollections() {
    for (int round = 0; round < GC_ROUNDS; round++) {
      ReferenceQueue<Object> queue = new ReferenceQueue<>();
      PhantomReference<Object> sentinel = new PhantomReference<>(new Object(), queue);
      System.gc();
      try {
        if (queue.remove(GC_WAIT_MILLIS) == null) {
          // no collection within the wait (a concurrent collector): try again, bounded
          continue;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } finally {
        sentinel.clear();
      }
    }
  }

  /**
   * Allocates and releases a buffer from the allocators kad's code uses (Netty's default, pooled,
   * and the unpooled one, heap and direct): at paranoid level each allocation also makes the buffer
   * detector look, and the first one makes Netty create that detector if no buffer had yet.
   */
  private static void touchAllocators() {
    for (ByteBufAllocator allocator :
        List.of(ByteBufAllocator.DEFAULT, UnpooledByteBufAllocator.DEFAULT)) {
      allocator.heapBuffer(1).release();
      allocator.directBuffer(1).release();
    }
  }

  /** The factory: every detector it makes records its reports here. */
  private static final class Recorder extends ResourceLeakDetectorFactory {

    private final Map<String, Detector<?>> detectors = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> leaks = new ConcurrentLinkedQueue<>();

    @Override
    @SuppressWarnings("deprecation") // the abstract method Netty's own factory also implements
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval, long maxActive) {
      Detector<T> detector = new Detector<>(resource, samplingInterval, leaks);
      detectors.put(detector.id, detector);
      return detector;
    }

    @Override
    public <T> ResourceLeakDetector<T> newResourceLeakDetector(
        Class<T> resource, int samplingInterval) {
      return newResourceLeakDetector(resource, samplingInterval, Long.MAX_VALUE);
    }

    void pollAll() {
      detectors.values().forEach(Detector::poll);
    }

    long tracked() {
      return detectors.values().stream().mapToLong(d -> d.tracked.sum()).sum();
    }

    boolean tracksBuffers() {
      return detectors.values().stream().anyMatch(d -> d.resource == ByteBuf.class);
    }

    List<String> drain() {
      List<String> drained = new ArrayList<>();
      for (String leak; (leak = leaks.poll()) != null; ) {
        drained.add(leak);
      }
      return drained;
    }
  }

  /** A detector that records each leak it reports, besides logging it as Netty's does. */
  private static final class Detector<T> extends ResourceLeakDetector<T> {

    private final Class<?> resource;
    private final String id;
    private final ConcurrentLinkedQueue<String> leaks;
    private final LongAdder tracked = new LongAdder();

    @SuppressWarnings("deprecation") // the constructor Netty's own factory calls
    Detector(Class<?> resource, int samplingInterval, ConcurrentLinkedQueue<String> leaks) {
      super(resource, samplingInterval, Long.MAX_VALUE);
      this.resource = resource;
      this.id = resource.getName() + '@' + System.identityHashCode(this);
      this.leaks = leaks;
    }

    /**
     * Makes the detector look at its queue of collected resources now, at any level: a forced track
     * reports what the queue holds before it tracks the probe, which is then closed.
     */
    @SuppressWarnings("unchecked") // T is erased: the probe is only held, never used as a T
    void poll() {
      T probe = (T) new Object();
      ResourceLeakTracker<T> tracker = trackForcibly(probe);
      if (tracker != null) {
        tracker.close(probe);
      }
    }

    @Override
    public ResourceLeakTracker<T> track(T obj) {
      tracked.increment();
      return super.track(obj);
    }

    @Override
    protected boolean needReport() {
      return true; // report even when the error log is off: the check is the point
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
      leaks.add("LEAK: " + resourceType + records);
      super.reportTracedLeak(resourceType, records);
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
      leaks.add(
          "LEAK: "
              + resourceType
              + " (untraced: run with -Dio.netty.leakDetection.level=paranoid for its records)");
      super.reportUntracedLeak(resourceType);
    }
  }
}
