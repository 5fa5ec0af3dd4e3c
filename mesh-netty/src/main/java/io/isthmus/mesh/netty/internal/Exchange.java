package io.isthmus.mesh.netty.internal;

import io.netty.buffer.Unpooled;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.EmptyHttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.Future;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * One request and its response, relayed between a downstream (a client connection or a tunnel
 * stream) and an upstream link (an origin connection or a tunnel stream). Everything runs on the
 * downstream's event loop; the upstream link is bound to the same loop.
 *
 * <p>Bodies stream in both directions. Backpressure: while the receiving side is not writable the
 * sending side stops reading.
 */
final class Exchange extends ResponseDeadlines.Waiter {

    private static final java.util.Set<HttpMethod> IDEMPOTENT = java.util.Set.of(HttpMethod.GET, HttpMethod.HEAD,
            HttpMethod.OPTIONS, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.TRACE);

    private final ProxyHandler owner;
    private final Downstream downstream;
    private final Upstream upstream;
    private final boolean clientKeepAlive;
    private final long responseTimeoutMillis;
    private final AccessRecord record;
    private final RetryBudget retryBudget;
    /**
     * The head of a bodiless idempotent request, to send again when the first attempt failed before any
     * response. Sending a head reads its headers and changes nothing, so it is kept as it is and
     * copied only for a retry.
     */
    private @Nullable HttpRequest retryCopy;
    private int attempts = 1;
    private static final int MAX_ATTEMPTS = 2;
    /**
     * Request parts that arrived before the upstream link was there; made when the first does (an
     * upstream at hand, such as a tunnel stream, needs none).
     */
    private @Nullable ArrayDeque<HttpObject> pending;
    /** Request parts queued while the upstream connects before reading pauses. */
    private static final int PENDING_LIMIT = 16;

    private @Nullable UpstreamLink link;
    /** The upstream link being acquired (connecting, or waiting for a free origin connection). */
    private @Nullable Future<UpstreamLink> acquiring;
    private boolean requestComplete;
    private boolean responseStarted;
    private boolean responseComplete;
    private boolean upstreamKeepAlive = true;
    private boolean done;

    Exchange(ProxyHandler owner, Downstream downstream, Upstream upstream, boolean clientKeepAlive,
            long responseTimeoutMillis, AccessRecord record, RetryBudget retryBudget) {
        this.owner = owner;
        this.retryBudget = retryBudget;
        this.record = record;
        this.downstream = downstream;
        this.upstream = upstream;
        this.clientKeepAlive = clientKeepAlive;
        this.responseTimeoutMillis = responseTimeoutMillis;
    }

    boolean requestComplete() {
        return requestComplete;
    }

    /** Starts acquiring the upstream; request parts received meanwhile wait in a short queue. */
    void start() {
        record.upstreamStartNanos = System.nanoTime();
        Future<UpstreamLink> acquired = upstream.acquire(downstream.eventLoop());
        if (acquired.isDone()) {
            onAcquired(acquired);
        } else {
            acquiring = acquired;
            acquired.addListener(f -> onAcquired(acquired));
        }
    }

    private void onAcquired(Future<UpstreamLink> acquired) {
        acquiring = null;
        if (acquired.isCancelled()) {
            return;
        }
        if (done) {
            if (acquired.isSuccess()) {
                acquired.getNow().release(false);
            }
            return;
        }
        if (!acquired.isSuccess()) {
            Throwable cause = acquired.cause();
            if (cause instanceof RouteException) {
                RouteException refused = (RouteException) cause;
                fail(refused.status(), refused.getMessage(), refused.reason());
                return;
            }
            fail(upstream.unreachableStatus(), upstream.describe() + " is unreachable: " + describe(cause),
                    "upstream_unreachable");
            return;
        }
        UpstreamLink ch = acquired.getNow();
        record.endpoint = ch.endpoint();
        link = ch;
        ch.attach(this);
        ArrayDeque<HttpObject> queued = pending;
        HttpObject part;
        while (queued != null && (part = queued.poll()) != null) {
            ch.write(part);
        }
        ch.flush();
        // Resume reading if the queue had filled up, unless the upstream pushes back.
        downstream.readRequests(requestComplete || ch.isWritable());
        if (requestComplete) {
            startResponseTimer();
        }
        if (!ch.isActive()) {
            onUpstreamClosed(null);
        }
    }

    /** A part of the request arrived from downstream. */
    void onRequestPart(HttpObject part) {
        if (part instanceof LastHttpContent) {
            requestComplete = true;
        }
        if (part instanceof HttpRequest) {
            HttpRequest request = (HttpRequest) part;
            if (IDEMPOTENT.contains(request.method())) {
                retryCopy = request;
            }
        }
        if (part instanceof HttpContent) {
            int bytes = ((HttpContent) part).content().readableBytes();
            record.requestBytes += bytes;
            if (bytes > 0 || part instanceof LastHttpContent && !((LastHttpContent) part).trailingHeaders().isEmpty()) {
                // A body streams through and is not kept: the request cannot be sent again.
                retryCopy = null;
            }
        }
        if (done) {
            ReferenceCountUtil.release(part);
            return;
        }
        UpstreamLink ch = link;
        if (ch == null) {
            ArrayDeque<HttpObject> queue = pending();
            queue.add(part);
            if (queue.size() >= PENDING_LIMIT) {
                // The upstream is still being connected: stop reading the body until it is.
                downstream.readRequests(false);
            }
            return;
        }
        ch.write(part);
        if (requestComplete) {
            ch.flush();
            startResponseTimer();
        }
    }

    void flushUpstream() {
        UpstreamLink ch = link;
        if (ch != null) {
            ch.flush();
        }
    }

    void flushDownstream() {
        downstream.flush();
    }

    private void startResponseTimer() {
        if (!responseStarted && responseTimeoutMillis > 0) {
            ResponseDeadlines.arm(downstream.eventLoop(), this, responseTimeoutMillis);
        }
    }

    @Override
    void expired() {
        if (!responseStarted && !done) {
            fail(HttpResponseStatus.GATEWAY_TIMEOUT, upstream.describe() + " did not respond within "
                    + responseTimeoutMillis + " ms", "upstream_timeout");
        }
    }

    /** A part of the response arrived from upstream. */
    void onResponsePart(HttpObject part) {
        if (done) {
            ReferenceCountUtil.release(part);
            return;
        }
        if (part instanceof HttpResponse) {
            HttpResponse response = (HttpResponse) part;
            if (response.decoderResult().isFailure()) {
                ReferenceCountUtil.release(part);
                fail(HttpResponseStatus.BAD_GATEWAY, upstream.describe() + " sent a malformed response: "
                        + describe(response.decoderResult().cause()), "upstream_malformed_response");
                return;
            }
            if (response.status().code() < 200) {
                // Interim responses (100 Continue, 103 Early Hints) are not relayed.
                ReferenceCountUtil.release(part);
                return;
            }
            responseStarted = true;
            upstream.outcome(Boolean.TRUE);
            upstream.responded(response);
            record.status = response.status().code();
            cancelTimer();
            upstreamKeepAlive = HttpUtil.isKeepAlive(response);
            owner.prepareResponse(response, clientKeepAlive && requestComplete);
        }
        boolean last = part instanceof LastHttpContent;
        if (part instanceof HttpContent) {
            record.responseBytes += ((HttpContent) part).content().readableBytes();
        }
        if (last) {
            responseComplete = true;
            record.upstreamEndNanos = System.nanoTime();
        }
        if (!last) {
            downstream.write(part);
            UpstreamLink ch = link;
            if (!downstream.isWritable() && ch != null) {
                ch.readResponse(false);
            }
            return;
        }
        downstream.writeLast(part).addListener(f -> {
            if (f.isSuccess()) {
                finish();
            } else {
                abort();
            }
        });
    }

    void onDownstreamWritabilityChanged() {
        UpstreamLink ch = link;
        if (ch != null && !responseComplete) {
            ch.readResponse(downstream.isWritable());
        }
    }

    void onUpstreamWritabilityChanged() {
        UpstreamLink ch = link;
        if (ch != null && !requestComplete) {
            downstream.readRequests(ch.isWritable());
        }
    }

    /** The upstream link closed or failed before the exchange ended. */
    void onUpstreamClosed(@Nullable Throwable cause) {
        if (done || responseComplete) {
            return;
        }
        if (responseStarted) {
            abort();
        } else {
            fail(HttpResponseStatus.BAD_GATEWAY, upstream.describe() + " closed the connection before responding"
                    + (cause == null ? "" : ": " + describe(cause)), "upstream_closed");
        }
    }

    /** The downstream closed (a connection, or a stream reset or gone); give up on the exchange. */
    void onDownstreamClosed() {
        if (!done) {
            done = true;
            Future<UpstreamLink> pendingAcquire = acquiring;
            if (pendingAcquire != null) {
                upstream.abandon(pendingAcquire);
            }
            upstream.outcome(null);
            cancelTimer();
            releasePending();
            releaseUpstream(false);
        }
    }

    private void fail(HttpResponseStatus status, String reason, String reasonCode) {
        if (done) {
            return;
        }
        upstream.outcome(Boolean.FALSE);
        if (retry(reasonCode)) {
            return;
        }
        done = true;
        cancelTimer();
        releasePending();
        releaseUpstream(false);
        owner.exchangeFailed(this, status, reason, reasonCode, requestComplete);
    }

    /**
     * Sends a bodiless idempotent request once more when its upstream failed before answering (could
     * not be reached, or closed or reset the connection), if the retry budget allows.
     */
    private boolean retry(String reasonCode) {
        HttpRequest copy = retryCopy;
        if (copy == null || responseStarted || !requestComplete || attempts >= MAX_ATTEMPTS
                || !("upstream_unreachable".equals(reasonCode) || "upstream_closed".equals(reasonCode))
                || !retryBudget.tryWithdraw()) {
            return false;
        }
        attempts++;
        record.retried = true;
        cancelTimer();
        releaseUpstream(false);
        pending().add(new DefaultFullHttpRequest(copy.protocolVersion(), copy.method(), copy.uri(),
                Unpooled.EMPTY_BUFFER, copy.headers().copy(), EmptyHttpHeaders.INSTANCE));
        start();
        return true;
    }

    /** The response went out completely. */
    private void finish() {
        if (done) {
            return;
        }
        done = true;
        cancelTimer();
        releaseUpstream(requestComplete && upstreamKeepAlive);
        owner.exchangeFinished(this, clientKeepAlive && requestComplete);
    }

    /** The response cannot be completed: the only honest signal left is closing the downstream. */
    private void abort() {
        if (done) {
            return;
        }
        done = true;
        cancelTimer();
        releasePending();
        releaseUpstream(false);
        owner.exchangeAborted(this, "response_aborted");
    }

    private void releaseUpstream(boolean reusable) {
        UpstreamLink ch = link;
        if (ch != null) {
            link = null;
            ch.release(reusable);
        }
    }

    private void releasePending() {
        ArrayDeque<HttpObject> queued = pending;
        HttpObject part;
        while (queued != null && (part = queued.poll()) != null) {
            ReferenceCountUtil.release(part);
        }
    }

    private ArrayDeque<HttpObject> pending() {
        ArrayDeque<HttpObject> queue = pending;
        if (queue == null) {
            queue = new ArrayDeque<>(4);
            pending = queue;
        }
        return queue;
    }

    private void cancelTimer() {
        ResponseDeadlines.disarm(this);
    }

    static String describe(@Nullable Throwable cause) {
        if (cause == null) {
            return "unknown cause";
        }
        String message = cause.getMessage();
        return message == null ? cause.getClass().getSimpleName() : message;
    }
}
