package io.isthmus.mesh.benchmarks;

import io.isthmus.mesh.pki.SiteCredentials;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.internal.tcnative.SSL;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/** A closed loop of full TLS 1.3 handshakes over a number of concurrent connections. */
final class HandshakeLoad {

    /** How much load, for how long. */
    record Settings(int clients, int clientThreads, int warmupSeconds, int seconds, long maxHandshakes,
            boolean awaitSettings) {}

    /** What one counted interval saw. */
    record Result(long handshakes, long failures, long resumed, long elapsedNanos, long serverCpuNanos,
            long clientCpuNanos, long latencyNanos, String provider, @Nullable String firstFailure) {

        String report(Settings settings) {
            double seconds = elapsedNanos / 1e9;
            double rate = handshakes / seconds;
            StringBuilder out = new StringBuilder();
            out.append(String.format(Locale.ROOT, "clients %d (%d client thread(s), TLS by %s), warm-up %d s, "
                    + "counted %.2f s, a handshake counts at %s%n", settings.clients(), settings.clientThreads(),
                    provider, settings.warmupSeconds(), seconds,
                    settings.awaitSettings() ? "the server's SETTINGS frame" : "TLS completion"));
            out.append(String.format(Locale.ROOT, "handshakes        %d (%.1f/s), failures %d, resumed sessions %s%n",
                    handshakes, rate, failures, resumed < 0 ? "unknown" : Long.toString(resumed)));
            if (handshakes > 0) {
                out.append(String.format(Locale.ROOT, "mean time         %.2f ms from connect to counted%n",
                        latencyNanos / 1e6 / handshakes));
            }
            if (serverCpuNanos >= 0) {
                double cpu = serverCpuNanos / 1e9;
                out.append(String.format(Locale.ROOT, "server CPU        %.2f s (%.0f%% of one core)%n", cpu,
                        100 * cpu / seconds));
                if (handshakes > 0 && cpu > 0) {
                    out.append(String.format(Locale.ROOT, "per CPU-second    %.1f handshakes (%.1f us server CPU "
                            + "per handshake)%n", handshakes / cpu, serverCpuNanos / 1e3 / handshakes));
                }
            }
            out.append(String.format(Locale.ROOT, "client CPU        %.2f s%n", clientCpuNanos / 1e9));
            if (firstFailure != null) {
                out.append("first failure     ").append(firstFailure).append('\n');
            }
            out.append(String.format(Locale.ROOT, "RESULT handshakes_per_s=%.1f server_cpu_s=%.3f "
                    + "handshakes_per_cpu_s=%s failures=%d resumed=%d%n", rate, Math.max(serverCpuNanos, 0) / 1e9,
                    serverCpuNanos > 0 ? String.format(Locale.ROOT, "%.1f", handshakes / (serverCpuNanos / 1e9))
                            : "n/a", failures, resumed));
            return out.toString();
        }
    }

    private static final byte[] CLIENT_PREFACE = concat(
            "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
            new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0}); // an empty SETTINGS frame
    private static final int FRAME_HEADER = 9;
    private static final int SETTINGS = 4;
    private static final int ACK = 1;
    private static final String CLIENT_THREADS = "handshake-client";

    private final Settings settings;
    private final SiteCredentials client;
    private final InetSocketAddress target;
    private final TunnelHandshakeBench.CpuClock serverCpu;
    private final LongAdder handshakes = new LongAdder();
    private final LongAdder failures = new LongAdder();
    private final LongAdder latencyNanos = new LongAdder();
    private final LongAdder resumed = new LongAdder();
    private volatile boolean stopping;
    private volatile @Nullable String firstFailure;

    HandshakeLoad(Settings settings, SiteCredentials client, InetSocketAddress target,
            TunnelHandshakeBench.CpuClock serverCpu) {
        this.settings = settings;
        this.client = client;
        this.target = target;
        this.serverCpu = serverCpu;
    }

    Result run() throws InterruptedException {
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        SslContext tls = clientContext(provider);
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory io = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        EventLoopGroup group = new MultiThreadIoEventLoopGroup(settings.clientThreads(),
                new DefaultThreadFactory(CLIENT_THREADS, true), io);
        CountDownLatch finished = new CountDownLatch(settings.clients());
        TunnelHandshakeBench.CpuClock clientCpu = TunnelHandshakeBench.CpuClock.threads(CLIENT_THREADS);
        try {
            Bootstrap bootstrap = new Bootstrap().group(group)
                    .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5_000);
            for (int i = 0; i < settings.clients(); i++) {
                new Connection(bootstrap, tls, finished).connect();
            }
            long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(settings.warmupSeconds());
            sleepUntil(warmupEnd);
            long count0 = handshakes.sum();
            long failures0 = failures.sum();
            long latency0 = latencyNanos.sum();
            long resumed0 = resumed.sum();
            long server0 = serverCpu.cpuNanos();
            long client0 = clientCpu.cpuNanos();
            long start = System.nanoTime();
            long end = start + TimeUnit.SECONDS.toNanos(settings.seconds());
            while (System.nanoTime() < end && handshakes.sum() - count0 < settings.maxHandshakes()) {
                Thread.sleep(Math.max(1, Math.min(20, (end - System.nanoTime()) / 1_000_000)));
            }
            long elapsed = System.nanoTime() - start;
            long count = handshakes.sum() - count0;
            long failed = failures.sum() - failures0;
            long latency = latencyNanos.sum() - latency0;
            long reused = provider == SslProvider.OPENSSL ? resumed.sum() - resumed0 : -1;
            long server1 = serverCpu.cpuNanos();
            long client1 = clientCpu.cpuNanos();
            stopping = true;
            finished.await(10, TimeUnit.SECONDS);
            return new Result(count, failed, reused, elapsed, server0 < 0 ? -1 : server1 - server0, client1 - client0,
                    latency, TunnelHandshakeBench.describe(provider), firstFailure);
        } finally {
            stopping = true;
            group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
        }
    }

    private SslContext clientContext(SslProvider provider) {
        try {
            SslContext context = SslContextBuilder.forClient()
                    .sslProvider(provider)
                    .protocols("TLSv1.3")
                    .keyManager(client.privateKey(), client.certificateChain().toArray(new X509Certificate[0]))
                    .trustManager(client.trustBundle().roots().toArray(new X509Certificate[0]))
                    // The chain is verified against the mesh CA; without a peer name there is no
                    // host name to check (the router checks SPIFFE ids, not names).
                    .endpointIdentificationAlgorithm(null)
                    .applicationProtocolConfig(new ApplicationProtocolConfig(ApplicationProtocolConfig.Protocol.ALPN,
                            ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                            ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                            ApplicationProtocolNames.HTTP_2))
                    .build();
            // Engines are made without a peer host and port, so no session is ever offered; the
            // cache is turned off as well, so that every handshake is a full one.
            if (context.sessionContext() instanceof OpenSslSessionContext sessions) {
                sessions.setSessionCacheEnabled(false);
            }
            return context;
        } catch (SSLException e) {
            throw new IllegalStateException("client TLS context: " + e.getMessage(), e);
        }
    }

    private static void sleepUntil(long deadline) throws InterruptedException {
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            Thread.sleep(Math.max(1, Math.min(100, left / 1_000_000)));
        }
    }

    private void fail(String why) {
        failures.increment();
        if (firstFailure == null) {
            firstFailure = why;
        }
    }

    /** One client slot: connects again each time its previous connection closed. */
    private final class Connection {
        private final Bootstrap bootstrap;
        private final SslContext tls;
        private final CountDownLatch finished;

        Connection(Bootstrap bootstrap, SslContext tls, CountDownLatch finished) {
            this.bootstrap = bootstrap.clone();
            this.tls = tls;
            this.finished = finished;
        }

        void connect() {
            if (stopping) {
                finished.countDown();
                return;
            }
            Probe probe = new Probe(System.nanoTime());
            ChannelFuture connected = bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(tls.newHandler(ch.alloc()), probe);
                }
            }).connect(target);
            Channel channel = connected.channel();
            connected.addListener(f -> {
                if (!f.isSuccess()) {
                    fail("connect: " + f.cause());
                }
            });
            channel.closeFuture().addListener(f -> {
                if (!probe.counted && !probe.failed) {
                    fail(probe.settingsAwaited ? "closed before the server's SETTINGS frame"
                            : "closed during the TLS handshake");
                }
                if (probe.counted) {
                    connect();
                } else { // do not spin against a server that refuses
                    channel.eventLoop().schedule(this::connect, 10, TimeUnit.MILLISECONDS);
                }
            });
        }
    }

    /** Counts the connection once TLS completed with ALPN h2 and, if asked, the server's SETTINGS arrived. */
    private final class Probe extends ChannelInboundHandlerAdapter {
        private final long start;
        private @Nullable ByteBuf pending;
        boolean settingsAwaited;
        boolean counted;
        boolean failed;

        Probe(long start) {
            this.start = start;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent done) {
                if (!done.isSuccess()) {
                    failed = true;
                    fail("TLS handshake: " + describe(done.cause()));
                    ctx.close();
                    return;
                }
                SslHandler ssl = ctx.pipeline().get(SslHandler.class);
                if (ssl.engine() instanceof ReferenceCountedOpenSslEngine engine
                        && SSL.isSessionReused(engine.sslPointer())) {
                    resumed.increment();
                }
                String protocol = ssl.applicationProtocol();
                if (!ApplicationProtocolNames.HTTP_2.equals(protocol)) {
                    failed = true;
                    fail("the server negotiated ALPN " + protocol + " (expected: h2)");
                    ctx.close();
                } else if (settings.awaitSettings()) {
                    settingsAwaited = true;
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(CLIENT_PREFACE));
                } else {
                    count(ctx);
                }
                return;
            }
            super.userEventTriggered(ctx, evt);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            if (counted || failed) {
                in.release();
                return;
            }
            ByteBuf buf = pending == null ? in : Unpooled.wrappedBuffer(pending, in);
            pending = null;
            while (buf.readableBytes() >= FRAME_HEADER) {
                int length = buf.getUnsignedMedium(buf.readerIndex());
                int type = buf.getUnsignedByte(buf.readerIndex() + 3);
                int flags = buf.getUnsignedByte(buf.readerIndex() + 4);
                if (type == SETTINGS && (flags & ACK) == 0) {
                    buf.release();
                    count(ctx);
                    return;
                }
                if (buf.readableBytes() < FRAME_HEADER + length) {
                    break;
                }
                buf.skipBytes(FRAME_HEADER + length);
            }
            if (buf.isReadable()) {
                pending = buf;
            } else {
                buf.release();
            }
        }

        @Override
        public void handlerRemoved(ChannelHandlerContext ctx) {
            if (pending != null) {
                pending.release();
                pending = null;
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!counted && !failed) {
                failed = true;
                fail(cause.toString());
            }
            ctx.close();
        }

        private void count(ChannelHandlerContext ctx) {
            counted = true;
            latencyNanos.add(System.nanoTime() - start);
            handshakes.increment();
            ctx.close();
        }
    }

    private static String describe(Throwable error) {
        StringBuilder out = new StringBuilder(String.valueOf(error));
        for (Throwable cause = error.getCause(); cause != null && out.length() < 1000; cause = cause.getCause()) {
            out.append(" <- ").append(cause);
        }
        return out.toString();
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
