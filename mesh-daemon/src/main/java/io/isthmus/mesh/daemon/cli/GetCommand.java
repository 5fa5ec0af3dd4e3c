package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.daemon.cli.Formats.Output;
import io.isthmus.mesh.daemon.cli.Meshctl.RefusedException;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code meshctl get KIND [NAME]}: lists objects or shows one, as a table, JSON or YAML. */
@Command(name = "get", description = {"Lists the objects of a kind, or shows one.",
    "Without -n, namespaced kinds are listed across all namespaces."})
final class GetCommand implements Callable<Integer> {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "KIND", description = "site, lb, pool, policy or fw (or their long names).")
    @SuppressWarnings("NullAway.Init")
    String kind;

    @Parameters(index = "1", arity = "0..1", paramLabel = "NAME", description = "The object's name.")
    @Nullable String name;

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "The namespace (default for a name: default).")
    @Nullable String namespace;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table, json or yaml (default: ${DEFAULT-VALUE}).")
    Output output = Output.table;

    @Override
    public Integer call() {
        Kind resolved = Kinds.parse(kind);
        PrintWriter out = spec.commandLine().getOut();
        try (MeshAdmin admin = meshctl.connect(spec)) {
            List<Versioned<MeshObject>> items;
            if (name != null) {
                ObjectKey key = Kinds.key(resolved, namespace, name);
                Optional<Versioned<MeshObject>> found = admin.store().get(key);
                if (found.isEmpty()) {
                    throw new RefusedException(Kinds.ref(key) + " not found at " + admin.adminUrl());
                }
                items = List.of(found.get());
            } else {
                if (namespace != null) {
                    Kinds.key(resolved, namespace, "-"); // rejects -n for a kind without namespaces
                }
                items = admin.store().list(resolved).stream()
                        .filter(v -> namespace == null || v.object().key().namespace().equals(namespace))
                        .collect(Collectors.toList());
            }
            switch (output) {
                case json:
                    out.print(name != null ? Formats.json(items.get(0)) : Formats.jsonList(items));
                    break;
                case yaml:
                    out.print(Formats.yaml(items));
                    break;
                default:
                    if (items.isEmpty()) {
                        spec.commandLine().getErr().println("No " + resolved.plural().toLowerCase(java.util.Locale.ROOT)
                                + " found" + (namespace == null ? "." : " in namespace " + namespace + '.'));
                    } else {
                        out.print(Formats.table(resolved, items));
                    }
            }
            out.flush();
        }
        return Meshctl.OK;
    }
}
