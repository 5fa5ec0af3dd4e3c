package io.isthmus.mesh.netty.internal;

import io.netty.buffer.ByteBufAllocator;
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
 *
 * <p>As the handler of a channel it serves that channel; a stream of an accepted tunnel, which has no
 * channel, drives it without a pipeline ({@link #open}, {@link #read}, {@link #readComplete}, {@link
 * #writabilityChanged}, {@link #closed}).
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
    /** The context of the channel this handler serves; {@code null} when a tunnel stream drives it. */
    private @Nullable ChannelHandlerContext ctx;
    private @Nullable Downstream downstream;
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
    abstract AccessRecord newRecord();

    /**
     * Decides where a request goes and rewrites its headers for the next hop.
     *
     * @throws RouteException with the status to answer when it cannot be routed
     */
    abstract Upstream route(HttpRequest request, AccessRecord record);

    /** Rewrites a response's headers for the downstream side. */
    abstract void prepareResponse(HttpResponse response, boolean keepAlive);

    /** Whether this downstream can carry more than one exchange (HTTP/1.1 connections). */
    abstract boolean persistent();

    /** Serves {@code downstream}, which is open: a tunnel stream without a channel. */
    void open(Downstream downstream) {
        this.downstream = downstream;
        armHeaderTimer();
    }

    /** The context of the channel this handler serves. */
    ChannelHandlerContext context() {
        ChannelHandlerContext c = ctx;
        if (c == null) {
            throw new IllegalStateException("the handler serves no channel");
        }
        return c;
    }

    private Downstream downstream() {
        Downstream d = downstream;
        if (d == null) {
            throw new IllegalStateException("the handler serves no downstream yet");
        }
        return d;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.downstream = new Downstream.OfChannel(ctx);
        if (ctx.channel().isActive()) {
            armHeaderTimer();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        armHeaderTimer();
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        cancelHeaderTimer();
    }

    private void armHeaderTimer() {
        if (headerTimeoutMillis <= 0) {
            return;
        }
        long now = System.nanoTime();
        headerDeadline = now + TimeUnit.MILLISECONDS.toNanos(headerTimeoutMillis);
        if (headerDeadline == 0) {
            headerDeadline = 1;
        }
        if (headerTimer == null) {
            scheduleHeaderCheck(headerDeadline - now);
        }
    }

    private void scheduleHeaderCheck(long delayNanos) {
        headerTimer = downstream().eventLoop().schedule(this::checkHeaderDeadline, delayNanos, TimeUnit.NANOSECONDS);
    }

    private void checkHeaderDeadline() {
        headerTimer = null;
        long deadline = headerDeadline;
        if (deadline == 0) {
            return;
        }
        long left = deadline - System.nanoTime();
        if (left > 0) {
            scheduleHeaderCheck(left);
            return;
        }
        headerDeadline = 0;
        if (current == null && backlog.isEmpty() && !discarding) {
            logger.debug("{}: no complete request head within {} ms; closing", downstream, headerTimeoutMillis);
            router.metrics.requestEnded(timedOut());
            downstream().close();
        }
    }

    private AccessRecord timedOut() {
        AccessRecord r = newRecord();
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
                downstream().close();
            }
            return;
        }
        ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        read(msg);
    }

    /** A request part (or anything else, which is dropped) arrived from downstream. */
    void read(Object msg) {
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
                downstream().readRequests(false);
            }
            return;
        }
        handle((HttpObject) msg);
    }

    private void handle(HttpObject msg) {
        if (msg instanceof HttpRequest) {
            HttpRequest request = (HttpRequest) msg;
            AccessRecord r = newRecord();
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
                reject(status, "malformed request: " + Exchange.describe(cause), true,
                        status == HttpResponseStatus.BAD_REQUEST ? "malformed_request" : "request_too_large");
                return;
            }
            requestsSeen++;
            ChannelHandlerContext c = ctx;
            Integer folded = c != null && c.channel().hasAttr(ObsFoldGuard.FOLDED_REQUEST)
                    ? c.channel().attr(ObsFoldGuard.FOLDED_REQUEST).get() : null;
            if (folded != null && folded == requestsSeen) {
                ReferenceCountUtil.release(msg);
                reject(HttpResponseStatus.BAD_REQUEST, "malformed request: obsolete line folding in a header"
                        + " (RFC 9112 section 5.2)", true, "malformed_request");
                return;
            }
            if (request.method().equals(HttpMethod.CONNECT)) {
                // Not a forward proxy: TCP crosses the mesh through TCP load balancers, not CONNECT at ingress.
                ReferenceCountUtil.release(msg);
                reject(HttpResponseStatus.BAD_REQUEST, "CONNECT is not served here (expected: a request for a"
                        + " load balancer's domain; TCP services cross the mesh as TCP load balancers)", true,
                        "connect_refused");
                return;
            }
            int maxHeaderCount = router.settings.maxHeaderCount;
            if (request.headers().size() > maxHeaderCount) {
                ReferenceCountUtil.release(msg);
                reject(HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request has "
                        + request.headers().size() + " header fields (expected: at most " + maxHeaderCount + ")",
                        true, "too_many_headers");
                return;
            }
            r.requestId = request.headers().get(Headers.REQUEST_ID);
            boolean keepAlive = persistent() && HttpUtil.isKeepAlive(request) && !router.draining();
            Upstream upstream;
            requestTimeoutMillis = responseTimeoutMillis;
            try {
                upstream = route(request, r);
            } catch (RouteException e) {
                ReferenceCountUtil.release(msg);
                reject(e, !keepAlive);
                if (!(msg instanceof LastHttpContent)) {
                    discarding = true;
                }
                return;
            }
            r.requestId = request.headers().get(Headers.REQUEST_ID);
            router.retryBudget.deposit();
            Exchange exchange = new Exchange(this, downstream(), upstream, keepAlive, requestTimeoutMillis, r,
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
                    downstream().close();
                } else {
                    armHeaderTimer();
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
            reject(HttpResponseStatus.BAD_REQUEST, "malformed request body", true, "malformed_body");
            return;
        }
        exchange.onRequestPart(msg);
    }

    private void reject(HttpResponseStatus status, String reason, boolean close, String reasonCode) {
        FullHttpResponse response = Responses.error(downstream().alloc(), status, reason);
        endRecord(status.code(), status.code() < 500 ? AccessRecord.DENIED : AccessRecord.FAILED, reasonCode,
                response.content().readableBytes());
        send(response, close);
    }

    /** Answers a request the router does not forward: an error, a redirect or a direct response. */
    private void reject(RouteException e, boolean close) {
        ByteBufAllocator alloc = downstream().alloc();
        String location = e.location();
        FullHttpResponse response = location != null
                ? Responses.redirect(alloc, e.status(), location)
                : e.verbatim()
                ? Responses.direct(alloc, e.status(), e.getMessage())
                : Responses.error(alloc, e.status(), e.getMessage());
        endRecord(e.status().code(), e.decision(), e.reason(), response.content().readableBytes());
        send(response, close);
    }

    private void send(FullHttpResponse response, boolean close) {
        prepareResponse(response, !close);
        Downstream d = downstream();
        if (close) {
            d.writeLast(response).addListener(f -> d.close());
        } else {
            d.writeLast(response);
            armHeaderTimer();
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        readComplete();
        ctx.fireChannelReadComplete();
    }

    /** The request parts at hand were read: the current exchange sends them on. */
    void readComplete() {
        Exchange exchange = current;
        if (exchange != null) {
            exchange.flushUpstream();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        writabilityChanged();
        ctx.fireChannelWritabilityChanged();
    }

    /** The downstream became writable, or stopped being so. */
    void writabilityChanged() {
        Exchange exchange = current;
        if (exchange != null) {
            exchange.onDownstreamWritabilityChanged();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        closed();
        ctx.fireChannelInactive();
    }

    /** The downstream closed: the current exchange ends, pipelined requests are dropped. */
    void closed() {
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
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        logger.debug("closing {}: {}", ctx.channel(), cause.toString());
        ctx.close();
    }

    /** The exchange could not reach or hear from its upstream; answer with an error if still possible. */
    void exchangeFailed(Exchange exchange, HttpResponseStatus status, String reason, String reasonCode,
            boolean requestComplete) {
        Downstream d = downstream;
        current = null;
        if (d == null) {
            return;
        }
        logger.debug("{}: {} {}", d, status.code(), reason);
        endRecord(status.code(), AccessRecord.FAILED, reasonCode, reason.length() + 1);
        if (!requestComplete) {
            discarding = true;
        }
        boolean close = !persistent() || !requestComplete || router.draining();
        FullHttpResponse response = Responses.error(d.alloc(), status, reason);
        prepareResponse(response, !close);
        if (close) {
            d.writeLast(response).addListener(f -> d.close());
        } else {
            d.writeLast(response).addListener(f -> resume(d));
        }
        if (!requestComplete && !close) {
            d.readRequests(true);
        }
    }

    /** The response went out completely. */
    void exchangeFinished(Exchange exchange, boolean keepAlive) {
        Downstream d = downstream;
        current = null;
        endRecord(0, AccessRecord.ROUTED, null, -1);
        if (d == null) {
            return;
        }
        if (!keepAlive || !persistent()) {
            if (persistent()) {
                d.close();
            }
            return;
        }
        resume(d);
    }

    /** The response broke off halfway; closing is the only honest signal left. */
    void exchangeAborted(Exchange exchange, String reasonCode) {
        current = null;
        endRecord(0, AccessRecord.FAILED, reasonCode, -1);
        Downstream d = downstream;
        if (d != null) {
            d.close();
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

    private void resume(Downstream d) {
        Object msg;
        while (current == null && (msg = backlog.poll()) != null) {
            handle((HttpObject) msg);
        }
        if (current == null && backlog.isEmpty()) {
            if (router.draining() && persistent()) {
                d.close();
                return;
            }
            armHeaderTimer();
        }
        // A no-op unless reading paused because the backlog was full.
        d.readRequests(true);
    }
}
