package io.enclave.security.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import io.enclave.api.CryptoService;
import io.enclave.api.KeyProvider;

/**
 * Envelope encryption over every registered {@link KeyProvider}: files name the provider that
 * wrapped their key, so keys from a PKCS12 store and from Vault can coexist. New files use the
 * provider named by configuration ({@code pkcs12} unless changed).
 */
@Component(configurationPid = "io.enclave.crypto")
public class EnvelopeCryptoService implements CryptoService {
    public @interface Config {
        String provider() default Pkcs12KeyProvider.NAME;
    }

    private final Map<String, KeyProvider> providers = new ConcurrentHashMap<>();
    private volatile String preferred = Pkcs12KeyProvider.NAME;

    @org.osgi.service.component.annotations.Activate
    @org.osgi.service.component.annotations.Modified
    void configure(Config config) {
        preferred = config.provider();
    }

    @Reference(cardinality = ReferenceCardinality.AT_LEAST_ONE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindProvider(KeyProvider provider) {
        providers.put(provider.name(), provider);
    }

    void unbindProvider(KeyProvider provider) {
        providers.remove(provider.name(), provider);
    }

    private KeyProvider provider(String name) throws IOException {
        KeyProvider p = providers.get(name);
        if (p == null) {
            throw new IOException("no key provider '" + name + "' is installed (have " + providers.keySet() + ")");
        }
        return p;
    }

    @Override
    public void encrypt(InputStream plaintext, OutputStream ciphertext) throws IOException {
        KeyProvider p = provider(preferred);
        byte[] key = SegmentedAead.newDataKey();
        try {
            KeyProvider.WrappedKey w = p.wrap(key);
            SegmentedAead.Header h = new SegmentedAead.Header(p.name(), w.keyId(), w.wrapped(),
                    SegmentedAead.DEFAULT_SEGMENT, SegmentedAead.newNoncePrefix());
            SegmentedAead.encrypt(key, h, plaintext, ciphertext);
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }

    @Override
    public InputStream decrypt(InputStream ciphertext) throws IOException {
        SegmentedAead.Header h = SegmentedAead.Header.read(ciphertext);
        byte[] key;
        try {
            key = provider(h.provider()).unwrap(h.keyId(), h.wrapped());
        } catch (SecurityException e) {
            throw new IOException(e.getMessage(), e);
        }
        return new SegmentedAead.DecryptingStream(key, h, ciphertext);
    }

    @Override
    public void rewrap(InputStream encrypted, OutputStream out) throws IOException {
        SegmentedAead.Header h = SegmentedAead.Header.read(encrypted);
        KeyProvider from = provider(h.provider());
        KeyProvider to = provider(preferred);
        byte[] key;
        try {
            key = from.unwrap(h.keyId(), h.wrapped());
        } catch (SecurityException e) {
            throw new IOException(e.getMessage(), e);
        }
        try {
            KeyProvider.WrappedKey w = to.wrap(key);
            new SegmentedAead.Header(to.name(), w.keyId(), w.wrapped(), h.segmentSize(), h.noncePrefix()).write(out);
            encrypted.transferTo(out);
            out.flush();
        } finally {
            Arrays.fill(key, (byte) 0);
        }
    }
}
