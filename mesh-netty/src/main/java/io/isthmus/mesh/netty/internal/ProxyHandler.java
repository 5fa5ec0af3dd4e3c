package io.isthmus.mesh.netty.internal;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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

    /** Says a connection should finish what it is doing and close: the router drains. */
    static final Object DRAIN = new Object() {
        @Override
        public String toString() {
            return "DRAIN";
        }
    };

    final RouterContext router;
    private final long responseTimeoutMillis;
    /** The response timeout of the request being routed; {@link #route} may set the route's. */
    long requestTimeoutMillis;
    private final long headerTimeoutMillis;
    private final ArrayDeque<Object> backlog = new ArrayDeque<>(2);
    /**
     * Checks the request-header deadline. Arming and disarming only set {@link #headerDeadline}; the
     * timer, scheduled at most once at a time, looks at it when it fires and schedules itself again
     * for what is left, so a busy keep-alive connection costs no timer per request.
     */
    private @Nullable ScheduledFuture<?> headerTimer;
    /** When the next complete request head must have arrived ({@link System#nanoTime}), or 0 for no deadline. */
    private long headerDeadline;
    private @Nullable AccessRecord record;
    /** Request heads received on this connection, for {@link ObsFoldGuard#FOLDED_REQUEST}. */
    private int requestsSeen;
    private @Nullable Exchange current;
    private @Nullable ChannelHandlerContext ctx;
    /** Discarding the rest of a request that was answered without forwarding. */
    private boolean discarding;
    private boolean closeAfterDiscard;

    /**
     * @param headerTimeoutMillis how long an HTTP/1.1 connection may take to send a complete request
     *     head, counted from its opening or the end of the previous exchange; 0 for none
     */
    ProxyHandler(RouterContext router, long headerTimeoutMillis) {
        this.router = router;
        this.responseTimeoutMillis = router.responseTimeoutMillis;
        this.headerTimeoutMillis = headerTimeoutMillis;
    }

    /** Starts the access record of a new request: the listener name and protocol. */
    abstract AccessRecord newRecord(ChannelHandlerContext ctx);

    /**
     * Decides where a request goes and rewrites its headers for the next hop.
     *
     * @throws RouteException with the status to answer when it cannot be routed
     */
    abstract Upstream route(ChannelHandlerContext ctx, HttpRequest request, AccessRecord record);

    /** Rewrites a response's headers for the downstream side. */
    abstract void prepareResponse(HttpResponse response, boolean keepAlive);

    /** Whether this downstream can carry more than one exchange (HTTP/1.1 connections). */
    abstract boolean persistent();

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            armHeaderTimer(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        armHeaderTimer(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelHeaderTimer();
    }

    private void armHeaderTimer(ChannelHandlerContext ctx) {
        if (headerTimeoutMillis <= 0) {
            return;
        }
        long now = System.nanoTime();
        headerDeadline = now + TimeUnit.MILLISECONDS.toNanos(headerTimeoutMillis);
        if (headerDeadline == 0) {
            headerDeadline = 1;
        }
        if (headerTimer == null) {
            scheduleHeaderCheck(ctx, headerDeadline - now);
        }
    }

    private void scheduleHeaderCheck(ChannelHandlerContext ctx, long delayNanos) {
        headerTimer = ctx.executor().schedule(() -> checkHeaderDeadline(ctx), delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkHeaderDeadline(ChannelHandlerContext ctx) {
        headerTimer = null;
        long deadline = headerDeadline;
        if (deadline == 0) {
            return;
        }
        long left = deadline - System.nanoTime();
        if (left > 0) {
            scheduleHeaderCheck(ctx, left);
            return;
        }
        headerDeadline = 0;
        if (current == null && backlog.isEmpty() && !discarding) {
            logger.debug("{}: no complete request head within {} ms; closing", ctx.channel(), headerTimeoutMillis);
            router.metrics.requestEnded(timedOut(ctx));
            ctx.close();
        }
    }

    private AccessRecord timedOut(ChannelHandlerContext ctx) {
        AccessRecord r = newRecord(ctx);
        r.decision = AccessRecord.DENIED;
        r.reason = "request_header_timeout";
        r.endNanos = System.nanoTime();
        return r;
    }

    private void disarmHeaderTimer() {
        headerDeadline = 0;
    }

    /** Cancels the header timer for good: the connection or this handler is gone. */
    private void cancelHeaderTimer() {
        headerDeadline = 0;
        ScheduledFuture<?> timer = headerTimer;
        if (timer != null) {
            timer.cancel(false);
            headerTimer = null;
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
        if (evt == DRAIN) {
            if (current == null && backlog.isEmpty() && !discarding) {
                ctx.close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof HttpObject)) {
            ReferenceCountUtil.release(msg);
            return;
        }
        if (msg instanceof HttpRequest) {
            disarmHeaderTimer();
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
            AccessRecord r = newRecord(ctx);
            record = r;
            r.method = request.method().name();
            r.path = request.uri();
            if (request.decoderResult().isFailure()) {
                ReferenceCountUtil.release(msg);
                Throwable cause = request.decoderResult().cause();
                HttpResponseStatus status = cause instanceof TooLongHttpHeaderException
                        ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
                        : cause instanceof TooLongHttpLineException
                        ? HttpResponseStatus.REQUEST_URI_TOO_LONG
                        : HttpResponseStatus.BAD_REQUEST;
                reject(ctx, status, "malformed request: " + Exchange.describe(cause), true,
                        status == HttpResponseStatus.BAD_REQUEST ? "malformed_request" : "request_too_large");
                return;
            }
            requestsSeen++;
            Integer folded = ctx.channel().hasAttr(ObsFoldGuard.FOLDED_REQUEST)
                    ? ctx.channel().attr(ObsFoldGuard.FOLDED_REQUEST).get() : null;
            if (folded != null && folded == requestsSeen) {
                ReferenceCountUtil.release(msg);
                reject(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request: obsolete line folding in a header"
                        + " (RFC 9112 section 5.2)", true, "malformed_request");
                return;
            }
            if (request.method().equals(HttpMethod.CONNECT)) {
                // Not a forward proxy: TCP crosses the mesh through TCP load balancers, not CONNECT at ingress.
                ReferenceCountUtil.release(msg);
                reject(ctx, HttpResponseStatus.BAD_REQUEST, "CONNECT is not served here (expected: a request for a"
                        + " load balancer's domain; TCP services cross the mesh as TCP load balancers)", true,
                        "connect_refused");
                return;
            }
            int maxHeaderCount = router.settings.maxHeaderCount;
            if (request.headers().size() > maxHeaderCount) {
                ReferenceCountUtil.release(msg);
                reject(ctx, HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request has "
                        + request.headers().size() + " header fields (expected: at most " + maxHeaderCount + ")",
                        true, "too_many_headers");
                return;
            }
            r.requestId = request.headers().get(Headers.REQUEST_ID);
            boolean keepAlive = persistent() && HttpUtil.isKeepAlive(request) && !router.draining();
            Upstream upstream;
            requestTimeoutMillis = responseTimeoutMillis;
            try {
                upstream = route(ctx, request, r);
            } catch (RouteException e) {
                ReferenceCountUtil.release(msg);
                reject(ctx, e, !keepAlive);
                if (!(msg instanceof LastHttpContent)) {
                    discarding = true;
                }
                return;
            }
            r.requestId = request.headers().get(Headers.REQUEST_ID);
            router.retryBudget.deposit();
            Exchange exchange = new Exchange(this, ctx.channel(), upstream, keepAlive, requestTimeoutMillis, r,
                    router.retryBudget);
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
                } else {
                    armHeaderTimer(ctx);
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
            reject(ctx, HttpResponseStatus.BAD_REQUEST, "malformed request body", true, "malformed_body");
            return;
        }
        exchange.onRequestPart(msg);
    }

    private void reject(ChannelHandlerContext ctx, HttpResponseStatus status, String reason, boolean close,
            String reasonCode) {
        FullHttpResponse response = Responses.error(ctx.alloc(), status, reason);
        endRecord(status.code(), status.code() < 500 ? AccessRecord.DENIED : AccessRecord.FAILED, reasonCode,
                response.content().readableBytes());
        send(ctx, response, close);
    }

    /** Answers a request the router does not forward: an error, a redirect or a direct response. */
    private void reject(ChannelHandlerContext ctx, RouteException e, boolean close) {
        String location = e.location();
        FullHttpResponse response = location != null
                ? Responses.redirect(ctx.alloc(), e.status(), location)
                : e.verbatim()
                ? Responses.direct(ctx.alloc(), e.status(), e.getMessage())
                : Responses.error(ctx.alloc(), e.status(), e.getMessage());
        endRecord(e.status().code(), e.decision(), e.reason(), response.content().readableBytes());
        send(ctx, response, close);
    }

    private void send(ChannelHandlerContext ctx, FullHttpResponse response, boolean close) {
        prepareResponse(response, !close);
        if (close) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        } else {
            ctx.writeAndFlush(response);
            armHeaderTimer(ctx);
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
        cancelHeaderTimer();
        Exchange exchange = current;
        current = null;
        if (exchange != null) {
            exchange.onDownstreamClosed();
            endRecord(0, AccessRecord.FAILED, "client_closed", -1);
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
    void exchangeFailed(Exchange exchange, HttpResponseStatus status, String reason, String reasonCode,
            boolean requestComplete) {
        ChannelHandlerContext c = ctx;
        current = null;
        if (c == null) {
            return;
        }
        logger.debug("{}: {} {}", c.channel(), status.code(), reason);
        endRecord(status.code(), AccessRecord.FAILED, reasonCode, reason.length() + 1);
        if (!requestComplete) {
            discarding = true;
        }
        boolean close = !persistent() || !requestComplete || router.draining();
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
        endRecord(0, AccessRecord.ROUTED, null, -1);
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
    void exchangeAborted(Exchange exchange, String reasonCode) {
        current = null;
        endRecord(0, AccessRecord.FAILED, reasonCode, -1);
        ChannelHandlerContext c = ctx;
        if (c != null) {
            c.close();
        }
    }

    /**
     * Ends the current access record: writes the access log line and counts it.
     *
     * @param status the status sent, or 0 to keep the one the exchange recorded
     * @param responseBytes the body bytes sent, or -1 to keep those the exchange counted
     */
    private void endRecord(int status, String decision, @Nullable String reasonCode, long responseBytes) {
        AccessRecord r = record;
        if (r == null) {
            return;
        }
        record = null;
        r.endNanos = System.nanoTime();
        if (status != 0) {
            r.status = status;
        }
        if (responseBytes >= 0) {
            r.responseBytes = responseBytes;
        }
        r.decision = decision;
        r.reason = reasonCode;
        if (AccessRecord.ACCESS_LOG.isInfoEnabled()) {
            AccessRecord.ACCESS_LOG.info(r.toJson());
        }
        router.metrics.requestEnded(r);
    }

    private void resume(ChannelHandlerContext c) {
        Object msg;
        while (current == null && (msg = backlog.poll()) != null) {
            handle(c, (HttpObject) msg);
        }
        if (current == null && backlog.isEmpty()) {
            if (router.draining() && persistent()) {
                c.close();
                return;
            }
            armHeaderTimer(c);
        }
        // A no-op unless reading paused because the backlog was full.
        c.channel().config().setAutoRead(true);
    }
}
