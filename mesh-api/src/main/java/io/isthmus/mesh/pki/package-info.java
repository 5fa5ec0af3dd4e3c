/**
 * Mesh identity and PKI: the mesh certificate authority, site certificates carrying SPIFFE-style
 * URI SANs ({@code spiffe://<trust-domain>/site/<site>}), trust bundles and peer identity checks.
 */
@NullMarked
package io.isthmus.mesh.pki;

import org.jspecify.annotations.NullMarked;
