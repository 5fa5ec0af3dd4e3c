/** The remote mesh client: the admin API over the JDK's HTTP client. Not API; may change freely. */
@NullMarked
package io.isthmus.mesh.client.internal;

import org.jspecify.annotations.NullMarked;
