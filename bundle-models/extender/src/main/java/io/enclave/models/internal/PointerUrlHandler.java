package io.enclave.models.internal;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URL;
import java.net.URLConnection;
import java.nio.file.Path;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.url.AbstractURLStreamHandlerService;
import org.osgi.service.url.URLConstants;
import org.osgi.service.url.URLStreamHandlerService;

/**
 * {@code enclavemodel:/path/to/folder-or.zip}: the pointer bundle of a bare model, made on the fly
 * from its model.json. Only paths inside {@link ModelRoots} are served.
 */
@Component(service = URLStreamHandlerService.class,
        property = URLConstants.URL_HANDLER_PROTOCOL + "=" + BareModel.PROTOCOL)
public class PointerUrlHandler extends AbstractURLStreamHandlerService {

    @Override
    public URLConnection openConnection(URL u) throws IOException {
        Path location;
        try {
            location = BareModel.location(u.getPath(), ModelRoots.all());
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
        }
        return new URLConnection(u) {
            private byte[] bytes;

            @Override
            public void connect() throws IOException {
                if (bytes == null) {
                    try {
                        bytes = BareModel.pointerBundle(location);
                    } catch (IllegalArgumentException e) {
                        throw new IOException(location + " is not a model: " + e.getMessage());
                    }
                }
            }

            @Override
            public InputStream getInputStream() throws IOException {
                connect();
                return new ByteArrayInputStream(bytes);
            }
        };
    }
}
