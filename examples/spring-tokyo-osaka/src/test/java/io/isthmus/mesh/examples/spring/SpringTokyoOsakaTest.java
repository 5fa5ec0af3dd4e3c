package io.isthmus.mesh.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SpringTokyoOsakaTest {

    @Test
    void tokyoGetsOsakasAnswerThroughTheEmbeddedRouters() {
        assertThat(SpringTokyoOsaka.callOsakaFromTokyo()).isEqualTo("Order 42 from Osaka: 2 x matcha, shipped");
    }
}
