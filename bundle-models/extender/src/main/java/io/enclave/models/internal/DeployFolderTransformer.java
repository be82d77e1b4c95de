package io.enclave.models.internal;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.file.Path;

import org.apache.felix.fileinstall.ArtifactListener;
import org.apache.felix.fileinstall.ArtifactUrlTransformer;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.url.URLConstants;
import org.osgi.service.url.URLStreamHandlerService;

/**
 * Fileinstall's hook for {@code deploy/}: a dropped folder or zip with {@code model.json} at its root
 * becomes an {@code enclavemodel:} pointer bundle; deleting it uninstalls that bundle. Model bundles,
 * {@code .kar} files and features XML in {@code deploy/} are Karaf's own deployers' business.
 */
@Component(service = {ArtifactUrlTransformer.class, ArtifactListener.class})
public class DeployFolderTransformer implements ArtifactUrlTransformer {

    /** Up before this transformer, so Fileinstall never sees a pointer URL nobody can open. */
    @Reference(target = "(" + URLConstants.URL_HANDLER_PROTOCOL + "=" + BareModel.PROTOCOL + ")")
    private URLStreamHandlerService pointers;

    @Override
    public boolean canHandle(File artifact) {
        // Fileinstall hands a dropped folder over as a temporary jar of it
        return BareModel.isBareModel(artifact.toPath());
    }

    @Override
    public URL transform(URL artifact) throws MalformedURLException {
        // a folder arrives as jardir:/path, a zip as file:/path
        Path p = Path.of(artifact.getPath()).toAbsolutePath().normalize();
        return new URL(BareModel.PROTOCOL, null, -1, p.toString(), (java.net.URLStreamHandler) pointers);
    }
}
