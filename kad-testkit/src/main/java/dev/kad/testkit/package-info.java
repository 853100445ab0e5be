/**
 * Test support for kad: {@link dev.kad.testkit.SimulatedNetwork}, a seeded in-memory network with
 * latency, loss, partitions and dead nodes that runs on any {@link
 * reactor.core.scheduler.Scheduler} (a {@code VirtualTimeScheduler} in tests), its {@link
 * dev.kad.testkit.InMemoryTransport}, and {@link dev.kad.testkit.TransportContract}, the JUnit 5
 * test interface every {@link dev.kad.api.spi.Transport} implementation's tests implement.
 */
package dev.kad.testkit;
