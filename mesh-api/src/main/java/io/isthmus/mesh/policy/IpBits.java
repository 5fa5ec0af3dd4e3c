package io.isthmus.mesh.policy;

import java.net.InetAddress;
import org.jspecify.annotations.Nullable;

/** An IP address as integers, so that CIDR checks on the hot path compare numbers and allocate nothing. */
final class IpBits {

    static final int NONE = 0;
    static final int V4 = 4;
    static final int V6 = 6;

    final int family;
    final int v4;
    final long hi;
    final long lo;

    private IpBits(int family, int v4, long hi, long lo) {
        this.family = family;
        this.v4 = v4;
        this.hi = hi;
        this.lo = lo;
    }

    static final IpBits ABSENT = new IpBits(NONE, 0, 0, 0);

    static IpBits of(@Nullable InetAddress address) {
        if (address == null) {
            return ABSENT;
        }
        return of(address.getAddress());
    }

    static IpBits of(byte[] b) {
        if (b.length == 4) {
            return new IpBits(V4, toInt(b, 0), 0, 0);
        }
        return new IpBits(V6, 0, toLong(b, 0), toLong(b, 8));
    }

    static int toInt(byte[] b, int offset) {
        return (b[offset] & 0xff) << 24 | (b[offset + 1] & 0xff) << 16 | (b[offset + 2] & 0xff) << 8
                | (b[offset + 3] & 0xff);
    }

    static long toLong(byte[] b, int offset) {
        return (long) toInt(b, offset) << 32 | (toInt(b, offset + 4) & 0xffffffffL);
    }
}
