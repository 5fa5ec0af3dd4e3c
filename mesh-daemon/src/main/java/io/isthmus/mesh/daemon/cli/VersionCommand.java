package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.client.MeshStatus;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code meshctl version}: the client's version and, unless {@code --client}, the server's. */
@Command(name = "version", description = "Prints meshctl's version and the daemon's.")
final class VersionCommand implements Callable<Integer> {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Option(names = "--client", description = "Only the client's version; contact no server.")
    boolean clientOnly;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        out.println("Client: meshctl " + Meshctl.clientVersion());
        out.flush();
        if (!clientOnly) {
            MeshStatus status;
            try (MeshAdmin admin = meshctl.connect(spec)) {
                status = admin.status();
            }
            out.println("Server: " + status.version() + " (site " + status.site() + ", router " + status.routerId() + ')');
            out.flush();
        }
        return Meshctl.OK;
    }
}
