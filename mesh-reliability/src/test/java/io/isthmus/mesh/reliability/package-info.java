/** Reliability and security tests of the Isthmus data plane and configuration readers. */
@NullMarked
package io.isthmus.mesh.reliability;

import org.jspecify.annotations.NullMarked;
