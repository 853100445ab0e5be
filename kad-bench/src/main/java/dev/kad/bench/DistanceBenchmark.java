package dev.kad.bench;

import dev.kad.api.NodeId;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * XOR-distance comparison, the inner loop of every lookup and table query: the allocation-free
 * {@code compareDistance} (STYLE §3, mldht's {@code threeWayDistance}) against building both {@code
 * Distance}s and comparing them.
 *
 * <pre>{@code
 * java -cp kad-bench/target/kad-bench.jar org.openjdk.jmh.Main Distance
 * java -cp kad-bench/target/kad-bench.jar org.openjdk.jmh.Main Distance -prof gc
 * }</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DistanceBenchmark {

  private static final int IDS = 1024;

  /** The id width. */
  @Param({"160", "256"})
  public int bits;

  private NodeId target;
  private NodeId[] ids;
  private int next;

  /** Draws a target and random ids with a fixed seed. */
  @Setup
  public void setUp() {
    SplittableRandom random = new SplittableRandom(42);
    target = NodeId.random(bits, random);
    ids = new NodeId[IDS];
    for (int i = 0; i < IDS; i++) {
      ids[i] = NodeId.random(bits, random);
    }
  }

  /**
   * Compares two ids' distances to the target at their first differing byte.
   *
   * @return the comparison, consumed by JMH
   */
  @Benchmark
  public int compareDistance() {
    int i = next++ & (IDS - 1);
    return target.compareDistance(ids[i], ids[(i + 1) & (IDS - 1)]);
  }

  /**
   * Builds both distances, then compares them.
   *
   * @return the comparison, consumed by JMH
   */
  @Benchmark
  public int distanceCompareTo() {
    int i = next++ & (IDS - 1);
    return target.distance(ids[i]).compareTo(target.distance(ids[(i + 1) & (IDS - 1)]));
  }
}
