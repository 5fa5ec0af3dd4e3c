package io.isthmus.mesh.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The tool runs end to end with a handful of requests: both JVMs start, both set-ups answer, the table is printed. */
class EmbeddedVsDaemonBenchTest {

    @Test
    void runsBothSetUps() throws Exception {
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        PrintStream out = System.out;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            EmbeddedVsDaemonBench.main(new String[] {"--requests", "40", "--warmup", "10", "--prime", "0",
                "--rounds", "1", "--connections", "2", "--client", "raw", "--time-limit", "30"});
        } finally {
            System.setOut(out);
        }
        String table = captured.toString(StandardCharsets.UTF_8);
        assertThat(table).contains("| daemon | 2 | 40 |", "| embedded | 2 | 40 |",
                "| **saved** (daemon − embedded) | 2 |");
    }
}
