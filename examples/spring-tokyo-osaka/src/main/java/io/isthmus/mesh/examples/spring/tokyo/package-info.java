/** The application at Tokyo: calls {@code http://osaka-app/orders} through its embedded router. */
@NullMarked
package io.isthmus.mesh.examples.spring.tokyo;

import org.jspecify.annotations.NullMarked;
