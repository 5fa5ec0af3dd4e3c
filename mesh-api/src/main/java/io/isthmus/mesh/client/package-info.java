/**
 * The client facade of the mesh: reading and writing mesh objects and finding mesh services, the
 * same way whether the mesh runs in-process or behind a router daemon's admin API.
 */
@NullMarked
package io.isthmus.mesh.client;

import org.jspecify.annotations.NullMarked;
