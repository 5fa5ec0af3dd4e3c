package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.ApplyResult;
import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.model.MeshObject;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code meshctl apply -f FILE...}: validates every document locally, then applies them all-or-nothing. */
@Command(name = "apply", description = {"Creates or replaces the objects of YAML or JSON documents, all or none.",
    "Every document is validated before anything is sent; each problem is reported with its file, document "
        + "index, line and field path."})
final class ApplyCommand implements Callable<Integer> {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = {"-f", "--filename"}, required = true, paramLabel = "FILE",
            description = "A file, a directory (its .yaml/.yml/.json files) or - for standard input; repeatable.")
    List<String> files = new ArrayList<>();

    @Option(names = "--dry-run", description = "Only validate the documents locally; send nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        DocumentReader reader = new DocumentReader();
        for (String file : files) {
            reader.readSource(file, meshctl.stdin());
        }
        if (!reader.problems().isEmpty()) {
            for (String problem : reader.problems()) {
                err.println("error: " + problem);
            }
            err.println("error: " + reader.problems().size() + " invalid document" + (reader.problems().size() == 1 ? "" : "s")
                    + "; nothing was applied");
            return Meshctl.REFUSED;
        }
        if (reader.objects().isEmpty()) {
            err.println("error: no objects found in " + String.join(", ", files) + "; nothing was applied");
            return Meshctl.REFUSED;
        }
        List<MeshObject> objects = new ArrayList<>();
        reader.objects().forEach(read -> objects.add(read.object()));
        if (dryRun) {
            objects.forEach(object -> out.println(Kinds.ref(object.key()) + " valid (dry run)"));
            return Meshctl.OK;
        }
        try (MeshAdmin admin = meshctl.connect(spec)) {
            for (ApplyResult result : admin.apply(objects)) {
                out.println(Kinds.ref(result.key()) + ' ' + result.action().word());
            }
        }
        return Meshctl.OK;
    }
}
