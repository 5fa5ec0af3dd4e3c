/**
 * The configuration store SPI: revisioned, watchable storage of mesh objects, its in-memory
 * implementation, the JSON/YAML codec and config validation errors.
 */
@NullMarked
package io.isthmus.mesh.config;

import org.jspecify.annotations.NullMarked;
