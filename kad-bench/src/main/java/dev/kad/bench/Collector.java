package dev.kad.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;

/**
 * The garbage collector a run used, for the JSON lines of the simulations ({@code "gc"}): wall
 * times of runs under different collectors are not comparable, and {@code java -XX:+UseParallelGC
 * -jar kad-bench.jar sim ...} is a different run from the default G1 one.
 */
final class Collector {

  private Collector() {}

  /**
   * This JVM's collector: {@code g1}, {@code parallel}, {@code serial}, {@code z}, {@code
   * shenandoah}, or the collectors' own names joined by {@code +}.
   *
   * @return the collector's short name
   */
  static String name() {
    List<String> names =
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(GarbageCollectorMXBean::getName)
            .toList();
    if (names.isEmpty()) {
      return "none";
    }
    String first = names.get(0);
    if (first.startsWith("G1 ")) {
      return "g1";
    }
    if (first.startsWith("PS ")) {
      return "parallel";
    }
    if (first.equals("Copy") || first.equals("MarkSweepCompact")) {
      return "serial";
    }
    if (first.startsWith("ZGC")) {
      return "z";
    }
    if (first.startsWith("Shenandoah")) {
      return "shenandoah";
    }
    return String.join("+", names);
  }
}
