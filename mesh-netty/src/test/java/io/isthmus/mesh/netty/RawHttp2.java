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

    private final Socket socket;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final DefaultHttp2HeadersEncoder encoder = new DefaultHttp2HeadersEncoder();
    private final DefaultHttp2HeadersDecoder decoder = new DefaultHttp2HeadersDecoder(false);

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
        socket.getOutputStream().write(out.toByteArray());
        socket.getOutputStream().flush();
        out.reset();
        return this;
    }

    /** Reads frames until one of {@code type} arrives (returned last), the connection closes, or 5 s pass. */
    public List<Frame> readUntil(int type) throws IOException {
        List<Frame> frames = new ArrayList<>();
        DataInputStream in = new DataInputStream(socket.getInputStream());
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
        socket.close();
    }
}
