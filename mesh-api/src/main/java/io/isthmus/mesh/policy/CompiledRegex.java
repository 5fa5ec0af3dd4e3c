package io.isthmus.mesh.policy;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A compiled regular expression that matches a whole input without allocating: each thread reuses its
 * own {@link Matcher} ({@code Pattern.matcher(..)} would allocate one per call), and an input that
 * lacks the expression's literal prefix is rejected before the matcher runs.
 */
final class CompiledRegex {

    private final String literalPrefix;
    private final ThreadLocal<Matcher> matchers;

    CompiledRegex(String regex) {
        Pattern pattern = Pattern.compile(regex);
        this.literalPrefix = literalPrefix(regex);
        this.matchers = ThreadLocal.withInitial(() -> pattern.matcher(""));
    }

    /**
     * Returns the characters every whole match must start with: the expression's leading plain
     * characters, without the last one when a quantifier follows it. Empty when the expression has an
     * alternation anywhere, since {@code a|b} does not require {@code a}.
     */
    static String literalPrefix(String regex) {
        if (regex.indexOf('|') >= 0) {
            return "";
        }
        int end = 0;
        while (end < regex.length() && "\\[](){}.*+?^$|".indexOf(regex.charAt(end)) < 0) {
            end++;
        }
        if (end < regex.length() && end > 0 && "*+?{".indexOf(regex.charAt(end)) >= 0) {
            end--;
        }
        return regex.substring(0, end);
    }

    String literalPrefix() {
        return literalPrefix;
    }

    boolean matches(String input) {
        if (!input.startsWith(literalPrefix)) {
            return false;
        }
        // The matcher keeps a reference to the last input until the thread's next match: one short string.
        return matchers.get().reset(input).matches();
    }
}
