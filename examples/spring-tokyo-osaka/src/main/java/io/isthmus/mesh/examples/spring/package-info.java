/** Two Spring Boot applications at sites tokyo and osaka, each with an embedded router. */
@NullMarked
package io.isthmus.mesh.examples.spring;

import org.jspecify.annotations.NullMarked;
