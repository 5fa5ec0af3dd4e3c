package io.isthmus.mesh;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The core module knows nothing of Netty, Kubernetes, etcd, Vert.x or Spring. */
class ArchitectureTest {

    private final JavaClasses classes = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.isthmus.mesh");

    @Test
    void apiDependsOnNoIntegrationLibrary() {
        noClasses().should().dependOnClassesThat()
                .resideInAnyPackage("io.netty..", "io.fabric8..", "io.etcd..", "io.vertx..", "org.springframework..")
                .check(classes);
    }

    @Test
    void publicPackagesDoNotDependOnNettyOrJacksonInSignaturesOfTheModel() {
        noClasses().that().resideInAnyPackage("io.isthmus.mesh.model..", "io.isthmus.mesh.pki..")
                .should().dependOnClassesThat().resideInAnyPackage("tools.jackson..", "com.fasterxml..")
                .check(classes);
    }
}
