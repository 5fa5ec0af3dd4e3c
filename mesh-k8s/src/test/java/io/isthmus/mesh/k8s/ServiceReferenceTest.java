package io.isthmus.mesh.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.Origin;
import org.junit.jupiter.api.Test;

class ServiceReferenceTest {

    @Test
    void parsesNameNamespaceAndPort() {
        ServiceReference ref = ServiceReference.parse("orders.shop:8080");
        assertThat(ref).isEqualTo(ServiceReference.of("shop", "orders", 8080));
        assertThat(ref.toString()).isEqualTo("orders.shop:8080");
    }

    @Test
    void derivesTheReferenceOfAKubernetesServiceOrigin() {
        Origin origin = Origin.builder().kubernetesService("orders", "shop", 8080).site("osaka").build();
        assertThat(ServiceReference.of(origin)).isEqualTo(ServiceReference.of("shop", "orders", 8080));
    }

    @Test
    void refusesAStaticOriginAsServiceReference() {
        Origin origin = Origin.of(Endpoint.parse("10.0.0.7:8080"));
        assertThatThrownBy(() -> ServiceReference.of(origin))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("10.0.0.7:8080")
                .hasMessageContaining("expected: a Kubernetes-service origin");
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
