/**
 * Test support for kad: {@link dev.kad.testkit.SimulatedNetwork}, a seeded in-memory network with
 * latency, loss, partitions and dead nodes that runs on any {@link
 * reactor.core.scheduler.Scheduler} (a {@code VirtualTimeScheduler} in tests), its {@link
 * dev.kad.testkit.InMemoryTransport} and {@link dev.kad.testkit.Traffic} counters; {@link
 * dev.kad.testkit.SimulatedCluster}, n nodes joined on such a network in one call; {@link
 * dev.kad.testkit.VirtualTime}, which runs an operation to its end on a virtual clock; {@link
 * dev.kad.testkit.TransportContract}, the JUnit 5 test interface every {@link
 * dev.kad.api.spi.Transport} implementation's tests implement; {@link
 * dev.kad.testkit.ForwardingTransport}, a transport that wraps another to change one call; {@link
 * dev.kad.testkit.NoBlocking}, BlockHound set up to find blocking calls on a transport's threads;
 * {@link dev.kad.testkit.NettyLeaks}, a JUnit extension that fails a test class that leaked a Netty
 * buffer; and {@link dev.kad.testkit.TestCertificates}, a test CA and certificates for TLS tests.
 */
package dev.kad.testkit;
