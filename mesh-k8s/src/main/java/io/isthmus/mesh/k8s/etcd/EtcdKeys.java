package io.isthmus.mesh.k8s.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.etcd.jetcd.ByteSequence;
import io.isthmus.mesh.model.Kind;
import io.isthmus.mesh.model.ObjectKey;

/**
 * The key layout: {@code <prefix>/<kindName>/<namespace>/<name>} for namespaced kinds,
 * {@code <prefix>/<kindName>/<name>} for the others. Immutable.
 */
final class EtcdKeys {

    private final String prefix;

    EtcdKeys(String prefix) {
        this.prefix = prefix;
    }

    String prefix() {
        return prefix;
    }

    /** The range of every object: the prefix followed by a slash, so {@code /a} does not match {@code /ab}. */
    String all() {
        return prefix + '/';
    }

    String of(Kind kind) {
        return prefix + '/' + kind.kindName() + '/';
    }

    String of(ObjectKey key) {
        return key.namespace().isEmpty()
                ? of(key.kind()) + key.name()
                : of(key.kind()) + key.namespace() + '/' + key.name();
    }

    /**
     * Parses a key written in this layout.
     *
     * @throws IllegalArgumentException naming the key and the expected layout
     */
    ObjectKey parse(String key) {
        if (key.startsWith(all())) {
            String[] parts = key.substring(all().length()).split("/", -1);
            for (Kind kind : Kind.values()) {
                if (kind.kindName().equals(parts[0]) && parts.length == (kind.namespaced() ? 3 : 2)
                        && !parts[1].isEmpty() && !parts[parts.length - 1].isEmpty()) {
                    return kind.namespaced()
                            ? ObjectKey.of(kind, parts[1], parts[2])
                            : ObjectKey.of(kind, parts[1]);
                }
            }
        }
        throw new IllegalArgumentException("key: \"" + key + "\" (expected: " + prefix
                + "/<kind>/<namespace>/<name>, or " + prefix + "/Site/<name>)");
    }

    static ByteSequence bytes(String key) {
        return ByteSequence.from(key, UTF_8);
    }
}
