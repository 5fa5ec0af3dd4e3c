package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2Connection;
import io.netty.handler.codec.http2.Http2ConnectionAdapter;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameLogger;
import io.netty.handler.codec.http2.Http2Stream;
import io.netty.handler.logging.LogLevel;
import org.jspecify.annotations.Nullable;

/**
 * Ends an h2c ingress connection with GOAWAY (ENHANCE_YOUR_CALM) once its client has reset
 * {@value #MAX_PREMATURE_RESETS} more streams before any response began on them (premature resets)
 * than it has had answered: a rapid-reset flood (CVE-2023-44487) is cut after a few dozen streams
 * instead of after the codec's 200 RST_STREAM frames per window, while a client that cancels at most
 * as many requests as it lets be answered is never affected. Envoy's rule is close (premature resets
 * over half of the streams) but only applies from 500 streams on.
 *
 * <p>Why a frame logger: it is the codec's one hook that runs inside its frame reader, before the
 * frame is acted on, and an error raised there is a connection error that stops the reader at once:
 * the rest of the read (the flood's remaining frames) is skipped, not decoded. Frames are still
 * logged at trace level under this class's name.
 *
 * <p>One instance per connection; runs on the connection's event loop.
 */
final class PrematureResetGuard extends Http2FrameLogger {

    /** Streams a client may reset before their response began, beyond the streams it had answered. */
    static final int MAX_PREMATURE_RESETS = 32;

    /** Raised in the frame reader; the codec answers the HTTP/2 error within with GOAWAY and closes. */
    private static final RuntimeException TOO_MANY_PREMATURE_RESETS = new RuntimeException(
            "HTTP/2 streams reset before their response: rapid reset", new Http2Exception(
                    Http2Error.ENHANCE_YOUR_CALM, "too many streams reset before their response",
                    Http2Exception.ShutdownHint.HARD_SHUTDOWN), false, false) {
    };

    private @Nullable Http2Connection connection;
    private int premature;
    private int answered;

    PrematureResetGuard() {
        super(LogLevel.TRACE, PrematureResetGuard.class);
    }

    /** Starts counting on the connection of the codec built with this logger. */
    void watch(Http2Connection connection) {
        this.connection = connection;
        connection.addListener(new Http2ConnectionAdapter() {
            @Override
            public void onStreamClosed(Http2Stream stream) {
                if (stream.isHeadersSent()) {
                    answered++;
                }
            }
        });
    }

    @Override
    public void logRstStream(Direction direction, ChannelHandlerContext ctx, int streamId, long errorCode) {
        super.logRstStream(direction, ctx, streamId, errorCode);
        if (direction != Direction.INBOUND || connection == null) {
            return;
        }
        Http2Stream stream = connection.stream(streamId);
        if (stream != null && !stream.isHeadersSent() && ++premature - answered > MAX_PREMATURE_RESETS) {
            throw TOO_MANY_PREMATURE_RESETS;
        }
    }
}
