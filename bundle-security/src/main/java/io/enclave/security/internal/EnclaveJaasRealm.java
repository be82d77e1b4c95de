package io.enclave.security.internal;

import java.util.HashMap;
import java.util.Map;

import javax.security.auth.login.AppConfigurationEntry;

import org.apache.karaf.jaas.boot.ProxyLoginModule;
import org.apache.karaf.jaas.config.JaasRealm;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * Replaces Karaf's {@code karaf} realm (rank 0, {@code etc/users.properties}) with one backed by
 * Enclave's user store, at a higher rank. SSH, the local JMX connector, Jolokia and Enclave's own
 * HTTP endpoints all log in through this realm, so there is one user base. Another bundle can
 * swap in a different realm (LDAP) by registering {@code karaf} at a higher rank still.
 */
@Component(service = JaasRealm.class, immediate = true, property = "org.apache.karaf.jaas.realm=karaf")
public class EnclaveJaasRealm implements JaasRealm {
    static final String NAME = "karaf";
    static final int RANK = 10;

    private final FileUserDirectory directory;
    private AppConfigurationEntry[] entries;

    @Activate
    public EnclaveJaasRealm(@Reference(name = "directory") FileUserDirectory directory, BundleContext context) {
        this.directory = directory;
        Map<String, Object> options = new HashMap<>();
        options.put(ProxyLoginModule.PROPERTY_MODULE, EnclaveLoginModule.class.getName());
        options.put(ProxyLoginModule.PROPERTY_BUNDLE, Long.toString(context.getBundle().getBundleId()));
        entries = new AppConfigurationEntry[] {new AppConfigurationEntry(ProxyLoginModule.class.getName(),
                AppConfigurationEntry.LoginModuleControlFlag.REQUIRED, options)};
        EnclaveLoginModule.directory = directory;
    }

    @Deactivate
    void deactivate() {
        if (EnclaveLoginModule.directory == directory) {
            EnclaveLoginModule.directory = null;
        }
    }

    @Override
    public String getName() {
        return NAME;
    }

    @Override
    public int getRank() {
        return RANK;
    }

    @Override
    public AppConfigurationEntry[] getEntries() {
        return entries.clone();
    }
}
