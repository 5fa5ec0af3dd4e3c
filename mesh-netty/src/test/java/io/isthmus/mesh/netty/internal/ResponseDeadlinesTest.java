package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.netty.channel.DefaultEventLoop;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResponseDeadlinesTest {

    private final DefaultEventLoop loop = new DefaultEventLoop();
    private final List<String> expired = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        loop.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS);
    }

    private final class Probe extends ResponseDeadlines.Waiter {
        private final String name;
        private int rearm;

        Probe(String name, int rearm) {
            this.name = name;
            this.rearm = rearm;
        }

        @Override
        void expired() {
            expired.add(name);
            if (rearm-- > 0) {
                ResponseDeadlines.arm(loop, this, 100);
            }
        }
    }

    @Test
    void expiresWhatIsStillArmedInDeadlineOrderAcrossTimeouts() throws Exception {
        loop.submit(() -> {
            Probe slow = new Probe("slow", 0);
            Probe fast = new Probe("fast", 0);
            Probe answered = new Probe("answered", 0);
            ResponseDeadlines.arm(loop, slow, 300);
            ResponseDeadlines.arm(loop, fast, 50);
            ResponseDeadlines.arm(loop, answered, 50);
            ResponseDeadlines.arm(loop, fast, 10_000);
            ResponseDeadlines.disarm(answered);
            assertThat(answered.armed()).isFalse();
            assertThat(fast.armed()).isTrue();
        }).sync();
        await().atMost(Duration.ofSeconds(10)).until(() -> expired.size() == 2);
        // "answered" had the earliest deadline with "fast": it would have expired before "slow".
        assertThat(expired).containsExactly("fast", "slow");
    }

    @Test
    void anEntryArmedAgainWhileExpiringWaitsItsTurnBehindTheOthers() throws Exception {
        loop.submit(() -> {
            ResponseDeadlines.arm(loop, new Probe("first", 1), 100);
            ResponseDeadlines.arm(loop, new Probe("second", 0), 100);
        }).sync();
        await().atMost(Duration.ofSeconds(10)).until(() -> expired.size() == 3);
        assertThat(expired).containsExactly("first", "second", "first");
        loop.submit(() -> {
            Probe answered = new Probe("answered", 0);
            ResponseDeadlines.arm(loop, answered, 100);
            ResponseDeadlines.arm(loop, new Probe("sentinel", 0), 200);
            ResponseDeadlines.disarm(answered);
        }).sync();
        await().atMost(Duration.ofSeconds(10)).until(() -> expired.size() == 4);
        assertThat(expired).containsExactly("first", "second", "first", "sentinel");
    }
}
