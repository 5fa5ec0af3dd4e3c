package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The downstream side of the proxy: receives requests as HTTP objects (from an HTTP/1.1 connection
 * or an HTTP/2 stream), asks the subclass where each goes, and relays it through an {@link Exchange}.
 * Requests on one connection are handled one at a time, in order.
 */
abstract class ProxyHandler extends ChannelInboundHandlerAdapter {

    private static final Logger logger = LoggerFactory.getLogger(ProxyHandler.class);

    /** Pipelined messages held before reading pauses. */
    private static final int BACKLOG_LIMIT = 32;

    private final long responseTimeoutMillis;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(2);
    private @Nullable Exchange current;
    private @Nullable ChannelHandlerContext ctx;
    /** Discarding the rest of a request that was answered without forwarding. */
    private boolean discarding;
    private boolean closeAfterDiscard;

    ProxyHandler(long responseTimeoutMillis) {
        this.responseTimeoutMillis = responseTimeoutMillis;
    }

    /**
     * Decides where a request goes and rewrites its headers for the next hop.
     *
     * @throws RouteException with the status to answer when it cannot be routed
     */
    abstract Upstream route(ChannelHandlerContext ctx, HttpRequest request);

    /** Rewrites a response's headers for the downstream side. */
    abstract void prepareResponse(HttpResponse response, boolean keepAlive);

    /** Whether this downstream can carry more than one exchange (HTTP/1.1 connections). */
    abstract boolean persistent();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        Exchange exchange = current;
        if (exchange != null && exchange.requestComplete() || !backlog.isEmpty()) {
            // A pipelined request: it waits until the current response is done.
            backlog.add(msg);
            if (backlog.size() >= BACKLOG_LIMIT) {
                ctx.channel().config().setAutoRead(false);
            }
            return;
        }
        handle(ctx, (HttpObject) msg);
    }

    private void handle(ChannelHandlerContext ctx, HttpObject msg) {
        if (msg instanceof HttpRequest) {
            HttpRequest request = (HttpRequest) msg;
            if (request.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                reject(ctx, HttpResponseStatus.BAD_REQUEST,
                        "malformed request: " + Exchange.describe(request.decoderResult().cause()), true);
                return;
            }
            boolean keepAlive = persistent() && HttpUtil.isKeepAlive(request);
            Upstream upstream;
            try {
                upstream = route(ctx, request);
            } catch (RouteException e) {
                ReferenceCountUtil.release(msg);
                reject(ctx, e.status(), e.getMessage(), !keepAlive);
                if (!(msg instanceof LastHttpContent)) {
                    discarding = true;
                }
                return;
            }
            Exchange exchange = new Exchange(this, ctx.channel(), upstream, keepAlive, responseTimeoutMillis);
            current = exchange;
            exchange.start();
            exchange.onRequestPart(msg);
            return;
        }
        if (discarding) {
            if (msg instanceof HttpContent && ((HttpContent) msg).decoderResult().isFailure()) {
                closeAfterDiscard = true;
            }
            ReferenceCountUtil.release(msg);
            if (msg instanceof LastHttpContent) {
                discarding = false;
                if (closeAfterDiscard) {
                    ctx.close();
                }
            }
            return;
        }
        Exchange exchange = current;
        if (exchange == null) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpContent && ((HttpContent) msg).decoderResult().isFailure()) {
            ReferenceCountUtil.release(msg);
            // A broken body (bad chunk size, ...): nothing more can be trusted on this connection.
            exchange.onDownstreamClosed();
            current = null;
            reject(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request body", true);
            return;
        }
        exchange.onRequestPart(msg);
    }

    private void reject(ChannelHandlerContext ctx, HttpResponseStatus status, String reason, boolean close) {
        FullHttpResponse response = Responses.error(ctx.alloc(), status, reason);
        prepareResponse(response, !close);
        if (close) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        Exchange exchange = current;
        if (exchange != null) {
            exchange.flushUpstream();
        }
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        Exchange exchange = current;
        if (exchange != null) {
            exchange.onDownstreamWritabilityChanged();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        Exchange exchange = current;
        current = null;
        if (exchange != null) {
            exchange.onDownstreamClosed();
        }
        Object msg;
        while ((msg = backlog.poll()) != null) {
            ReferenceCountUtil.release(msg);
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        logger.debug("closing {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    /** The exchange could not reach or hear from its upstream; answer with an error if still possible. */
    void exchangeFailed(Exchange exchange, HttpResponseStatus status, String reason, boolean requestComplete) {
        ChannelHandlerContext c = ctx;
        current = null;
        if (c == null) {
            return;
        }
        logger.debug("{}: {} {}", c.channel(), status.code(), reason);
        if (!requestComplete) {
            discarding = true;
        }
        boolean close = !persistent() || !requestComplete;
        FullHttpResponse response = Responses.error(c.alloc(), status, reason);
        prepareResponse(response, !close);
        if (close) {
            c.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            c.writeAndFlush(response).addListener(f -> resume(c));
        }
        if (!requestComplete && !close) {
            c.channel().config().setAutoRead(true);
        }
    }

    /** The response went out completely. */
    void exchangeFinished(Exchange exchange, boolean keepAlive) {
        ChannelHandlerContext c = ctx;
        current = null;
        if (c == null) {
            return;
        }
        if (!keepAlive || !persistent()) {
            if (persistent()) {
                c.close();
            }
            return;
        }
        resume(c);
    }

    /** The response broke off halfway; closing is the only honest signal left. */
    void exchangeAborted(Exchange exchange) {
        current = null;
        ChannelHandlerContext c = ctx;
        if (c != null) {
            c.close();
        }
    }

    private void resume(ChannelHandlerContext c) {
        Object msg;
        while (current == null && (msg = backlog.poll()) != null) {
            handle(c, (HttpObject) msg);
        }
        // A no-op unless reading paused because the backlog was full.
        c.channel().config().setAutoRead(true);
    }
}
