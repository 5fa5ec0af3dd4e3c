/**
 * JMH micro-benchmarks of Isthmus hot paths, run with {@code java -jar mesh-benchmarks/target/benchmarks.jar},
 * and load tools with a {@code main} in the same jar: {@link io.isthmus.mesh.benchmarks.TunnelHandshakeBench}
 * and {@link io.isthmus.mesh.benchmarks.EmbeddedVsDaemonBench}.
 */
@NullMarked
package io.isthmus.mesh.benchmarks;

import org.jspecify.annotations.NullMarked;
