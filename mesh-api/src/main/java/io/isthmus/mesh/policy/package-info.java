/**
 * The policy engine: pure, thread-safe evaluation of {@link io.isthmus.mesh.model.ServicePolicy service
 * policies} against {@link io.isthmus.mesh.policy.RequestFacts request facts} and of {@link
 * io.isthmus.mesh.model.NetworkFirewall network firewalls} against {@link
 * io.isthmus.mesh.policy.ConnectionFacts connection facts}, with decisions that say why, evaluation
 * traces for users ({@link io.isthmus.mesh.policy.Explanation}), and a token-bucket {@link
 * io.isthmus.mesh.policy.RateLimiter} for the data plane.
 */
@NullMarked
package io.isthmus.mesh.policy;

import org.jspecify.annotations.NullMarked;
