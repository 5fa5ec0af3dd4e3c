package io.isthmus.mesh;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.codeUnits;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchCondition;
import com.tngtech.archunit.lang.ConditionEvents;
import com.tngtech.archunit.lang.SimpleConditionEvent;
import com.tngtech.archunit.lang.syntax.elements.GivenCodeUnitsConjunction;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Keeps the core module free of integrations, and its API free of implementation types. */
class ArchitectureTest {

    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_JARS)
            .importPackages("io.isthmus.mesh");

    @Test
    void dependsOnNoIntegrationLibrary() {
        noClasses().that().resideInAPackage("io.isthmus.mesh..")
                .should().dependOnClassesThat()
                .resideInAnyPackage("io.netty..", "io.fabric8..", "io.etcd..", "io.vertx..", "org.springframework..")
                .because("integrations live in their own modules (see STYLE.md, Layout)")
                .check(CLASSES);
    }

    @Test
    void publicApiExposesNoInternalType() {
        publicApi().should(notExpose("io.isthmus.mesh.internal")).check(CLASSES);
    }

    @Test
    void publicApiExposesNoJacksonType() {
        // The codec keeps Jackson behind String and Map signatures so that it can be shaded.
        publicApi().should(notExpose("tools.jackson")).andShould(notExpose("com.fasterxml.jackson")).check(CLASSES);
    }

    private static GivenCodeUnitsConjunction<JavaCodeUnit> publicApi() {
        return codeUnits().that().arePublic().or().areProtected().and().areDeclaredInClassesThat(isPublicApi());
    }

    private static DescribedPredicate<JavaClass> isPublicApi() {
        return DescribedPredicate.describe("public API classes", c -> c.getModifiers().contains(JavaModifier.PUBLIC)
                && !c.getPackageName().contains(".internal"));
    }

    private static ArchCondition<JavaCodeUnit> notExpose(String packagePrefix) {
        return new ArchCondition<>("not expose types of " + packagePrefix) {
            @Override
            public void check(JavaCodeUnit unit, ConditionEvents events) {
                List<JavaType> types = new ArrayList<>(unit.getParameterTypes());
                types.add(unit.getReturnType());
                unit.getExceptionTypes().forEach(types::add);
                for (JavaType type : types) {
                    for (JavaClass raw : type.getAllInvolvedRawTypes()) {
                        if (raw.getPackageName().startsWith(packagePrefix)) {
                            events.add(SimpleConditionEvent.violated(unit,
                                    unit.getFullName() + " exposes " + raw.getName()));
                        }
                    }
                }
            }
        };
    }
}
