package io.isthmus.mesh.netty.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/** Responses the router generates itself, with a short plain-text reason a person can act on. */
final class Responses {

    /** Names the router as the author of a generated response, and why. */
    static final String ERROR_HEADER = "x-isthmus-error";

    private Responses() {}

    static FullHttpResponse error(ByteBufAllocator alloc, HttpResponseStatus status, String reason) {
        ByteBuf body = alloc.buffer(reason.length() + 1);
        body.writeCharSequence(reason, StandardCharsets.UTF_8);
        body.writeByte('\n');
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes())
                .set(ERROR_HEADER, status.code() + " " + firstLine(reason));
        return response;
    }

    /** A route's direct response: the configured status and body, as configured. */
    static FullHttpResponse direct(ByteBufAllocator alloc, HttpResponseStatus status, String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                alloc.buffer(bytes.length).writeBytes(bytes));
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN + "; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
        return response;
    }

    /** A route's redirect: the status, {@code Location}, and a one-line body. */
    static FullHttpResponse redirect(ByteBufAllocator alloc, HttpResponseStatus status, String location) {
        FullHttpResponse response = direct(alloc, status, "redirecting to " + location + '\n');
        response.headers().set(HttpHeaderNames.LOCATION, location);
        return response;
    }

    private static String firstLine(String reason) {
        StringBuilder b = new StringBuilder(Math.min(reason.length(), 200));
        for (int i = 0; i < reason.length() && b.length() < 200; i++) {
            char c = reason.charAt(i);
            b.append(c >= 0x20 && c < 0x7f ? c : ' ');
        }
        return b.toString();
    }
}
