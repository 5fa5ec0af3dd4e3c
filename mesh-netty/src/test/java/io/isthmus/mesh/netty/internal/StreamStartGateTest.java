package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class StreamStartGateTest {

    private final AtomicInteger pipelinesBuilt = new AtomicInteger();
    private final List<Object> received = new ArrayList<>();

    private StreamStartGate gate() {
        return new StreamStartGate(() -> {
            pipelinesBuilt.incrementAndGet();
            return new ChannelHandler[] {new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRead(ChannelHandlerContext ctx, Object msg) {
                    received.add(msg);
                }
            }};
        });
    }

    @Test
    void holdsWhatTheStreamReceivesUntilTheReadBatchEndsThenBuildsItsPipeline() throws Exception {
        EmbeddedChannel stream = new EmbeddedChannel(false, false);
        StreamStartGate gate = gate();
        stream.pipeline().addLast(gate);
        stream.register();
        stream.pipeline().fireChannelRead("head");
        stream.pipeline().fireChannelRead("body");
        assertThat(received).isEmpty();
        assertThat(pipelinesBuilt).hasValue(0);
        assertThat(gate.holding()).isTrue();

        stream.pipeline().fireChannelReadComplete();
        assertThat(received).containsExactly("head", "body");
        assertThat(pipelinesBuilt).hasValue(1);
        assertThat(gate.holding()).isFalse();

        stream.pipeline().fireChannelRead("later");
        stream.pipeline().fireChannelReadComplete();
        assertThat(received).containsExactly("head", "body", "later");
        assertThat(pipelinesBuilt).hasValue(1);
        stream.finishAndReleaseAll();
    }

    @Test
    void dropsAndReleasesWhatItHeldWhenTheStreamClosesWithinTheBatch() throws Exception {
        EmbeddedChannel stream = new EmbeddedChannel(false, false);
        stream.pipeline().addLast(gate());
        stream.register();
        ByteBuf body = Unpooled.copiedBuffer("body", StandardCharsets.US_ASCII);
        stream.pipeline().fireChannelRead(body);
        stream.close();
        stream.pipeline().fireChannelReadComplete();
        assertThat(body.refCnt()).isZero();
        assertThat(received).isEmpty();
        assertThat(pipelinesBuilt).as("pipelines built for a reset stream").hasValue(0);
    }
}
