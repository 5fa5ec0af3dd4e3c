package io.isthmus.mesh.netty.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.util.AttributeKey;
import java.util.Locale;

/**
 * Finds obsolete line folding (a header line that starts with a space or tab, RFC 9112 section 5.2)
 * in the HTTP/1.1 request heads of a connection, which Netty's decoder would silently unfold. It sits
 * in front of the decoder, follows the framing of each request just enough to tell heads from bodies
 * (Content-Length or chunked) and records the number of the first request whose head folds; the
 * router answers that request with 400 and closes the connection. When the framing is anything it
 * does not follow, it stops looking: the strict decoder rejects such requests itself. It also stops
 * at a request that asks for a protocol upgrade, after which the connection may not be HTTP/1.1.
 */
final class ObsFoldGuard extends ChannelInboundHandlerAdapter {

    /** The 1-based number of the first request on the connection whose head has obs-fold; unset if none. */
    static final AttributeKey<Integer> FOLDED_REQUEST = AttributeKey.valueOf("isthmus.obsFoldRequest");

    private static final ByteBuf H2_PREFACE = Http2CodecUtil.connectionPrefaceBuf();

    private enum State { HEAD, BODY, CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, TRAILERS, OFF }

    private State state = State.HEAD;
    private int requests = 1;
    private final StringBuilder line = new StringBuilder();
    private boolean lineStart = true;
    /** In a head line that needs no closer look (the request line, a field this guard does not follow). */
    private boolean skippingLine;
    private boolean seenRequestLine;
    private long contentLength;
    private boolean chunked;
    private long remaining;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof ByteBuf && state != State.OFF) {
            ByteBuf buf = (ByteBuf) msg;
            if (requests == 1 && !seenRequestLine && line.length() == 0 && startsWithH2Preface(buf)) {
                // HTTP/2 with prior knowledge: frames follow, not heads; the pipeline replaces this guard.
                state = State.OFF;
            }
            for (int i = buf.readerIndex(); i < buf.writerIndex() && state != State.OFF; i++) {
                i = step(ctx, buf, i);
            }
        }
        ctx.fireChannelRead(msg);
    }

    private static boolean startsWithH2Preface(ByteBuf buf) {
        int n = H2_PREFACE.readableBytes();
        return buf.readableBytes() >= n && ByteBufUtil.equals(buf, buf.readerIndex(), H2_PREFACE, 0, n);
    }

    /** Consumes the byte at {@code i} (or a run of body bytes) and returns the index of the last one used. */
    private int step(ChannelHandlerContext ctx, ByteBuf buf, int i) {
        switch (state) {
            case BODY:
            case CHUNK_DATA: {
                int n = (int) Math.min(remaining, buf.writerIndex() - i);
                remaining -= n;
                if (remaining == 0) {
                    state = state == State.BODY ? State.HEAD : State.CHUNK_DATA_END;
                    if (state == State.HEAD) {
                        nextRequest();
                    }
                }
                return i + n - 1;
            }
            default:
                break;
        }
        if (skippingLine) {
            // Only the line's end matters: find it at once.
            int lf = buf.indexOf(i, buf.writerIndex(), (byte) '\n');
            if (lf < 0) {
                return buf.writerIndex() - 1;
            }
            skippingLine = false;
            seenRequestLine = true;
            lineStart = true;
            return lf;
        }
        byte b = buf.getByte(i);
        if (state == State.HEAD && lineStart && seenRequestLine && (b == ' ' || b == '\t')) {
            if (!ctx.channel().hasAttr(FOLDED_REQUEST)) {
                ctx.channel().attr(FOLDED_REQUEST).set(requests);
            }
            state = State.OFF;
            return i;
        }
        if (b == '\n') {
            endOfLine();
            lineStart = true;
            return i;
        }
        if (state == State.HEAD && lineStart && b != '\r' && (!seenRequestLine || !mayMatter((char) b))) {
            skippingLine = true;
            lineStart = false;
            return i;
        }
        lineStart = false;
        if (b != '\r' && line.length() < 8192) {
            line.append((char) (b & 0xff));
        }
        return i;
    }

    private void endOfLine() {
        if (state == State.HEAD && (!seenRequestLine || line.length() > 0 && !mayMatter(line.charAt(0)))) {
            // The request line, or a header field this guard does not follow: no need to look closer.
            seenRequestLine |= line.length() > 0;
            line.setLength(0);
            return;
        }
        String text = line.toString();
        line.setLength(0);
        switch (state) {
            case HEAD:
                if (!seenRequestLine) {
                    seenRequestLine = !text.isEmpty();
                    return;
                }
                if (text.isEmpty()) {
                    if (chunked) {
                        state = State.CHUNK_SIZE;
                    } else if (contentLength > 0) {
                        remaining = contentLength;
                        state = State.BODY;
                    } else {
                        nextRequest();
                    }
                    return;
                }
                int colon = text.indexOf(':');
                if (colon > 0) {
                    String name = text.substring(0, colon).trim().toLowerCase(Locale.ROOT);
                    String value = text.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
                    if (name.equals("content-length")) {
                        try {
                            contentLength = Long.parseLong(value);
                        } catch (NumberFormatException e) {
                            state = State.OFF;
                        }
                    } else if (name.equals("transfer-encoding")) {
                        chunked = true;
                    } else if (name.equals("upgrade") || name.equals("connection") && value.contains("upgrade")) {
                        // The protocol may change after this request: stop looking.
                        state = State.OFF;
                    }
                }
                return;
            case CHUNK_SIZE:
                int end = 0;
                while (end < text.length() && Character.digit(text.charAt(end), 16) >= 0) {
                    end++;
                }
                if (end == 0 || end > 15) {
                    state = State.OFF;
                    return;
                }
                remaining = Long.parseLong(text.substring(0, end), 16);
                state = remaining == 0 ? State.TRAILERS : State.CHUNK_DATA;
                return;
            case CHUNK_DATA_END:
                state = text.isEmpty() ? State.CHUNK_SIZE : State.OFF;
                return;
            case TRAILERS:
                if (text.isEmpty()) {
                    nextRequest();
                }
                return;
            default:
                return;
        }
    }

    /** Whether a header line starting with {@code c} may be Content-Length, Transfer-Encoding, Upgrade or Connection. */
    private static boolean mayMatter(char c) {
        switch (c) {
            case 'c': case 'C': case 't': case 'T': case 'u': case 'U':
                return true;
            default:
                return false;
        }
    }

    private void nextRequest() {
        skippingLine = false;
        requests++;
        state = State.HEAD;
        seenRequestLine = false;
        contentLength = 0;
        chunked = false;
        lineStart = true;
    }
}
