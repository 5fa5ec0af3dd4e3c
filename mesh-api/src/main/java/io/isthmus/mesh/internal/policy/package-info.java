/** Internal helpers of the policy engine and of the policy documents; not API. */
@NullMarked
package io.isthmus.mesh.internal.policy;

import org.jspecify.annotations.NullMarked;
