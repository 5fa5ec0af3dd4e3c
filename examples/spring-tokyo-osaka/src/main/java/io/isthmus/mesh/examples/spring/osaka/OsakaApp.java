package io.isthmus.mesh.examples.spring.osaka;

import io.isthmus.mesh.client.MeshClient;
import io.isthmus.mesh.model.Endpoint;
import io.isthmus.mesh.model.LoadBalancer;
import io.isthmus.mesh.model.OriginPool;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.web.server.context.WebServerInitializedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.context.annotation.Bean;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/**
 * The orders application at site osaka. With {@code isthmus.register-beans=true} its
 * {@code osaka-app} load balancer bean is written to the mesh at start-up; the origin pool follows
 * once the web server knows its port.
 */
@SpringBootApplication
public class OsakaApp {

    /** Created by Spring. */
    public OsakaApp() {}

    /**
     * The mesh service {@code osaka-app}: advertised at tokyo, served by the pool at osaka.
     *
     * @return the load balancer
     */
    @Bean
    LoadBalancer osakaAppLoadBalancer() {
        return LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo").defaultPool("osaka-pool")
                .build();
    }

    /**
     * Publishes this application's address as the origin pool {@code osaka-pool} once it listens.
     *
     * @param mesh the mesh client
     * @return the listener
     */
    @Bean
    ApplicationListener<WebServerInitializedEvent> publishOrigin(MeshClient mesh) {
        return event -> mesh.store().put(OriginPool.builder("osaka-pool").site("osaka")
                .endpoint(Endpoint.of("127.0.0.1", event.getWebServer().getPort())).build());
    }

    /** Serves the orders. */
    @RestController
    static class OrdersController {

        @GetMapping("/orders")
        String order(@RequestParam("id") String id) {
            return "Order " + id + " from Osaka: 2 x matcha, shipped";
        }
    }
}
