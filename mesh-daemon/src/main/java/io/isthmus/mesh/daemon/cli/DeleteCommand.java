package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.daemon.cli.Meshctl.UsageException;
import io.isthmus.mesh.model.ObjectKey;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code meshctl delete KIND NAME} or {@code meshctl delete -f FILE}. */
@Command(name = "delete", description = {"Deletes an object, or the objects of YAML or JSON documents.",
    "An object that does not exist is an error (exit code 1) unless --ignore-not-found is given."})
final class DeleteCommand implements Callable<Integer> {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Parameters(arity = "0..2", paramLabel = "KIND NAME", description = "The kind and name of the object.")
    List<String> target = new ArrayList<>();

    @Option(names = {"-n", "--namespace"}, paramLabel = "NS", description = "The namespace (default: default).")
    @Nullable String namespace;

    @Option(names = {"-f", "--filename"}, paramLabel = "FILE",
            description = "Delete the objects of these documents (a file, a directory or -); repeatable.")
    List<String> files = new ArrayList<>();

    @Option(names = "--ignore-not-found", description = "Succeed when an object does not exist.")
    boolean ignoreNotFound;

    @Override
    public Integer call() {
        List<ObjectKey> keys = new ArrayList<>();
        if (!files.isEmpty()) {
            if (!target.isEmpty()) {
                throw new UsageException("delete: both KIND NAME and -f given (expected: one of them)");
            }
            DocumentReader reader = new DocumentReader();
            files.forEach(file -> reader.readSource(file, meshctl.stdin()));
            if (!reader.problems().isEmpty()) {
                reader.problems().forEach(problem -> spec.commandLine().getErr().println("error: " + problem));
                spec.commandLine().getErr().println("error: nothing was deleted");
                return Meshctl.REFUSED;
            }
            reader.objects().forEach(read -> keys.add(read.object().key()));
        } else if (target.size() == 2) {
            keys.add(Kinds.key(Kinds.parse(target.get(0)), namespace, target.get(1)));
        } else {
            throw new UsageException("delete: " + (target.isEmpty() ? "nothing to delete" : "no NAME given")
                    + " (expected: KIND NAME, or -f FILE)");
        }
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int code = Meshctl.OK;
        try (MeshAdmin admin = meshctl.connect(spec)) {
            for (ObjectKey key : keys) {
                if (admin.store().delete(key)) {
                    out.println(Kinds.ref(key) + " deleted");
                } else if (ignoreNotFound) {
                    out.println(Kinds.ref(key) + " not found");
                } else {
                    err.println("error: " + Kinds.ref(key) + " not found at " + admin.adminUrl());
                    code = Meshctl.REFUSED;
                }
            }
        }
        return code;
    }
}
