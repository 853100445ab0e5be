/**
 * The kad benchmarks: the {@code kad-bench} command line ({@link dev.kad.bench.Bench}) whose {@code
 * sim} command measures lookups, puts and gets on a simulated network of many nodes in virtual
 * time, and JMH micro-benchmarks of hot paths such as {@link dev.kad.bench.DistanceBenchmark}.
 */
package dev.kad.bench;
