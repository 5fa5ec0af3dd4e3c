package io.isthmus.mesh.daemon.cli;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.daemon.cli.Meshctl.UsageException;
import io.isthmus.mesh.model.MeshObject;
import io.isthmus.mesh.model.ObjectKey;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.yaml.YAMLMapper;

/**
 * Reads the documents of {@code apply -f} and {@code delete -f}: files, directories (their
 * {@code .yaml}, {@code .yml} and {@code .json} files, in name order) and standard input ({@code -}).
 * Every document is validated with {@link MeshObjectCodec}; every problem is collected with the
 * source, the document's index and line, and the field path, so that all are reported at once.
 */
final class DocumentReader {

    /** One object read, with where it came from. */
    record Read(MeshObject object, String where) {}

    private static final Pattern DOCUMENT_START = Pattern.compile("^---(\\s.*)?$");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final YAMLMapper YAML = YAMLMapper.builder().build();

    private final MeshObjectCodec codec = MeshObjectCodec.create();
    private final List<Read> objects = new ArrayList<>();
    private final List<String> problems = new ArrayList<>();
    private final Map<ObjectKey, String> seen = new HashMap<>();

    List<Read> objects() {
        return objects;
    }

    List<String> problems() {
        return problems;
    }

    /** Reads one {@code -f} argument. */
    void readSource(String source, InputStream stdin) {
        if (source.equals("-")) {
            try {
                readText("<stdin>", new String(stdin.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UsageException("-f -: cannot read standard input (" + e.getMessage() + ")", e);
            }
            return;
        }
        Path path = Path.of(source);
        if (Files.isDirectory(path)) {
            List<Path> files;
            try (Stream<Path> list = Files.list(path)) {
                files = list.filter(p -> Files.isRegularFile(p) && isDocumentFile(p)).sorted().collect(Collectors.toList());
            } catch (IOException e) {
                throw new UsageException("-f " + source + ": cannot list the directory (" + e.getMessage() + ")", e);
            }
            if (files.isEmpty()) {
                throw new UsageException("-f " + source + ": the directory holds no .yaml, .yml or .json file");
            }
            for (Path file : files) {
                readText(file.toString(), ConnectionSettings.read(file, "-f"));
            }
            return;
        }
        readText(source, ConnectionSettings.read(path, "-f"));
    }

    private static boolean isDocumentFile(Path path) {
        String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
    }

    void readText(String source, String text) {
        String body = text.startsWith("\uFEFF") ? text.substring(1) : text;
        String start = body.stripLeading();
        if (start.startsWith("[") || start.startsWith("{")) {
            readJson(source, body);
        } else {
            readYaml(source, body);
        }
    }

    private void readJson(String source, String text) {
        JsonNode root;
        try {
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr();
            problems.add(source + ": malformed JSON" + where + ": " + e.getOriginalMessage());
            return;
        }
        if (root.isArray()) {
            for (int i = 0; i < root.size(); i++) {
                readTree(source + ": document " + i, root.get(i));
            }
        } else {
            readTree(source, root);
        }
    }

    private void readYaml(String source, String text) {
        // Split on "---" lines ourselves, so that each document is validated on its own and named by its
        // index and first line; the codec then reports lines counted from the start of the file.
        String[] lines = text.split("\n", -1);
        int index = 0;
        int startLine = 1;
        StringBuilder document = new StringBuilder();
        for (int i = 0; i <= lines.length; i++) {
            boolean end = i == lines.length;
            if (end || DOCUMENT_START.matcher(lines[i].stripTrailing()).matches()) {
                if (!isBlank(document.toString())) {
                    readYamlDocument(source + ": document " + index + " (line " + firstContentLine(document, startLine)
                            + ")", "\n".repeat(startLine - 1) + document, startLine);
                }
                if (!end && (i > 0 || !isBlank(document.toString()))) {
                    index++;
                }
                document.setLength(0);
                startLine = i + 2;
            } else if (i < lines.length - 1 || !lines[i].isEmpty()) {
                document.append(lines[i]).append('\n');
            }
        }
    }

    private static int firstContentLine(CharSequence document, int startLine) {
        String[] lines = document.toString().split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            String line = lines[i].strip();
            if (!line.isEmpty() && !line.startsWith("#")) {
                return startLine + i;
            }
        }
        return startLine;
    }

    private static boolean isBlank(String document) {
        for (String line : document.split("\n")) {
            String stripped = line.strip();
            if (!stripped.isEmpty() && !stripped.startsWith("#")) {
                return false;
            }
        }
        return true;
    }

    private void readYamlDocument(String where, String paddedText, int startLine) {
        JsonNode tree;
        try {
            tree = YAML.readTree(paddedText);
        } catch (JacksonException e) {
            // The codec words syntax errors well; the padding makes its line numbers count from the file start.
            try {
                codec.fromYaml(paddedText);
                problems.add(where + ": malformed YAML: " + e.getOriginalMessage());
            } catch (ConfigValidationException problem) {
                problems.add(where + ": " + problem.getMessage());
            }
            return;
        }
        readTree(where, tree);
    }

    private void readTree(String where, @Nullable JsonNode tree) {
        if (tree == null || tree.isNull() || tree.isMissingNode()) {
            return;
        }
        // Documents printed by "get -o yaml|json" carry the resource version, which the admin API also
        // accepts; the codec does not know it, so it is taken off before validation.
        if (tree.isObject() && tree.get("metadata") instanceof ObjectNode) {
            ((ObjectNode) tree.get("metadata")).remove("resourceVersion");
        }
        MeshObject object;
        try {
            object = codec.fromJson(JSON.writeValueAsString(tree));
        } catch (ConfigValidationException e) {
            problems.add(where + ": " + e.getMessage());
            return;
        }
        String earlier = seen.putIfAbsent(object.key(), where);
        if (earlier != null) {
            problems.add(where + ": " + Kinds.ref(object.key()) + " appears twice (expected: once; first in " + earlier + ")");
            return;
        }
        objects.add(new Read(object, where));
    }
}
