package org.flowfiji.model;

import java.io.IOException;
import java.nio.file.Path;

/** A model file that cannot be used, with a message naming the file and the problem. */
public final class ModelFileException extends IOException {
    public ModelFileException(Path file, String problem) {
        super("Model file " + file + ": " + problem);
    }

    public ModelFileException(Path file, String problem, Throwable cause) {
        super("Model file " + file + ": " + problem, cause);
    }
}
