package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;

/**
 * A network endpoint: a host name or IP address and a port. Immutable.
 *
 * <pre>{@code
 * Endpoint origin = Endpoint.of("10.0.0.7", 8080);
 * Endpoint same = Endpoint.parse("10.0.0.7:8080");
 * Endpoint v6 = Endpoint.parse("[::1]:8443");
 * }</pre>
 */
public final class Endpoint {

    private final String host;
    private final int port;

    private Endpoint(String host, int port) {
        this.host = host;
        this.port = port;
    }

    /**
     * Returns an endpoint.
     *
     * @param host a host name or IP address (IPv6 without brackets)
     * @param port a port in 1-65535
     * @return the endpoint
     * @throws ConfigValidationException when the host or port is invalid
     */
    public static Endpoint of(String host, int port) {
        return new Endpoint(Validation.host(host, "host"), Validation.port(port, "port"));
    }

    /**
     * Parses {@code host:port} or {@code [ipv6]:port}.
     *
     * @param hostPort the text
     * @return the endpoint
     * @throws ConfigValidationException when the text is not {@code host:port}
     */
    public static Endpoint parse(String hostPort) {
        requireNonNull(hostPort, "hostPort");
        String host;
        String port;
        if (hostPort.startsWith("[")) {
            int close = hostPort.indexOf("]:");
            if (close < 0) {
                throw invalid(hostPort);
            }
            host = hostPort.substring(1, close);
            port = hostPort.substring(close + 2);
        } else {
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0 || hostPort.indexOf(':') != colon) {
                throw invalid(hostPort);
            }
            host = hostPort.substring(0, colon);
            port = hostPort.substring(colon + 1);
        }
        try {
            return of(host, Integer.parseInt(port));
        } catch (NumberFormatException e) {
            throw invalid(hostPort);
        }
    }

    private static ConfigValidationException invalid(String hostPort) {
        return new ConfigValidationException("", Validation.quote(hostPort) + " (expected: host:port or [ipv6]:port)");
    }

    /** @return the host name or IP address */
    public String host() {
        return host;
    }

    /** @return the port */
    public int port() {
        return port;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Endpoint && ((Endpoint) o).port == port && ((Endpoint) o).host.equals(host);
    }

    @Override
    public int hashCode() {
        return host.hashCode() * 31 + port;
    }

    /** Returns {@code host:port}, with brackets around an IPv6 address. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? '[' + host + ']' : host) + ':' + port;
    }
}
