/** The application at Osaka: serves {@code /orders} and publishes it as the mesh service {@code osaka-app}. */
@NullMarked
package io.isthmus.mesh.examples.spring.osaka;

import org.jspecify.annotations.NullMarked;
