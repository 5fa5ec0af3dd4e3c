package io.isthmus.mesh.internal;

import io.isthmus.mesh.config.ConfigValidationException;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;
import tools.jackson.databind.JsonNode;

/**
 * Reads typed fields of a JSON/YAML document node, failing with the field's path and the bad value,
 * for every reader of mesh documents (the codec and the policy documents).
 */
public final class DocumentFields {

    private DocumentFields() {}

    /**
     * Reads an optional string field.
     *
     * @param object the node holding the field
     * @param field the field name
     * @param path the field's path, for errors
     * @return the value, or {@code null} when absent or null
     * @throws ConfigValidationException when the value is not a string
     */
    public static @Nullable String string(JsonNode object, String field, String path) {
        JsonNode value = object.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isString()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: a string)");
        }
        return value.stringValue();
    }

    /**
     * Reads an optional list of strings.
     *
     * @param object the node holding the field
     * @param field the field name
     * @param objectPath the path of {@code object} ({@code ""} at the top)
     * @return the strings, empty when the field is absent or null
     * @throws ConfigValidationException naming the field or the bad element
     */
    public static List<String> strings(JsonNode object, String field, String objectPath) {
        String path = join(objectPath, field);
        List<String> result = new ArrayList<>();
        for (JsonNode item : list(object.get(field), path, "a list of strings")) {
            if (!item.isString()) {
                throw new ConfigValidationException(path + '[' + result.size() + ']', describe(item) + " (expected: a string)");
            }
            result.add(item.stringValue());
        }
        return result;
    }

    /**
     * Reads an optional list of objects.
     *
     * @param object the node holding the field
     * @param field the field name
     * @param objectPath the path of {@code object} ({@code ""} at the top)
     * @return the objects, empty when the field is absent or null
     * @throws ConfigValidationException naming the field or the bad element
     */
    public static List<JsonNode> objects(JsonNode object, String field, String objectPath) {
        String path = join(objectPath, field);
        List<JsonNode> result = new ArrayList<>();
        for (JsonNode item : list(object.get(field), path, "a list of objects")) {
            if (!item.isObject()) {
                throw new ConfigValidationException(path + '[' + result.size() + ']', describe(item) + " (expected: an object)");
            }
            result.add(item);
        }
        return result;
    }

    /**
     * Shortens a value for an error message.
     *
     * @param value the bad value
     * @return its JSON text, at most 60 characters
     */
    public static String describe(JsonNode value) {
        String text = value.toString();
        return text.length() > 60 ? text.substring(0, 57) + "..." : text;
    }

    private static List<JsonNode> list(@Nullable JsonNode value, String path, String expected) {
        if (value == null || value.isNull()) {
            return List.of();
        }
        if (!value.isArray()) {
            throw new ConfigValidationException(path, describe(value) + " (expected: " + expected + ')');
        }
        List<JsonNode> items = new ArrayList<>(value.size());
        value.forEach(items::add);
        return items;
    }

    private static String join(String objectPath, String field) {
        return objectPath.isEmpty() ? field : objectPath + '.' + field;
    }
}
