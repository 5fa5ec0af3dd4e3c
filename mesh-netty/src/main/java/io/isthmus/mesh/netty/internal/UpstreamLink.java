package io.isthmus.mesh.netty.internal;

import io.netty.handler.codec.http.HttpObject;

/**
 * The upstream end of one exchange: a pooled origin connection ({@link UpstreamHandler}) or a stream
 * of a tunnel ({@link TunnelExchanges}). Response parts, the end of the link and changes of its
 * writability go to the exchange attached. Used on the exchange's event loop only.
 */
interface UpstreamLink {

    /** From now on, response parts and the end of the link go to {@code exchange}. */
    void attach(Exchange exchange);

    /** Writes a request part; a failure ends the exchange through {@link Exchange#onUpstreamClosed}. */
    void write(HttpObject part);

    /** Sends what was written, now or at the end of the event loop's turn. */
    void flush();

    /** Whether the link takes more request parts without buffering them beyond its limits. */
    boolean isWritable();

    /** Whether the link is still open. */
    boolean isActive();

    /** Pauses ({@code false}) or resumes reading the response, while the downstream side pushes back. */
    void readResponse(boolean read);

    /**
     * Ends the exchange's use of the link: {@code reusable} when both the request and the response
     * completed and the connection may carry another one. An unfinished tunnel stream is reset.
     */
    void release(boolean reusable);

    /** Names the address the link leads to, for the access log. */
    String endpoint();
}
