package io.enclave.api;

import java.io.InputStream;
import java.nio.file.Path;

import org.osgi.framework.Version;

/**
 * Installs and removes model versions, whatever shape they come in: a model bundle (a jar whose
 * manifest carries {@code Enclave-Model}), a bare folder or zip holding {@code model.json} and the
 * model file (Enclave makes a small pointer bundle for it; the model file stays where it is), or a
 * Maven coordinate. Every way in (shell, REST, the {@code deploy/} folder) ends here or in the same
 * extender, and every deployment is recorded in the audit log. Thread-safe.
 */
public interface ModelDeployer {

    /**
     * What was installed.
     *
     * @param model    the model name
     * @param version  the version
     * @param bundleId the OSGi bundle that carries it
     * @param state    its state when the call returned (READY, or LOADING when loading takes long)
     */
    record Deployment(String model, Version version, long bundleId, ModelState state) {
    }

    /**
     * Installs from a file (jar, zip, folder) or a {@code mvn:} URL, then waits (bounded) for the
     * version to load. A version that fails to load is uninstalled again.
     *
     * @throws InvalidInputException  the source is not a model (the message says what is wrong), or it
     *                                does not load
     * @throws ConflictException      that name and version is already installed
     * @throws ModelNotFoundException the file or Maven artifact does not exist
     */
    Deployment deploy(String source);

    /**
     * Installs an uploaded jar or zip: it is stored under Enclave's data folder first (streamed, at
     * most the configured size), then deployed as {@link #deploy(String)} does.
     */
    Deployment deploy(InputStream upload);

    /**
     * Removes one version. A version that came from the {@code deploy/} folder or an upload also
     * loses its file there, so it does not come back at the next start.
     *
     * @throws ModelNotFoundException no such version is installed
     */
    void undeploy(String model, Version version);

    /** @return the folder Enclave watches for dropped models */
    Path deployFolder();
}
