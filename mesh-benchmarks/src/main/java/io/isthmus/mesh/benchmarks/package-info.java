/** JMH micro-benchmarks of Isthmus hot paths; run with {@code java -jar mesh-benchmarks/target/benchmarks.jar}. */
@NullMarked
package io.isthmus.mesh.benchmarks;

import org.jspecify.annotations.NullMarked;
