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
 * The orders application at site osaka. Once the web server knows its port, it writes its origin
 * pool and the {@code osaka-app} load balancer to the mesh.
 */
@SpringBootApplication
public class OsakaApp {

    /** Created by Spring. */
    public OsakaApp() {}

    /**
     * Publishes this application's address as the origin pool {@code osaka-pool} once it listens, then
     * the mesh service {@code osaka-app} (advertised at tokyo, served by that pool): the store refuses
     * a load balancer whose pool does not exist yet, so the pool goes first.
     *
     * @param mesh the mesh client
     * @return the listener
     */
    @Bean
    ApplicationListener<WebServerInitializedEvent> publishOrigin(MeshClient mesh) {
        return event -> {
            mesh.store().put(OriginPool.builder("osaka-pool").site("osaka")
                    .endpoint(Endpoint.of("127.0.0.1", event.getWebServer().getPort())).build());
            mesh.store().put(LoadBalancer.builder("osaka-app").domain("osaka-app").advertiseAt("tokyo")
                    .defaultPool("osaka-pool").build());
        };
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
