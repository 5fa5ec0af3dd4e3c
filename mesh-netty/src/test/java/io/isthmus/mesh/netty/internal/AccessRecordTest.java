package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AccessRecordTest {

    @Test
    void writesOneJsonObjectWithEscapedValuesAndDurations() {
        AccessRecord r = new AccessRecord("ingress", "tokyo");
        r.client = "127.0.0.1";
        r.method = "GET";
        r.path = "/a\"b\\c\nd";
        r.loadBalancer = "default/app";
        r.status = 503;
        r.decision = AccessRecord.FAILED;
        r.reason = "circuit_open";
        r.endNanos = r.startNanos + 2_500_000;
        assertThat(r.toJson()).isEqualTo("{\"listener\":\"ingress\",\"site\":\"tokyo\",\"protocol\":\"HTTP/1.1\","
                + "\"client\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/a\\\"b\\\\c\\nd\","
                + "\"load_balancer\":\"default/app\",\"status\":503,\"request_bytes\":0,\"response_bytes\":0,"
                + "\"duration_ms\":2.5,\"upstream_ms\":0.0,\"decision\":\"failed\",\"reason\":\"circuit_open\"}");
    }
}
