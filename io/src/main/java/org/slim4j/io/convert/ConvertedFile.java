package org.slim4j.io.convert;

import java.nio.file.Path;

/** One file a converter wrote, with the number of records in it. */
public record ConvertedFile(Path path, String split, long records) {
}
