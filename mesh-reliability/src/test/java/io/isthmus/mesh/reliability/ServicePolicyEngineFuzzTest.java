package io.isthmus.mesh.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.model.HeaderMatch;
import io.isthmus.mesh.model.PathMatch;
import io.isthmus.mesh.model.PolicyAction;
import io.isthmus.mesh.model.PolicyRule;
import io.isthmus.mesh.model.RateLimit;
import io.isthmus.mesh.model.ServicePolicy;
import io.isthmus.mesh.policy.Explanation;
import io.isthmus.mesh.policy.PolicyDecision;
import io.isthmus.mesh.policy.RequestFacts;
import io.isthmus.mesh.policy.ServicePolicyEngine;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;

/**
 * Fuzzes {@link ServicePolicyEngine} with fuzzed rules and request facts: building a bad rule or
 * policy throws only the documented {@link ConfigValidationException}; compiling, deciding and
 * explaining throw nothing; {@code explain} gives the very decision {@code decide} gives, its trace
 * ends at the first matching rule (first match wins) or tries every rule and ends in the default.
 *
 * <p>Without {@code JAZZER_FUZZ=1} the target replays its seed corpus in
 * {@code src/test/resources/io/isthmus/mesh/reliability/ServicePolicyEngineFuzzTestInputs/decidesLikeItExplains/}.
 */
class ServicePolicyEngineFuzzTest {

    private static final String[] SITES = {"tokyo", "osaka", "kyoto"};
    private static final String[] DOMAINS = {"app", "api.example.com", "*.example.com"};
    private static final String[] METHODS = {"GET", "POST", "DELETE"};
    private static final String[] PATHS = {"/", "/api", "/api/v1/orders", "/admin"};
    private static final String[] HEADERS = {"x-user", "authorization", "x-debug"};
    private static final String[] REGEXES = {"", "/api/.*", "[a-z]+", "^/(orders|users)/[0-9]+$", "(a+)+$",
        ".*admin.*", "Bearer [A-Za-z0-9._-]+"};
    private static final String[] CIDRS = {"10.0.0.0/8", "127.0.0.1/32", "::1/128", "0.0.0.0/0"};

    @FuzzTest(maxDuration = "60s")
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a fuzz run takes maxDuration plus start-up
    void decidesLikeItExplains(FuzzedDataProvider data) throws UnknownHostException {
        List<ServicePolicy> policies = new ArrayList<>();
        int policyCount = data.consumeInt(0, 3);
        for (int p = 0; p < policyCount; p++) {
            ServicePolicy.Builder policy = ServicePolicy.builder("policy-" + p)
                    .defaultAction(data.consumeBoolean() ? PolicyAction.ALLOW : PolicyAction.DENY);
            int ruleCount = data.consumeInt(0, 4);
            for (int r = 0; r < ruleCount; r++) {
                try {
                    policy.rule(rule(data));
                } catch (ConfigValidationException expected) {
                    assertThat(expected.getMessage()).isNotBlank();
                }
            }
            try {
                policies.add(policy.build());
            } catch (ConfigValidationException expected) {
                assertThat(expected.getMessage()).isNotBlank();
            }
        }
        ServicePolicyEngine engine = ServicePolicyEngine.compile(policies);
        RequestFacts facts = facts(data);

        PolicyDecision decision = engine.decide(facts);
        Explanation<PolicyDecision> explanation = engine.explain(facts);
        assertThat(explanation.decision()).isSameAs(decision);
        assertThat(engine.decide(facts)).as("decide is a pure function").isSameAs(decision);
        List<Explanation.Step> steps = explanation.steps();
        int ruleTotal = policies.stream().mapToInt(p -> p.rules().size()).sum();
        if (decision.isDefault()) {
            assertThat(steps).hasSize(ruleTotal).noneMatch(Explanation.Step::matched);
            PolicyAction expected = policies.isEmpty() ? PolicyAction.ALLOW
                    : policies.get(policies.size() - 1).defaultAction();
            assertThat(decision.action()).isEqualTo(expected);
        } else {
            assertThat(steps).isNotEmpty();
            assertThat(steps.subList(0, steps.size() - 1)).noneMatch(Explanation.Step::matched);
            Explanation.Step last = steps.get(steps.size() - 1);
            assertThat(last.matched()).isTrue();
            assertThat(last.ruleIndex()).isEqualTo(decision.ruleIndex());
            assertThat(last.action()).isEqualTo(decision.action().name());
        }
        assertThat(explanation.toString()).isNotBlank();
    }

    private static PolicyRule rule(FuzzedDataProvider data) {
        PolicyRule.Builder rule = data.consumeBoolean() ? PolicyRule.allow() : PolicyRule.deny();
        int conditions = data.consumeInt(0, 6);
        for (int c = 0; c < conditions; c++) {
            switch (data.consumeInt(0, 8)) {
                case 0 -> rule.sourceSite(pick(data, SITES));
                case 1 -> rule.sourceIdentity("spiffe://mesh.test/site/" + pick(data, SITES));
                case 2 -> rule.clientCidr(pick(data, CIDRS));
                case 3 -> rule.domain(pick(data, DOMAINS));
                case 4 -> rule.method(pick(data, METHODS));
                case 5 -> rule.path(switch (data.consumeInt(0, 2)) {
                    case 0 -> PathMatch.exact(pick(data, PATHS));
                    case 1 -> PathMatch.prefix(pick(data, PATHS));
                    default -> PathMatch.regex(regex(data));
                });
                case 6 -> rule.header(switch (data.consumeInt(0, 2)) {
                    case 0 -> HeaderMatch.present(pick(data, HEADERS));
                    case 1 -> HeaderMatch.exact(pick(data, HEADERS), data.consumeString(8));
                    default -> HeaderMatch.regex(pick(data, HEADERS), regex(data));
                });
                case 7 -> rule.name(data.consumeString(12));
                default -> rule.rateLimit(RateLimit.of(data.consumeInt(), Duration.ofMillis(data.consumeLong())));
            }
        }
        return rule.build();
    }

    private static RequestFacts facts(FuzzedDataProvider data) throws UnknownHostException {
        RequestFacts.Builder facts = RequestFacts.builder()
                .host(pick(data, DOMAINS).replace("*", data.consumeString(6)))
                .method(pick(data, METHODS))
                .path(pick(data, PATHS));
        if (data.consumeBoolean()) {
            facts.sourceSite(pick(data, SITES));
        }
        if (data.consumeBoolean()) {
            facts.sourceIdentity("spiffe://mesh.test/site/" + pick(data, SITES));
        }
        if (data.consumeBoolean()) {
            facts.clientIp(InetAddress.getByAddress(padded(data)));
        }
        int headers = data.consumeInt(0, 3);
        for (int h = 0; h < headers; h++) {
            facts.header(pick(data, HEADERS), data.consumeString(16));
        }
        return facts.build();
    }

    private static byte[] padded(FuzzedDataProvider data) {
        byte[] address = new byte[data.consumeBoolean() ? 4 : 16];
        byte[] fuzzed = data.consumeBytes(address.length);
        System.arraycopy(fuzzed, 0, address, 0, fuzzed.length);
        return address;
    }

    /**
     * A valid regular expression: a known one, or a known fragment around fuzzed literal text. Jazzer's
     * regular-expression sanitizer reports every expression that fails to compile, so the rejection of
     * invalid expressions is left to the model's own tests.
     */
    private static String regex(FuzzedDataProvider data) {
        String known = data.pickValue(REGEXES);
        return data.consumeBoolean() ? known : known + Pattern.quote(data.consumeString(12));
    }

    /** A well-known value most of the time (so that rules match), otherwise a fuzzed string. */
    private static String pick(FuzzedDataProvider data, String[] known) {
        return data.consumeInt(0, 3) > 0 ? data.pickValue(known) : data.consumeString(24);
    }
}
