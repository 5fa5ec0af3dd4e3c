package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.client.ExplainRequest;
import io.isthmus.mesh.client.ExplainResult;
import io.isthmus.mesh.client.MeshAdmin;
import io.isthmus.mesh.daemon.cli.Meshctl.UsageException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code meshctl explain}: would a request be allowed, by which rule, with the evaluation trace. */
@Command(name = "explain", description = {"Tells whether a request would be allowed, and by which policy and rule, "
        + "printing the evaluation trace.", "Exit code 0 whether allowed or denied."})
final class ExplainCommand implements Callable<Integer> {

    @ParentCommand
    @SuppressWarnings("NullAway.Init")
    Meshctl meshctl;

    @Spec
    @SuppressWarnings("NullAway.Init")
    CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    @SuppressWarnings("NullAway.Init")
    Target target;

    /** Exactly one of --host and --lb. */
    static final class Target {
        @Option(names = "--host", paramLabel = "HOST", description = "The Host the request is sent with, e.g. osaka-app.")
        @Nullable String host;

        @Option(names = "--lb", paramLabel = "NS/NAME", description = "The load balancer, instead of a host.")
        @Nullable String loadBalancer;
    }

    @Option(names = {"-X", "--method"}, paramLabel = "METHOD", defaultValue = "GET", description = "Default: GET.")
    String method = "GET";

    @Option(names = "--path", paramLabel = "PATH", defaultValue = "/", description = "Default: /.")
    String path = "/";

    @Option(names = {"-H", "--header"}, paramLabel = "NAME:VALUE", description = "A request header; repeatable.")
    List<String> headers = new ArrayList<>();

    @Option(names = "--client-ip", paramLabel = "IP", description = "The client's IP address.")
    @Nullable String clientIp;

    @Option(names = "--source-site", paramLabel = "SITE", description = "The site the request comes from.")
    @Nullable String sourceSite;

    @Override
    public Integer call() {
        ExplainRequest request = request();
        ExplainResult result;
        try (MeshAdmin admin = meshctl.connect(spec)) {
            result = admin.explain(request);
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println((result.allowed() ? "ALLOWED" : "DENIED") + ": " + request.method() + ' '
                + (request.host() != null ? request.host() : request.loadBalancer()) + request.path());
        if (result.policy() != null) {
            out.println("policy: " + result.policy());
        }
        if (result.rule() != null) {
            out.println("rule:   " + result.rule());
        }
        if (!result.reason().isEmpty()) {
            out.println("reason: " + result.reason());
        }
        if (!result.trace().isEmpty()) {
            out.println("trace:");
            for (int i = 0; i < result.trace().size(); i++) {
                out.println("  " + (i + 1) + ". " + result.trace().get(i));
            }
        }
        out.flush();
        return Meshctl.OK;
    }

    private ExplainRequest request() {
        try {
            ExplainRequest.Builder builder = ExplainRequest.builder().method(method).path(path);
            if (target.host != null) {
                builder.host(target.host);
            } else {
                String lb = String.valueOf(target.loadBalancer);
                int slash = lb.indexOf('/');
                if (slash < 0) {
                    builder.loadBalancer("default", lb);
                } else {
                    builder.loadBalancer(lb.substring(0, slash), lb.substring(slash + 1));
                }
            }
            for (String header : headers) {
                int colon = header.indexOf(':');
                if (colon <= 0) {
                    throw new UsageException("-H \"" + header + "\" (expected: NAME:VALUE, e.g. x-team:checkout)");
                }
                builder.header(header.substring(0, colon).strip(), header.substring(colon + 1).strip());
            }
            if (clientIp != null) {
                builder.clientIp(clientIp);
            }
            if (sourceSite != null) {
                builder.sourceSite(sourceSite);
            }
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException(String.valueOf(e.getMessage()), e);
        }
    }
}
