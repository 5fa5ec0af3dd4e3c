package io.isthmus.mesh.netty.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.isthmus.mesh.model.Endpoint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BalancingTest {

    private static final List<Endpoint> THREE =
            List.of(Endpoint.of("10.0.0.1", 80), Endpoint.of("10.0.0.2", 80), Endpoint.of("10.0.0.3", 80));

    @Test
    void rendezvousMovesOnlyTheKeysOfARemovedEndpoint() {
        List<Endpoint> two = THREE.subList(0, 2);
        int moved = 0;
        for (int k = 0; k < 1000; k++) {
            Endpoint before = Balancing.rendezvous("key-" + k, THREE, List.of(1, 1, 1));
            Endpoint after = Balancing.rendezvous("key-" + k, two, List.of(1, 1));
            if (!before.equals(THREE.get(2))) {
                assertThat(after).as("key-" + k).isEqualTo(before);
            } else {
                moved++;
            }
        }
        // About a third of the keys were at the removed endpoint.
        assertThat(moved).isBetween(250, 420);
    }

    @Test
    void rendezvousFollowsTheWeights() {
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int k = 0; k < 4000; k++) {
            counts.merge(Balancing.rendezvous("key-" + k, THREE, List.of(1, 2, 1)), 1, Integer::sum);
        }
        assertThat(counts.get(THREE.get(1))).isBetween(1800, 2200);
        assertThat(counts.get(THREE.get(0))).isBetween(850, 1150);
    }

    @Test
    void weightedRoundRobinVisitsEachEndpointAsOftenAsItsWeightPerCycle() {
        Map<Endpoint, Integer> counts = new HashMap<>();
        for (int i = 0; i < 12; i++) {
            counts.merge(Balancing.weightedRoundRobin(i, THREE, List.of(1, 2, 3)), 1, Integer::sum);
        }
        assertThat(counts).containsEntry(THREE.get(0), 2).containsEntry(THREE.get(1), 4).containsEntry(THREE.get(2), 6);
    }

    @Test
    void findsACookieAmongSeveral() {
        assertThat(Balancing.cookie(List.of("theme=dark; session=abc", "x=1"), "session")).isEqualTo("abc");
        assertThat(Balancing.cookie(List.of("sessionx=1; session2=2"), "session")).isNull();
        assertThat(Balancing.cookie(List.of(), "session")).isNull();
    }
}
