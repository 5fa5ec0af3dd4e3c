package io.isthmus.mesh.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ObjectKeyTest {

    @Test
    void namesANamespacedObjectWithItsNamespaceAndAClusterWideOneAlone() {
        ObjectKey lb = ObjectKey.of(Kind.LOAD_BALANCER, "shop", "osaka-app");
        assertThat(lb.qualifiedName()).isEqualTo("shop/osaka-app");
        assertThat(lb).hasToString("LoadBalancer/shop/osaka-app");
        ObjectKey site = ObjectKey.of(Kind.SITE, "osaka");
        assertThat(site.qualifiedName()).isEqualTo("osaka");
        assertThat(site).hasToString("Site/osaka");
    }

    @Test
    void refusesANamespaceForAClusterWideKindAndNoneForANamespacedOne() {
        assertThatThrownBy(() -> ObjectKey.of(Kind.SITE, "shop", "osaka"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: empty for Site");
        assertThatThrownBy(() -> ObjectKey.of(Kind.LOAD_BALANCER, "", "osaka-app"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: non-empty");
    }
}
