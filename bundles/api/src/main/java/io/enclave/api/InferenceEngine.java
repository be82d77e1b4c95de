package io.enclave.api;

/**
 * Runs models of one kind on one device. Registered once per engine and device with the service
 * properties {@link #PROP_ENGINE} and {@link #PROP_DEVICE}, so a model can be placed by filter.
 *
 * <p>Implementations are thread-safe.
 */
public interface InferenceEngine {

    /** Service property: the engine name, e.g. {@code onnxruntime}. */
    String PROP_ENGINE = "engine";
    /** Service property: the device, e.g. {@code cpu} or {@code gpu0}. */
    String PROP_DEVICE = "device";

    /** @return the engine name a {@link ModelDescriptor#engine()} refers to */
    String name();

    /** @return the device this service runs models on, e.g. {@code cpu} */
    String device();

    /** @return the version of the underlying runtime, for operators */
    String version();

    /**
     * Loads a model version. May take seconds; never called on a request thread.
     *
     * @param descriptor what to load
     * @param source     where its files are
     * @return the loaded model, owning native memory until {@link LoadedModel#close()}
     * @throws ModelLoadException when the artifacts are missing, malformed or do not match the
     *                            descriptor
     */
    LoadedModel load(ModelDescriptor descriptor, ArtifactSource source) throws ModelLoadException;
}
