package io.isthmus.mesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ServiceReferenceTest {

    @Test
    void parsesNameNamespaceAndPort() {
        ServiceReference ref = ServiceReference.parse("orders.shop:8080");
        assertThat(ref).isEqualTo(ServiceReference.of("shop", "orders", 8080));
        assertThat(ref.toString()).isEqualTo("orders.shop:8080");
    }

    @Test
    void rejectsTextThatIsNotNameNamespacePort() {
        assertThatThrownBy(() -> ServiceReference.parse("orders:8080"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("service reference: \"orders:8080\" (expected: name.namespace:port)");
        assertThatThrownBy(() -> ServiceReference.parse("orders.shop.svc:8080"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expected: name.namespace:port");
        assertThatThrownBy(() -> ServiceReference.parse("orders.shop:http"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("numeric port");
        assertThatThrownBy(() -> ServiceReference.parse("Orders.shop:80"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("name: \"Orders\"");
        assertThatThrownBy(() -> ServiceReference.parse("orders.shop:0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("port: 0 (expected: 1-65535)");
    }
}
