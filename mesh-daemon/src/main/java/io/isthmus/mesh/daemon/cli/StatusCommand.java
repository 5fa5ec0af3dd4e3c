package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.client.MeshStatus;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code meshctl status}: the daemon's state, its tunnels and the revision each router runs. */
@Command(name = "status", description = "Shows the daemon's state, its tunnels, and the revision each router applied.")
final class StatusCommand implements Callable<Integer> {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @Override
    public Integer call() {
        MeshStatus status;
        try (MeshAdmin admin = meshctl.connect(spec)) {
            status = admin.status();
        }
        PrintWriter out = spec.commandLine().getOut();
        out.print(render(status));
        out.flush();
        return Meshctl.OK;
    }

    static String render(MeshStatus status) {
        StringBuilder out = new StringBuilder();
        List<List<String>> head = List.of(
                List.of("Site:", status.site()),
                List.of("Router:", status.routerId() + " (version " + status.version() + ')'),
                List.of("State:", status.state()),
                List.of("Applied revision:", status.appliedRevision() + " (store at " + status.storeRevision()
                        + (status.appliedRevision() < status.storeRevision() ? ", behind by "
                                + (status.storeRevision() - status.appliedRevision()) : "") + ')'));
        out.append(Formats.columns(head));
        out.append("\nTunnels:\n");
        if (status.tunnels().isEmpty()) {
            out.append("  <none>\n");
        } else {
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("SITE", "STATE", "PEER", "ADDRESS"));
            status.tunnels().forEach(t -> rows.add(List.of(t.site(), t.state(), dash(t.peer()), dash(t.address()))));
            out.append(indent(Formats.columns(rows)));
        }
        out.append("\nRouters:\n");
        if (status.routers().isEmpty()) {
            out.append("  <none>\n");
        } else {
            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("SITE", "ROUTER", "VERSION", "APPLIED", "LAST-SEEN"));
            status.routers().forEach(r -> rows.add(List.of(r.site(), r.routerId(), dash(r.version()),
                    Long.toString(r.appliedRevision()), dash(r.lastSeen()))));
            out.append(indent(Formats.columns(rows)));
        }
        return out.toString();
    }

    private static String dash(String value) {
        return value.isEmpty() ? "-" : value;
    }

    private static String indent(String text) {
        return text.lines().map(line -> "  " + line + '\n').reduce("", String::concat);
    }
}
