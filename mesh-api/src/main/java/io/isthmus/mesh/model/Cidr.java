package io.isthmus.mesh.model;

import static java.util.Objects.requireNonNull;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.internal.Validation;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * An IPv4 or IPv6 address block such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}. Immutable.
 *
 * <p>A bare address is a block of one address ({@code /32} or {@code /128}). The address must be the
 * first of its block: {@code 10.1.2.3/8} is rejected rather than silently read as {@code 10.0.0.0/8}.
 * IPv4-mapped IPv6 addresses ({@code ::ffff:10.0.0.1}) are read as the IPv4 address they map.
 *
 * <pre>{@code
 * Cidr office = Cidr.parse("192.168.10.0/24");
 * office.contains(InetAddress.getByName("192.168.10.7"));   // true
 * }</pre>
 */
public final class Cidr {

    private final byte[] network;
    private final int prefixLength;

    private Cidr(byte[] network, int prefixLength) {
        this.network = network;
        this.prefixLength = prefixLength;
    }

    /**
     * Parses a block in CIDR notation, or a bare address. No name is ever resolved.
     *
     * @param text e.g. {@code 10.0.0.0/8}, {@code 2001:db8::/32} or {@code 192.168.1.7}
     * @return the block
     * @throws ConfigValidationException when the text is not an IPv4 or IPv6 CIDR
     */
    public static Cidr parse(String text) {
        requireNonNull(text, "text");
        int slash = text.indexOf('/');
        String addressText = slash < 0 ? text : text.substring(0, slash);
        byte @Nullable [] address = parseAddress(addressText);
        if (address == null) {
            throw invalid(text, "an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or 2001:db8::/32");
        }
        int bits = address.length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String prefixText = text.substring(slash + 1);
            if (prefixText.isEmpty() || prefixText.length() > 3 || !prefixText.chars().allMatch(Character::isDigit)) {
                throw invalid(text, "an IPv4 or IPv6 CIDR such as 10.0.0.0/8 or 2001:db8::/32");
            }
            prefix = Integer.parseInt(prefixText);
            if (prefix > bits) {
                throw invalid(text, "a prefix length of 0-" + bits + " for an IPv" + (bits == 32 ? "4" : "6")
                        + " CIDR");
            }
        }
        for (int i = prefix; i < bits; i++) {
            if ((address[i >> 3] & (0x80 >> (i & 7))) != 0) {
                throw invalid(text, "an IPv4 or IPv6 CIDR with no address bits set after the prefix, e.g. "
                        + new Cidr(mask(address, prefix), prefix));
            }
        }
        return new Cidr(address, prefix);
    }

    private static byte[] mask(byte[] address, int prefix) {
        byte[] masked = address.clone();
        for (int i = prefix; i < masked.length * 8; i++) {
            masked[i >> 3] &= (byte) ~(0x80 >> (i & 7));
        }
        return masked;
    }

    private static ConfigValidationException invalid(String text, String expected) {
        return new ConfigValidationException("", Validation.quote(text) + " (expected: " + expected + ')');
    }

    /** Parses an IPv4 or IPv6 literal; returns {@code null} for anything else, without any DNS lookup. */
    static byte @Nullable [] parseAddress(String text) {
        if (text.indexOf(':') < 0) {
            return parseIpv4(text);
        }
        // Only hex digits, colons and dots reach InetAddress, so it parses a literal and never resolves.
        if (text.length() > 45 || !text.chars().allMatch(c -> c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
            return null;
        }
        try {
            InetAddress address = InetAddress.getByName(text);
            return address.getAddress();
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static byte @Nullable [] parseIpv4(String text) {
        byte[] out = new byte[4];
        int part = 0;
        int value = -1;
        int digits = 0;
        for (int i = 0; i <= text.length(); i++) {
            char c = i == text.length() ? '.' : text.charAt(i);
            if (c == '.') {
                if (digits == 0 || part == 4) {
                    return null;
                }
                out[part++] = (byte) value;
                value = -1;
                digits = 0;
            } else if (c >= '0' && c <= '9') {
                if (digits > 0 && value == 0) {
                    return null; // no leading zeros: 010 means octal to some tools
                }
                value = (value < 0 ? 0 : value * 10) + (c - '0');
                digits++;
                if (value > 255) {
                    return null;
                }
            } else {
                return null;
            }
        }
        return part == 4 ? out : null;
    }

    /**
     * Returns whether this is an IPv4 block.
     *
     * @return {@code true} for IPv4, {@code false} for IPv6
     */
    public boolean isIpv4() {
        return network.length == 4;
    }

    /**
     * Returns the number of leading bits that addresses in the block share.
     *
     * @return 0-32 for IPv4, 0-128 for IPv6
     */
    public int prefixLength() {
        return prefixLength;
    }

    /**
     * Returns the first address of the block.
     *
     * @return a new array of 4 or 16 bytes that the caller owns
     */
    public byte[] network() {
        return network.clone();
    }

    /**
     * Returns whether an address lies in this block. An IPv4 address never lies in an IPv6 block and
     * the other way round.
     *
     * @param address the address
     * @return {@code true} when the address is in the block
     */
    public boolean contains(InetAddress address) {
        byte[] bytes = requireNonNull(address, "address").getAddress();
        if (bytes.length != network.length) {
            return false;
        }
        int full = prefixLength >> 3;
        for (int i = 0; i < full; i++) {
            if (bytes[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength & 7;
        return rest == 0 || ((bytes[full] ^ network[full]) & (0xff00 >> rest)) == 0;
    }

    @Override
    public boolean equals(@Nullable Object o) {
        return o instanceof Cidr && ((Cidr) o).prefixLength == prefixLength && Arrays.equals(((Cidr) o).network, network);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(network) * 31 + prefixLength;
    }

    /**
     * Returns the block in CIDR notation, IPv6 in its compressed form, e.g. {@code 2001:db8::/32}.
     *
     * @return the text that {@link #parse(String)} reads back
     */
    @Override
    public String toString() {
        try {
            InetAddress address = InetAddress.getByAddress(network);
            String host = address.getHostAddress();
            if (!(address instanceof Inet4Address)) {
                host = compress(host);
            }
            return host + '/' + prefixLength;
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** Compresses the longest run of zero groups of a full IPv6 text (RFC 5952). */
    private static String compress(String full) {
        String[] groups = full.split(":", -1);
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < groups.length; ) {
            if (groups[i].equals("0")) {
                int j = i;
                while (j < groups.length && groups[j].equals("0")) {
                    j++;
                }
                if (j - i > bestLength) {
                    bestStart = i;
                    bestLength = j - i;
                }
                i = j;
            } else {
                i++;
            }
        }
        if (bestStart < 0) {
            return full;
        }
        String head = String.join(":", java.util.Arrays.asList(groups).subList(0, bestStart));
        String tail = String.join(":", java.util.Arrays.asList(groups).subList(bestStart + bestLength, groups.length));
        return head + "::" + tail;
    }
}
