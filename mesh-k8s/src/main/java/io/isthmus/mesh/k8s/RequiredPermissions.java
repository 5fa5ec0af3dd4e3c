package io.isthmus.mesh.k8s;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Kubernetes API permissions the Isthmus Kubernetes integration uses: the single list that the
 * router's ClusterRole in {@code deploy/} must grant, and nothing more.
 *
 * <table>
 *   <caption>Rules</caption>
 *   <tr><th>API group</th><th>resource</th><th>verbs</th><th>why</th></tr>
 *   <tr><td>(core)</td><td>services</td><td>get, list, watch, create, update, delete</td>
 *       <td>{@link ServiceSurfacer} creates the Services of remote load balancers, finds orphans and name
 *       clashes; {@link KubernetesEndpointDiscovery} watches the Services of pool origins</td></tr>
 *   <tr><td>discovery.k8s.io</td><td>endpointslices</td><td>get, list, watch, create, update, delete</td>
 *       <td>the surfacer points its Services at the router pods; discovery watches origins' slices</td></tr>
 *   <tr><td>(core)</td><td>pods</td><td>list, watch</td>
 *       <td>the surfacer follows the router pods to keep the EndpointSlices current</td></tr>
 *   <tr><td>(core)</td><td>events</td><td>create</td>
 *       <td>the surfacer reports a Service name clash as a Warning event</td></tr>
 * </table>
 */
public final class RequiredPermissions {

    /**
     * One RBAC policy rule: verbs on a resource of an API group.
     *
     * @param apiGroup the API group, {@code ""} for the core group
     * @param resource the resource (plural, lowercase)
     * @param verbs the verbs, sorted
     */
    public record Rule(String apiGroup, String resource, Set<String> verbs) {

        /**
         * Validates and copies the components.
         *
         * @param apiGroup the API group
         * @param resource the resource
         * @param verbs the verbs
         */
        public Rule {
            requireNonNull(apiGroup, "apiGroup");
            requireNonNull(resource, "resource");
            verbs = Set.copyOf(new TreeSet<>(requireNonNull(verbs, "verbs")));
        }

        /**
         * Returns whether this rule allows a verb on a resource.
         *
         * @param group the API group
         * @param res the resource
         * @param verb the verb
         * @return {@code true} when allowed
         */
        public boolean allows(String group, String res, String verb) {
            return apiGroup.equals(group) && resource.equals(res) && verbs.contains(verb);
        }
    }

    /** Every rule the integration needs, in the order of the table above. */
    public static final List<Rule> RULES = List.of(
            new Rule("", "services", Set.of("get", "list", "watch", "create", "update", "delete")),
            new Rule("discovery.k8s.io", "endpointslices", Set.of("get", "list", "watch", "create", "update", "delete")),
            new Rule("", "pods", Set.of("list", "watch")),
            new Rule("", "events", Set.of("create")));

    private RequiredPermissions() {}

    /**
     * Returns whether {@link #RULES} allow a verb on a resource.
     *
     * @param apiGroup the API group, {@code ""} for the core group
     * @param resource the resource
     * @param verb the verb
     * @return {@code true} when some rule allows it
     */
    public static boolean allows(String apiGroup, String resource, String verb) {
        return RULES.stream().anyMatch(r -> r.allows(apiGroup, resource, verb));
    }
}
