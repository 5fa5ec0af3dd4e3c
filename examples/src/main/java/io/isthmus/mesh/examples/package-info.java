/** Runnable examples of Isthmus, starting with the Tokyo/Osaka demo. */
@NullMarked
package io.isthmus.mesh.examples;

import org.jspecify.annotations.NullMarked;
