package io.enclave.api;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where a model's files come from: a model bundle, a folder, a storage tier.
 *
 * <p>Entries are names relative to the model's root as declared in its {@code model.json}
 * (e.g. {@code model.onnx}, {@code tokenizer.json}); implementations reject names that would
 * leave that root. Implementations are thread-safe.
 */
public interface ArtifactSource {

    /**
     * @param entry a relative entry name
     * @return whether the entry exists
     */
    boolean exists(String entry);

    /**
     * Opens an entry for reading; the caller closes the stream.
     *
     * @param entry a relative entry name
     * @return the entry's bytes
     * @throws java.io.FileNotFoundException when the entry does not exist
     * @throws IOException                   when it cannot be read
     */
    InputStream open(String entry) throws IOException;

    /** @return a human-readable location for logs and errors, e.g. {@code bundle 42 (minilm 1.0.0)} */
    String describe();
}
