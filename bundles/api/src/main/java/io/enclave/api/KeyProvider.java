package io.enclave.api;

/**
 * Holds master keys and wraps and unwraps data keys with them; the master keys never leave it.
 * Registered with the service property {@link #PROP_NAME}. Thread-safe.
 */
public interface KeyProvider {

    /** Service property: the provider's name as written in encrypted files, e.g. {@code pkcs12}. */
    String PROP_NAME = "provider";

    /** A data key wrapped by a master key. */
    record WrappedKey(String keyId, byte[] wrapped) {
        public WrappedKey {
            wrapped = wrapped.clone();
        }

        @Override
        public byte[] wrapped() {
            return wrapped.clone();
        }
    }

    /** @return the provider name written into each encrypted file */
    String name();

    /** @return the id of the master key new data keys are wrapped with */
    String currentKeyId();

    /** Wraps a data key with the current master key. */
    WrappedKey wrap(byte[] dataKey);

    /**
     * @throws SecurityException when the key id is unknown or the wrapped key was tampered with
     */
    byte[] unwrap(String keyId, byte[] wrapped);

    /** Makes a new current master key; older ones stay for unwrapping. @return its id */
    String rotate();
}
