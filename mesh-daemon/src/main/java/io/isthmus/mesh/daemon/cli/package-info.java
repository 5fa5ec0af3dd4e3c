/**
 * {@code meshctl}, the command line of the mesh: a thin layer of commands over
 * {@link io.isthmus.mesh.client.MeshAdmin} that talks to a router daemon's admin API.
 */
@NullMarked
package io.isthmus.mesh.daemon.cli;

import org.jspecify.annotations.NullMarked;
