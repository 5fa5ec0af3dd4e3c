package io.isthmus.mesh.netty;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.netty.handler.codec.http2.DefaultHttp2HeadersEncoder;
import io.netty.handler.codec.http2.Http2CodecUtil;
import io.netty.handler.codec.http2.Http2Headers;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An HTTP/2 client with prior knowledge that writes frames exactly as a test says, including abusive
 * sequences (rapid resets, CONTINUATION floods); HPACK comes from Netty's encoder and decoder.
 */
public final class RawHttp2 implements AutoCloseable {

    public static final int DATA = 0x0;
    public static final int HEADERS = 0x1;
    public static final int RST_STREAM = 0x3;
    public static final int SETTINGS = 0x4;
    public static final int GOAWAY = 0x7;
    public static final int CONTINUATION = 0x9;

    /** One frame read from the server. */
    public record Frame(int type, int flags, int streamId, byte[] payload) {}

    private final @Nullable Socket socket;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);

    /**
     * Records frames without a connection, to send them with {@link #send(byte[])} on as many
     * connections as a test likes without encoding them again (a flood without the client's garbage).
     * {@link #queued()} returns what was recorded; it starts with the first frame, not the preface.
     */
    public static RawHttp2 recorder() {
        return new RawHttp2();
    }

    private RawHttp2() {
        socket = null;
    }

    public RawHttp2(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5000);
        socket.setSoTimeout(5000);
        out.writeBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        frame(SETTINGS, 0, 0, new byte[0]);
    }

    public RawHttp2 frame(int type, int flags, int streamId, byte[] payload) {
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.write(type);
        out.write(flags);
        out.write(streamId >>> 24 & 0x7f);
        out.write(streamId >>> 16);
        out.write(streamId >>> 8);
        out.write(streamId);
        out.writeBytes(payload);
        return this;
    }

    public byte[] encode(int streamId, Http2Headers headers) throws Exception {
        ByteBuf buf = Unpooled.buffer();
        encoder.encodeHeaders(streamId, headers, buf);
        byte[] bytes = new byte[buf.readableBytes()];
        buf.readBytes(bytes);
        return bytes;
    }

    public Http2Headers decode(int streamId, byte[] block) throws Exception {
        return decoder.decodeHeaders(streamId, Unpooled.wrappedBuffer(block));
    }

    /** Sends what was queued. */
    public RawHttp2 flush() throws IOException {
        connected().getOutputStream().write(out.toByteArray());
        connected().getOutputStream().flush();
        out.reset();
        return this;
    }

    /** Sends what was queued, then {@code bytes} exactly as given (e.g. frames a {@link #recorder()} queued). */
    public RawHttp2 send(byte[] bytes) throws IOException {
        flush();
        connected().getOutputStream().write(bytes);
        connected().getOutputStream().flush();
        return this;
    }

    /** The bytes queued since the last flush. */
    public byte[] queued() {
        return out.toByteArray();
    }

    private Socket connected() {
        if (socket == null) {
            throw new IllegalStateException("a recorder has no connection (expected: new RawHttp2(address))");
        }
        return socket;
    }

    /** Reads frames until one of {@code type} arrives (returned last), the connection closes, or 5 s pass. */
    public List<Frame> readUntil(int type) throws IOException {
        List<Frame> frames = new ArrayList<>();
        DataInputStream in = new DataInputStream(connected().getInputStream());
        long deadline = System.nanoTime() + 5_000_000_000L;
        try {
            while (System.nanoTime() < deadline && frames.size() < 10_000) {
                int length = in.readUnsignedByte() << 16 | in.readUnsignedByte() << 8 | in.readUnsignedByte();
                int frameType = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                int streamId = in.readInt() & 0x7fffffff;
                byte[] payload = new byte[length];
                in.readFully(payload);
                frames.add(new Frame(frameType, flags, streamId, payload));
                if (frameType == type) {
                    break;
                }
            }
        } catch (EOFException | SocketTimeoutException e) {
            // The server closed the connection or went silent: return what arrived.
        } catch (IOException e) {
            // A reset after GOAWAY is fine too.
        }
        return frames;
    }

    @Override
    public void close() throws IOException {
        if (socket != null) {
            socket.close();
        }
    }
}
