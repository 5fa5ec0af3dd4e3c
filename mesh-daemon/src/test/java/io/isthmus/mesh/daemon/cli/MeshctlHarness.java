package io.isthmus.mesh.daemon.cli;

import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.github.tomakehurst.wiremock.WireMockServer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Runs meshctl in-process against a WireMock stub of the admin API, with a private HOME. */
@Timeout(60)
abstract class MeshctlHarness {

    static final String LB_DOC = "{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"osaka-app\",\"namespace\":\"default\","
            + "\"resourceVersion\":\"7\"},\"spec\":{\"domains\":[\"osaka-app\",\"osaka-app.mesh\"],\"advertiseSites\":[\"tokyo\"],"
            + "\"defaultPool\":\"osaka-pool\"}}";
    static final String LB_SHOP_DOC = "{\"kind\":\"LoadBalancer\",\"metadata\":{\"name\":\"cart\",\"namespace\":\"shop\","
            + "\"resourceVersion\":\"9\"},\"spec\":{\"domains\":[\"cart\"],\"advertiseSites\":[\"tokyo\",\"osaka\"],"
            + "\"defaultPool\":\"cart-pool\"}}";
    static final String POOL_DOC = "{\"kind\":\"OriginPool\",\"metadata\":{\"name\":\"osaka-pool\",\"namespace\":\"default\","
            + "\"resourceVersion\":\"5\"},\"spec\":{\"site\":\"osaka\",\"endpoints\":[\"10.0.0.7:8080\",\"10.0.0.8:8080\"]}}";
    static final String SITE_DOC = "{\"kind\":\"Site\",\"metadata\":{\"name\":\"osaka\",\"resourceVersion\":\"3\"},"
            + "\"spec\":{\"tunnelEndpoints\":[\"127.0.0.1:4443\"],\"labels\":{\"region\":\"kansai\"}}}";
    static final String STATUS = "{\"site\":\"tokyo\",\"routerId\":\"tokyo-1\",\"version\":\"0.1.0\","
            + "\"appliedRevision\":41,\"storeRevision\":42,\"state\":\"READY\","
            + "\"tunnels\":[{\"site\":\"osaka\",\"state\":\"UP\",\"peer\":\"spiffe://demo.isthmus.io/site/osaka\","
            + "\"address\":\"127.0.0.1:4443\"},{\"site\":\"sapporo\",\"state\":\"CONNECTING\",\"peer\":\"\",\"address\":\"\"}],"
            + "\"routers\":[{\"site\":\"tokyo\",\"routerId\":\"tokyo-1\",\"version\":\"0.1.0\",\"appliedRevision\":41,"
            + "\"lastSeen\":\"2026-11-25T06:30:00Z\"},{\"site\":\"osaka\",\"routerId\":\"osaka-1\",\"version\":\"0.1.0\","
            + "\"appliedRevision\":40,\"lastSeen\":\"2026-11-25T06:29:58Z\"}]}";

    /** What one run printed and returned. */
    record Result(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    @TempDir
    Path home;

    WireMockServer server;
    final Map<String, String> env = new HashMap<>();

    @BeforeEach
    void startServer() {
        server = new WireMockServer(wireMockConfig().bindAddress("127.0.0.1").dynamicPort());
        server.start();
        env.put("HOME", home.toString());
    }

    @AfterEach
    void stopServer() {
        server.stop();
    }

    String url() {
        return "http://127.0.0.1:" + server.port();
    }

    /** Runs meshctl with {@code --server} pointing at the stub. */
    Result meshctl(String... args) {
        String[] withServer = new String[args.length + 2];
        withServer[0] = "--server";
        withServer[1] = url();
        System.arraycopy(args, 0, withServer, 2, args.length);
        return meshctlWithInput("", withServer);
    }

    /** Runs meshctl exactly as given, with {@code stdin} as its standard input. */
    Result meshctlWithInput(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Meshctl.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8), env);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    Result meshctlRaw(String... args) {
        return meshctlWithInput("", args);
    }
}
