/** Implementation details of the Spring Boot integration; may change at any time. */
@NullMarked
package io.isthmus.mesh.spring.internal;

import org.jspecify.annotations.NullMarked;
