/**
 * The Isthmus test kit: JUnit 5 extensions with which users test their mesh setups the way the
 * project tests its own, on real parts.
 */
@NullMarked
package io.isthmus.mesh.testing;

import org.jspecify.annotations.NullMarked;
