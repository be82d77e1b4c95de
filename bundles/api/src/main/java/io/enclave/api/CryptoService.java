package io.enclave.api;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/**
 * AES-256-GCM envelope encryption of models and datasets at rest: a fresh data key per file,
 * wrapped by a {@link KeyProvider}'s master key, and the content encrypted in authenticated
 * segments so a file of any size streams through a bounded buffer. Any changed, removed,
 * reordered or truncated byte makes decryption fail. Thread-safe.
 */
public interface CryptoService {

    /** Encrypts everything from {@code plaintext} to {@code ciphertext}; closes neither. */
    void encrypt(InputStream plaintext, OutputStream ciphertext) throws IOException;

    /**
     * @return a stream of the plaintext; a read throws {@link java.io.IOException} naming the
     *         problem as soon as a segment fails authentication
     * @throws IOException when the header is not an Enclave encrypted file or its key cannot be unwrapped
     */
    InputStream decrypt(InputStream ciphertext) throws IOException;

    /**
     * Re-wraps a file's data key with the current master key: the header changes, the content does
     * not. Reads {@code encrypted} and writes the re-wrapped file to {@code out}.
     */
    void rewrap(InputStream encrypted, OutputStream out) throws IOException;
}
