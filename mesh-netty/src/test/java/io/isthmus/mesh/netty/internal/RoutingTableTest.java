package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.config.Versioned;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.OriginPool;
import io.isthmus.mesh.model.Site;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RoutingTableTest {

    private static RoutingTable table(String site, MeshObject... objects) {
        List<Versioned<MeshObject>> stored = new ArrayList<>();
        long rev = 0;
        for (MeshObject o : objects) {
            rev++;
            stored.add(Versioned.of(o, rev, rev));
        }
        return RoutingTable.compile(site, rev, stored, null);
    }

    private static final OriginPool POOL =
            OriginPool.builder("shop-pool").site("osaka").endpoint(Endpoint.of("10.0.0.7", 80)).build();

    @Test
    void findsExactDomainsIgnoringPortCaseAndTrailingDot() {
        LoadBalancer lb = LoadBalancer.builder("shop").domain("shop.example").advertiseAt("tokyo").defaultPool("shop-pool").build();
        RoutingTable t = table("tokyo", POOL, lb);

        assertThat(t.findLoadBalancer("shop.example")).isEqualTo(lb);
        assertThat(t.findLoadBalancer("SHOP.example:8080")).isEqualTo(lb);
        assertThat(t.findLoadBalancer("shop.example.")).isEqualTo(lb);
        assertThat(t.findLoadBalancer("other.example")).isNull();
    }

    @Test
    void findsWildcardDomainsWithTheLongestSuffixFirst() {
        LoadBalancer any = LoadBalancer.builder("any").domain("*.example").advertiseAt("tokyo").defaultPool("shop-pool").build();
        LoadBalancer shop = LoadBalancer.builder("shop").domain("*.shop.example").advertiseAt("tokyo").defaultPool("shop-pool").build();
        RoutingTable t = table("tokyo", POOL, any, shop);

        assertThat(t.findLoadBalancer("eu.shop.example")).isEqualTo(shop);
        assertThat(t.findLoadBalancer("a.b.shop.example")).isEqualTo(shop);
        assertThat(t.findLoadBalancer("blog.example")).isEqualTo(any);
        assertThat(t.findLoadBalancer("example")).isNull();
    }

    @Test
    void findsKubernetesServiceNamesOfSingleLabelDomains() {
        LoadBalancer lb = LoadBalancer.builder("osaka-app").namespace("shop").domain("osaka-app").advertiseAt("tokyo")
                .defaultPool("shop-pool").build();
        RoutingTable t = table("tokyo", lb);

        assertThat(t.findLoadBalancer("osaka-app")).isEqualTo(lb);
        assertThat(t.findLoadBalancer("osaka-app.shop")).isEqualTo(lb);
        assertThat(t.findLoadBalancer("osaka-app.shop.svc.cluster.local")).isEqualTo(lb);
        assertThat(t.findLoadBalancer("osaka-app.default")).isNull();
    }

    @Test
    void servesOnlyLoadBalancersAdvertisedAtItsSite() {
        LoadBalancer lb = LoadBalancer.builder("shop").domain("shop.example").advertiseAt("tokyo").defaultPool("shop-pool").build();

        assertThat(table("osaka", POOL, lb).findLoadBalancer("shop.example")).isNull();
        assertThat(table("osaka", POOL, lb, Site.of("tokyo")).site("tokyo")).isEqualTo(Site.of("tokyo"));
    }
}
