/**
 * Isthmus, a multi-cluster service mesh for the JVM: the root package holds the exception hierarchy
 * and the entry points shared by every module.
 */
@NullMarked
package io.isthmus.mesh;

import org.jspecify.annotations.NullMarked;
