package io.isthmus.mesh.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.isthmus.mesh.config.ConfigValidationException;
import io.isthmus.mesh.config.MeshObjectCodec;
import io.isthmus.mesh.model.MeshObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The last configuration a router applied, kept on disk as a multi-document YAML stream of the
 * codec, with the store revision in a header comment. Written to a temporary file and moved into
 * place, so a crash never leaves half a file behind.
 */
public final class LastGoodFile {

    private static final Pattern REVISION = Pattern.compile("^# revision: (\\d+)$", Pattern.MULTILINE);

    /** The objects of a last-good file and the revision they were read at. */
    public static final class Contents {
        private final long revision;
        private final List<MeshObject> objects;

        Contents(long revision, List<MeshObject> objects) {
            this.revision = revision;
            this.objects = List.copyOf(objects);
        }

        /** @return the store revision the objects were read at */
        public long revision() {
            return revision;
        }

        /** @return the objects */
        public List<MeshObject> objects() {
            return objects;
        }
    }

    private final Path file;
    private final MeshObjectCodec codec;

    /**
     * Creates a handle on the file.
     *
     * @param file the file, e.g. {@code <stateDir>/last-good.yaml}
     * @param codec the codec
     */
    public LastGoodFile(Path file, MeshObjectCodec codec) {
        this.file = file;
        this.codec = codec;
    }

    /** @return the file */
    public Path path() {
        return file;
    }

    /**
     * Writes the objects as of a revision, replacing the file atomically.
     *
     * @param revision the store revision
     * @param objects the objects
     */
    public synchronized void write(long revision, List<? extends MeshObject> objects) {
        String text = "# Isthmus last-good configuration: every object as of the store revision below.\n"
                + "# revision: " + revision + "\n" + codec.toYaml(objects);
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.writeString(tmp, text, UTF_8);
            try {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the last-good config " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads the file.
     *
     * @return the contents, or empty when there is no file
     * @throws ConfigValidationException when the file holds an invalid object (the message names the file)
     * @throws UncheckedIOException when the file cannot be read
     */
    public Optional<Contents> read() {
        String text;
        try {
            text = Files.readString(file, UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the last-good config " + file + ": " + e.getMessage(), e);
        }
        Matcher matcher = REVISION.matcher(text);
        long revision = matcher.find() ? Long.parseLong(matcher.group(1)) : 0;
        String body = text.replaceAll("(?m)^#.*\\n", "");
        if (body.isBlank()) {
            return Optional.of(new Contents(revision, List.of()));
        }
        try {
            return Optional.of(new Contents(revision, codec.readYaml(body)));
        } catch (ConfigValidationException e) {
            throw new ConfigValidationException(e.fieldPath(), "in " + file + ": " + e.getMessage());
        }
    }
}
