package io.isthmus.mesh.netty;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;

/** A client that writes bytes exactly as given, for malformed and slow requests. */
final class RawHttp implements AutoCloseable {

    final Socket socket;

    RawHttp(InetSocketAddress address) throws IOException {
        socket = new Socket();
        socket.connect(address, 5000);
        socket.setSoTimeout(5000);
    }

    RawHttp send(String raw) throws IOException {
        return send(raw.getBytes(StandardCharsets.ISO_8859_1));
    }

    RawHttp send(byte[] raw) throws IOException {
        socket.getOutputStream().write(raw);
        socket.getOutputStream().flush();
        return this;
    }

    /** Reads until the server closes the connection (at most 5 s and 1 MiB). */
    String readUntilClosed() throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[8192];
        int n;
        while (out.size() < (1 << 20) && (n = in.read(buffer)) >= 0) {
            out.write(buffer, 0, n);
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Reads one response head and a Content-Length body, without waiting for the connection to close. */
    String readResponse() throws IOException {
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int contentLength = -1;
        while (out.size() < 65536) {
            int b = in.read();
            if (b < 0) {
                return out.toString(StandardCharsets.ISO_8859_1);
            }
            out.write(b);
            String text = out.toString(StandardCharsets.ISO_8859_1);
            if (text.endsWith("\r\n\r\n")) {
                for (String line : text.split("\r\n")) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        contentLength = Integer.parseInt(line.substring(15).trim());
                    }
                }
                if (text.toLowerCase(java.util.Locale.ROOT).contains("transfer-encoding: chunked")) {
                    // Enough for tests: read until the last chunk and the empty trailer.
                    while (out.size() < (1 << 20) && !out.toString(StandardCharsets.ISO_8859_1).endsWith("0\r\n\r\n")) {
                        int c = in.read();
                        if (c < 0) {
                            break;
                        }
                        out.write(c);
                    }
                    return out.toString(StandardCharsets.ISO_8859_1);
                }
                byte[] body = in.readNBytes(Math.max(contentLength, 0));
                out.write(body);
                return out.toString(StandardCharsets.ISO_8859_1);
            }
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }

    /** Whether the server has closed the connection: a read ends with EOF (or a reset) within 5 s. */
    boolean closedByServer() throws IOException {
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
