/** Implementation of the Netty data plane; not a public API and may change freely. */
@NullMarked
package io.isthmus.mesh.netty.internal;

import org.jspecify.annotations.NullMarked;
