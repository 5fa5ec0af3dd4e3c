package io.isthmus.mesh.policy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compiled regular expression that matches without allocating: each thread reuses its own {@link
 * Matcher} ({@code Pattern.matcher(..)} would allocate one per call).
 */
final class CompiledRegex {

    private final ThreadLocal<Matcher> matchers;

    CompiledRegex(String regex) {
        Pattern pattern = Pattern.compile(regex);
        this.matchers = ThreadLocal.withInitial(() -> pattern.matcher(""));
    }

    boolean matches(String input) {
        Matcher matcher = matchers.get().reset(input);
        boolean matches = matcher.matches();
        matcher.reset(""); // drop the reference to the input
        return matches;
    }
}
