/**
 * JMH micro-benchmarks of Isthmus hot paths, run with {@code java -jar mesh-benchmarks/target/benchmarks.jar},
 * and latency tools with a {@code main} in the same jar, such as {@link
 * io.isthmus.mesh.benchmarks.EmbeddedVsDaemonBench}.
 */
@NullMarked
package io.isthmus.mesh.benchmarks;

import org.jspecify.annotations.NullMarked;
