package io.isthmus.mesh.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class CompiledRegexTest {

    @Test
    void literalPrefixStopsAtTheFirstSpecialCharacterAndDropsAQuantifiedOne() {
        assertThat(CompiledRegex.literalPrefix("/orders/[0-9]+")).isEqualTo("/orders/");
        assertThat(CompiledRegex.literalPrefix("/orders/2[0-9]*/items")).isEqualTo("/orders/2");
        assertThat(CompiledRegex.literalPrefix("abc*")).isEqualTo("ab");
        assertThat(CompiledRegex.literalPrefix("abc?d")).isEqualTo("ab");
        assertThat(CompiledRegex.literalPrefix("abc{2}")).isEqualTo("ab");
        assertThat(CompiledRegex.literalPrefix("curl/4\\..*")).isEqualTo("curl/4");
        assertThat(CompiledRegex.literalPrefix("(?i)abc")).isEmpty();
        assertThat(CompiledRegex.literalPrefix("abc|xyz")).isEmpty();
        assertThat(CompiledRegex.literalPrefix("a(b|c)")).isEmpty();
        assertThat(CompiledRegex.literalPrefix(".*")).isEmpty();
        assertThat(CompiledRegex.literalPrefix("plain")).isEqualTo("plain");
    }

    @Test
    void agreesWithPatternMatchesOnEveryInput() {
        List<String> regexes = List.of("/orders/[0-9]+", "abc*", "abc?d", "ab{2}c", "(?i)ABC", "abc|xyz", "a(b|c)d",
                "x\\.y", "", ".*curl.*", "/api/v[12]/.*");
        List<String> inputs = List.of("", "/orders/42", "/orders/", "/orders/4x", "ab", "abc", "abccc", "abd", "abcd",
                "abbc", "ABC", "abC", "xyz", "abd", "acd", "x.y", "xzy", "Mozilla curl/8", "/api/v1/x", "/api/v3/x");
        for (String regex : regexes) {
            CompiledRegex compiled = new CompiledRegex(regex);
            Pattern pattern = Pattern.compile(regex);
            for (String input : inputs) {
                assertThat(compiled.matches(input)).as("%s ~ %s", input, regex)
                        .isEqualTo(pattern.matcher(input).matches());
            }
        }
    }
}
