package io.isthmus.mesh.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.config.ConfigValidationException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CidrTest {

    private static InetAddress ip(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void ipv4BlockContainsItsAddressesOnly() {
        Cidr cidr = Cidr.parse("10.1.0.0/16");
        assertThat(cidr.isIpv4()).isTrue();
        assertThat(cidr.prefixLength()).isEqualTo(16);
        assertThat(cidr.contains(ip("10.1.0.0"))).isTrue();
        assertThat(cidr.contains(ip("10.1.255.255"))).isTrue();
        assertThat(cidr.contains(ip("10.2.0.0"))).isFalse();
        assertThat(cidr.contains(ip("10.0.255.255"))).isFalse();
    }

    @Test
    void prefixNotOnAByteBoundaryIsHonoured() {
        Cidr cidr = Cidr.parse("192.168.16.0/20");
        assertThat(cidr.contains(ip("192.168.31.255"))).isTrue();
        assertThat(cidr.contains(ip("192.168.32.0"))).isFalse();
        assertThat(cidr.contains(ip("192.168.15.255"))).isFalse();
    }

    @Test
    void ipv6BlockContainsItsAddressesOnlyAndNeverIpv4() {
        Cidr cidr = Cidr.parse("2001:db8:abcd::/48");
        assertThat(cidr.isIpv4()).isFalse();
        assertThat(cidr.contains(ip("2001:db8:abcd:ffff::1"))).isTrue();
        assertThat(cidr.contains(ip("2001:db8:abce::1"))).isFalse();
        assertThat(cidr.contains(ip("10.0.0.1"))).isFalse();
        assertThat(Cidr.parse("10.0.0.0/8").contains(ip("::a00:1"))).isFalse();
    }

    @Test
    void bareAddressIsABlockOfOne() {
        assertThat(Cidr.parse("10.0.0.7")).isEqualTo(Cidr.parse("10.0.0.7/32"));
        assertThat(Cidr.parse("::1").prefixLength()).isEqualTo(128);
        assertThat(Cidr.parse("::1").contains(ip("::1"))).isTrue();
    }

    @Test
    void zeroPrefixMatchesEveryAddressOfItsFamily() {
        assertThat(Cidr.parse("0.0.0.0/0").contains(ip("203.0.113.9"))).isTrue();
        assertThat(Cidr.parse("::/0").contains(ip("2001:db8::9"))).isTrue();
        assertThat(Cidr.parse("::/0").contains(ip("203.0.113.9"))).isFalse();
    }

    @Test
    void writesCanonicalTextThatParsesBack() {
        assertThat(Cidr.parse("2001:0db8:0000:0000::/32")).hasToString("2001:db8::/32");
        assertThat(Cidr.parse("::/0")).hasToString("::/0");
        assertThat(Cidr.parse("fe80::1:0:0:1/128")).hasToString("fe80::1:0:0:1/128");
        assertThat(Cidr.parse("10.0.0.0/8")).hasToString("10.0.0.0/8");
        for (String text : new String[] {"2001:db8::/32", "::1/128", "1:0:0:2::/64", "10.0.0.0/8"}) {
            assertThat(Cidr.parse(Cidr.parse(text).toString())).isEqualTo(Cidr.parse(text));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.0.0.300/8", "10.0.0/8", "10.0.0.0.0/8", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1",
            "010.0.0.0/8", "2001:db8::/129", "2001:db8:::/32", "example.com/8", "localhost", "", "/8", " 10.0.0.0/8",
            "2001:db8::g/32"})
    void rejectsWhatIsNotACidr(String text) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(ConfigValidationException.class)
                .hasMessageStartingWith("\"" + text + "\" (expected: ");
    }

    @Test
    void rejectsHostBitsAfterThePrefixNamingTheBlockMeant() {
        assertThatThrownBy(() -> Cidr.parse("10.1.2.3/8"))
                .hasMessage("\"10.1.2.3/8\" (expected: an IPv4 or IPv6 CIDR with no address bits set after the "
                        + "prefix, e.g. 10.0.0.0/8)");
        assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33"))
                .hasMessage("\"10.0.0.0/33\" (expected: a prefix length of 0-32 for an IPv4 CIDR)");
    }
}
