package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.daemon.cli.Meshctl.RefusedException;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import io.isthmus.mesh.model.OriginPool;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code meshctl describe KIND NAME}: a readable multi-line view of one object. */
@Command(name = "describe", description = "Shows one object in detail (a load balancer with its default pool).")
final class DescribeCommand implements Callable<Integer> {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KIND", description = "site, lb, pool, policy or fw (or their long names).")
    @SuppressWarnings("NullAway.Init")
    String kind;

    @Parameters(index = "1", paramLabel = "NAME", description = "The object's name.")
    @SuppressWarnings("NullAway.Init")
    String name;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "The namespace (default: default).")
    @Nullable String namespace;

    @Override
    public Integer call() {
        Kind resolved = Kinds.parse(kind);
        ObjectKey key = Kinds.key(resolved, namespace, name);
        try (MeshAdmin admin = meshctl.connect(spec)) {
            Optional<Versioned<MeshObject>> found = admin.store().get(key);
            if (found.isEmpty()) {
                throw new RefusedException(Kinds.ref(key) + " not found at " + admin.adminUrl());
            }
            String poolSummary = "";
            if (found.get().object() instanceof LoadBalancer) {
                LoadBalancer lb = (LoadBalancer) found.get().object();
                poolSummary = admin.store().get(lb.defaultPoolKey())
                        .map(v -> (OriginPool) v.object())
                        .map(p -> " (site " + p.site() + ", " + p.endpoints().size() + " endpoint"
                                + (p.endpoints().size() == 1 ? "" : "s") + ')')
                        .orElse(" (not found)");
            }
            spec.commandLine().getOut().print(Formats.describe(found.get(), poolSummary));
            spec.commandLine().getOut().flush();
        }
        return Meshctl.OK;
    }
}
