/**
 * Mesh identity and PKI: the mesh certificate authority, site certificates carrying SPIFFE-style
 * URI SANs ({@code spiffe://<trust-domain>/site/<site>}), trust bundles and peer identity checks, and
 * their lifecycle: renewal ({@link io.isthmus.mesh.pki.SiteCertificateRenewer}), joining new sites
 * with one-time tokens ({@link io.isthmus.mesh.pki.JoinTokenIssuer},
 * {@link io.isthmus.mesh.pki.SiteEnrollment}) and CA rotation through trust bundles.
 *
 * <h2>Joining a site</h2>
 * <ol>
 *   <li>CA side: {@code JoinToken token = tokens.issue("nara")}; hand {@code token.value()} to nara's
 *       operator (one use, expires after an hour by default).</li>
 *   <li>Site side: {@code SiteEnrollment e = SiteEnrollment.create("mesh.example", "nara")} makes the
 *       key pair locally; send the token and {@code e.csrPem()} to the CA side.</li>
 *   <li>CA side: {@code tokens.redeem(token, csrPem)} checks the token and the request and returns the
 *       certificate chain and trust bundle as PEM.</li>
 *   <li>Site side: {@code e.complete(chainPem, bundlePem)} gives the site's {@code SiteCredentials}.</li>
 * </ol>
 *
 * <h2>Rotating the CA without downtime</h2>
 * A site accepts a peer whose chain leads to any root of its trust bundle, so the CA is rotated in
 * three steps, each finished at every site before the next begins:
 * <ol>
 *   <li><b>Trust both.</b> Create the new CA and add its root to every site's bundle
 *       ({@code renewer.updateTrustBundle(bundle.withRoot(newCa.certificate()))}). Nothing changes for
 *       connections: every certificate is still from the old CA, which every site still trusts.</li>
 *   <li><b>Re-issue.</b> Switch the issuer to the new CA and renew every site
 *       ({@code renewer.renewNow()}). A site with a new certificate is trusted by every site, because
 *       all of them hold the new root since step 1; a site not yet re-issued is still trusted through
 *       the old root. A site that missed step 1 would refuse re-issued peers: that is why step 1 comes
 *       first, everywhere.</li>
 *   <li><b>Drop the old root.</b> Once every site carries a certificate of the new CA (and the old
 *       certificates' remaining validity is no longer needed), remove the old root from every bundle
 *       ({@code renewer.updateTrustBundle(bundle.withoutRoot(oldCa.certificate()))}). From then on a
 *       peer still presenting an old certificate is refused.</li>
 * </ol>
 * Renewal never drops a root by itself; the removal in step 3 is always explicit. No cross-signing is
 * needed: the overlap of both roots in every bundle is what keeps old and new certificates mutually
 * trusted. {@code CaRotationTest} walks these steps with real TLS 1.3 handshakes.
 */
@NullMarked
package io.isthmus.mesh.pki;

import org.jspecify.annotations.NullMarked;
