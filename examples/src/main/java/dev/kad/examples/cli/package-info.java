/**
 * The {@code kad} command line: {@code kad demo} starts a local cluster of real TCP nodes and walks
 * through put, get, watch, a traced lookup and the routing tables; {@code kad node} runs one node
 * until interrupted; {@code kad put|get|watch} join a network through a bootstrap address with a
 * short-lived node and do one operation. {@link dev.kad.examples.cli.KadCli} is the entry point,
 * packaged with its dependencies as {@code examples/target/kad.jar}.
 */
package dev.kad.examples.cli;
