/**
 * JMH micro-benchmarks of Isthmus hot paths, run with {@code java -jar mesh-benchmarks/target/benchmarks.jar},
 * and load tools with a {@code main}, such as {@link io.isthmus.mesh.benchmarks.TunnelHandshakeBench}.
 */
@NullMarked
package io.isthmus.mesh.benchmarks;

import org.jspecify.annotations.NullMarked;
