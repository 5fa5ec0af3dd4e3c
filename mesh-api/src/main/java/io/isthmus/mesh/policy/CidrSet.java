package io.isthmus.mesh.policy;

import io.isthmus.mesh.model.Cidr;
import java.util.List;

/** A compiled list of CIDRs: masks and networks as integers, checked without allocation. */
final class CidrSet {

    private final int[] v4Network;
    private final int[] v4Mask;
    private final long[] v6Network; // pairs: hi, lo
    private final long[] v6Mask;
    private final List<Cidr> cidrs;

    CidrSet(List<Cidr> cidrs) {
        this.cidrs = cidrs;
        int v4 = (int) cidrs.stream().filter(Cidr::isIpv4).count();
        int v6 = cidrs.size() - v4;
        v4Network = new int[v4];
        v4Mask = new int[v4];
        v6Network = new long[v6 * 2];
        v6Mask = new long[v6 * 2];
        int i4 = 0;
        int i6 = 0;
        for (Cidr cidr : cidrs) {
            byte[] network = cidr.network();
            int prefix = cidr.prefixLength();
            if (cidr.isIpv4()) {
                v4Mask[i4] = prefix == 0 ? 0 : -1 << (32 - prefix);
                v4Network[i4++] = IpBits.toInt(network, 0);
            } else {
                v6Mask[i6] = prefix == 0 ? 0 : prefix >= 64 ? -1L : -1L << (64 - prefix);
                v6Mask[i6 + 1] = prefix <= 64 ? 0 : prefix == 128 ? -1L : -1L << (128 - prefix);
                v6Network[i6] = IpBits.toLong(network, 0);
                v6Network[i6 + 1] = IpBits.toLong(network, 8);
                i6 += 2;
            }
        }
    }

    boolean isEmpty() {
        return cidrs.isEmpty();
    }

    List<Cidr> cidrs() {
        return cidrs;
    }

    boolean contains(IpBits ip) {
        if (ip.family == IpBits.V4) {
            for (int i = 0; i < v4Mask.length; i++) {
                if ((ip.v4 & v4Mask[i]) == v4Network[i]) {
                    return true;
                }
            }
        } else if (ip.family == IpBits.V6) {
            for (int i = 0; i < v6Mask.length; i += 2) {
                if ((ip.hi & v6Mask[i]) == v6Network[i] && (ip.lo & v6Mask[i + 1]) == v6Network[i + 1]) {
                    return true;
                }
            }
        }
        return false;
    }
}
