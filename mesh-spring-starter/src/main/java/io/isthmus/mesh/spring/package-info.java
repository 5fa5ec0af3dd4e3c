/** Spring Boot auto-configuration for Isthmus. */
@NullMarked
package io.isthmus.mesh.spring;

import org.jspecify.annotations.NullMarked;
