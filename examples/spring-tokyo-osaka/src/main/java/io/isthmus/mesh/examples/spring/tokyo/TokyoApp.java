package io.isthmus.mesh.examples.spring.tokyo;

import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.web.client.RestClient;

/**
 * The application at site tokyo: an ordinary {@link RestClient} for {@code http://osaka-app}. The
 * Isthmus starter routes it through the embedded router; nothing here names a port or a site.
 */
@SpringBootApplication
public class TokyoApp {

    /** Created by Spring. */
    public TokyoApp() {}

    /**
     * The client of the Osaka orders service.
     *
     * @param builder Spring Boot's builder, customized by the Isthmus starter
     * @return the client
     */
    @Bean
    RestClient osakaOrders(RestClient.Builder builder) {
        return builder.baseUrl("http://osaka-app").build();
    }
}
