package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.daemon.cli.Meshctl.UsageException;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.util.Locale;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/** The kind names meshctl accepts: singular, plural and short forms, case-insensitive. */
final class Kinds {

    private static final Map<String, String> ALIASES = Map.ofEntries(
            Map.entry("site", "Site"), Map.entry("sites", "Site"),
            Map.entry("lb", "LoadBalancer"), Map.entry("lbs", "LoadBalancer"),
            Map.entry("loadbalancer", "LoadBalancer"), Map.entry("loadbalancers", "LoadBalancer"),
            Map.entry("pool", "OriginPool"), Map.entry("pools", "OriginPool"),
            Map.entry("originpool", "OriginPool"), Map.entry("originpools", "OriginPool"),
            Map.entry("policy", "ServicePolicy"), Map.entry("policies", "ServicePolicy"),
            Map.entry("servicepolicy", "ServicePolicy"), Map.entry("servicepolicies", "ServicePolicy"),
            Map.entry("fw", "NetworkFirewall"), Map.entry("firewall", "NetworkFirewall"),
            Map.entry("networkfirewall", "NetworkFirewall"), Map.entry("networkfirewalls", "NetworkFirewall"));

    static final String EXPECTED = "one of site, lb|loadbalancer, pool|originpool, policy|servicepolicy, "
            + "fw|networkfirewall (singular or plural)";

    private Kinds() {}

    /**
     * Resolves a kind typed by the user.
     *
     * @throws UsageException when the name is unknown
     */
    static Kind parse(String typed) {
        String kindName = ALIASES.get(typed.toLowerCase(Locale.ROOT));
        if (kindName == null) {
            throw new UsageException("unknown kind \"" + typed + "\" (expected: " + EXPECTED + ")");
        }
        return Kind.parse(kindName);
    }

    /** The lower-case word for a kind in output, e.g. {@code loadbalancer}. */
    static String word(Kind kind) {
        return kind.kindName().toLowerCase(Locale.ROOT);
    }

    /** Returns {@code loadbalancer/default/osaka-app} or {@code site/osaka}. */
    static String ref(ObjectKey key) {
        return word(key.kind()) + '/' + (key.namespace().isEmpty() ? "" : key.namespace() + '/') + key.name();
    }

    /** Returns the key of a named object; the namespace defaults to {@code default} for namespaced kinds. */
    static ObjectKey key(Kind kind, @Nullable String namespace, String name) {
        if (!kind.namespaced()) {
            if (namespace != null) {
                throw new UsageException("-n " + namespace + ": a " + kind.kindName() + " is not namespaced "
                        + "(expected: no --namespace)");
            }
            return ObjectKey.of(kind, name);
        }
        return ObjectKey.of(kind, namespace == null ? MeshObject.DEFAULT_NAMESPACE : namespace, name);
    }
}
