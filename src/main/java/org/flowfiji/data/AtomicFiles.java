package org.flowfiji.data;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Puts a completely written temporary file in place of its target in one step, so a reader sees
 * either the old file or the new one, never a half-written one.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /**
     * Renames {@code tmp} (in the target's folder) to {@code target}, replacing it; atomically
     * where the file system can, otherwise as a plain replacing rename.
     */
    public static void moveIntoPlace(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
        }
    }
}
