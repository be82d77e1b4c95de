package io.enclave.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** The bundle's class path, written in the POM, names exactly the jars the unpacked war holds. */
class ConsoleBundleTest {

    @Test
    void everyJarOfTheWarIsOnTheBundleClassPathAndNothingElse() throws IOException {
        Path root = Path.of(System.getProperty("wab.root"));
        Set<String> declared = new TreeSet<>(Arrays.asList(System.getProperty("wab.classpath").split(",")));
        assertTrue(declared.remove("WEB-INF/classes"), "WEB-INF/classes comes first on the class path: " + declared);
        assertTrue(Files.isRegularFile(root.resolve("WEB-INF/web.xml")), "the war is unpacked into " + root);
        Set<String> present;
        try (Stream<Path> jars = Files.list(root.resolve("WEB-INF/lib"))) {
            present = jars.map(p -> "WEB-INF/lib/" + p.getFileName()).filter(n -> n.endsWith(".jar"))
                    .collect(Collectors.toCollection(TreeSet::new));
        }
        assertEquals(present, declared, "wab.classpath in bundle-console/pom.xml must list the war's WEB-INF/lib");
    }
}
