package io.isthmus.mesh.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DaemonMainTest {

    @Test
    void exitsWith2AndNamesTheFlagOfABadSetting() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = new CommandLine(new DaemonMain()).execute("--site", "tokyo", "--dev-generate-ca",
                    "--tunnel-port", "70000");
        } finally {
            System.setErr(original);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8))
                .contains("isthmus-daemon: --tunnel-port: tunnel.port: 70000 (expected: 0-65535)");
    }

    @Test
    void rejectsAnUnknownSettingGivenWithSet() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = new CommandLine(new DaemonMain()).execute("--site", "tokyo", "--set", "tunnel.prot=1");
        } finally {
            System.setErr(original);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains("--set: tunnel.prot: unknown setting");
    }

    @Test
    void takesEveryRouterSettingAsAFlagOfItsOwn() {
        CommandLine command = new CommandLine(new DaemonMain());
        for (String setting : DaemonConfig.settings()) {
            if (setting.startsWith("router.")) {
                assertThat(command.getCommandSpec().findOption(DaemonConfig.flagName(setting))).as(setting).isNotNull();
            }
        }
        assertThat(command.getUsageMessage()).contains("--router-io-threads=N")
                .contains("--router-request-header-timeout=DURATION");

        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream original = System.err;
        int code;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            code = command.execute("--site", "tokyo", "--dev-generate-ca", "--router-max-header-count", "many");
        } finally {
            System.setErr(original);
        }
        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8)).contains(
                "isthmus-daemon: --router-max-header-count: router.maxHeaderCount: \"many\" (expected: an integer)");
    }
}
