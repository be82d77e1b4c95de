package io.enclave.security.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import javax.security.auth.login.AppConfigurationEntry;
import javax.security.auth.login.AppConfigurationEntry.LoginModuleControlFlag;

import org.apache.karaf.jaas.boot.ProxyLoginModule;
import org.apache.karaf.jaas.config.JaasRealm;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import io.enclave.api.Permission;

/**
 * Users from a directory (LDAP or Active Directory): the realm {@code karaf} at rank 20, above the
 * local store, with Karaf's LDAP login module first and the local user store after it (so a local
 * admin still gets in when the directory is down). Directory groups map to Enclave roles; each
 * Enclave role also brings the container roles it implies, as for local users. Active only when
 * {@code etc/io.enclave.security.ldap.cfg} exists.
 */
@Component(service = JaasRealm.class, configurationPid = "io.enclave.security.ldap",
        configurationPolicy = ConfigurationPolicy.REQUIRE, property = "org.apache.karaf.jaas.realm=karaf")
@Designate(ocd = LdapJaasRealm.Config.class)
public class LdapJaasRealm implements JaasRealm {
    static final String LDAP_MODULE = "org.apache.karaf.jaas.modules.ldap.LDAPLoginModule";
    static final int RANK = 20;

    @ObjectClassDefinition(name = "Enclave directory users (LDAP)")
    public @interface Config {
        @AttributeDefinition(description = "ldap:// or ldaps:// URL of the directory")
        String url();

        @AttributeDefinition(description = "DN to bind as for searches; empty for anonymous")
        String bindDn() default "";

        @AttributeDefinition(description = "Password of bindDn", type = org.osgi.service.metatype.annotations.AttributeType.PASSWORD)
        String bindPassword() default "";

        @AttributeDefinition(description = "Where users are, e.g. ou=people,dc=example,dc=com")
        String userBaseDn();

        @AttributeDefinition(description = "User search filter; %u is the login name")
        String userFilter() default "(uid=%u)";

        @AttributeDefinition(description = "Where groups are, e.g. ou=groups,dc=example,dc=com")
        String roleBaseDn();

        @AttributeDefinition(description = "Group search filter; %fqdn is the user's full DN, %dn its relative DN, %u the login name")
        String roleFilter() default "(member=%fqdn)";

        @AttributeDefinition(description = "Group attribute holding the group name")
        String roleNameAttribute() default "cn";

        @AttributeDefinition(description = "group=role pairs, e.g. 'ai-admins=admin;ai-analysts=analyst;ai-auditors=auditor'")
        String roleMapping();

        @AttributeDefinition(description = "Also accept Enclave's local users (recommended: keeps a break-glass admin)")
        boolean localUsers() default true;
    }

    private AppConfigurationEntry[] entries;

    @Activate
    void activate(BundleContext context, Config config) {
        Bundle modules = null;
        for (Bundle b : context.getBundles()) {
            if ("org.apache.karaf.jaas.modules".equals(b.getSymbolicName())) {
                modules = b;
            }
        }
        if (modules == null) {
            throw new IllegalStateException("Karaf's JAAS login modules bundle is not installed");
        }
        Map<String, Object> ldap = new HashMap<>();
        ldap.put(ProxyLoginModule.PROPERTY_MODULE, LDAP_MODULE);
        ldap.put(ProxyLoginModule.PROPERTY_BUNDLE, Long.toString(modules.getBundleId()));
        ldap.put("connection.url", config.url());
        if (!config.bindDn().isBlank()) {
            ldap.put("connection.username", config.bindDn());
            ldap.put("connection.password", config.bindPassword());
        }
        ldap.put("user.base.dn", config.userBaseDn());
        ldap.put("user.filter", config.userFilter());
        ldap.put("user.search.subtree", "true");
        ldap.put("role.base.dn", config.roleBaseDn());
        ldap.put("role.filter", config.roleFilter());
        ldap.put("role.name.attribute", config.roleNameAttribute());
        ldap.put("role.search.subtree", "true");
        ldap.put("role.mapping", expand(config.roleMapping()));
        ldap.put("authentication", "simple");
        ldap.put("allowEmptyPasswords", "false");
        ldap.put("disableCache", "true");
        if (config.url().startsWith("ldaps:")) {
            ldap.put("ssl", "true");
        }
        List<AppConfigurationEntry> list = new ArrayList<>();
        list.add(new AppConfigurationEntry(ProxyLoginModule.class.getName(), LoginModuleControlFlag.SUFFICIENT, ldap));
        if (config.localUsers()) {
            Map<String, Object> local = new HashMap<>();
            local.put(ProxyLoginModule.PROPERTY_MODULE, EnclaveLoginModule.class.getName());
            local.put(ProxyLoginModule.PROPERTY_BUNDLE, Long.toString(context.getBundle().getBundleId()));
            list.add(new AppConfigurationEntry(ProxyLoginModule.class.getName(), LoginModuleControlFlag.SUFFICIENT, local));
        }
        entries = list.toArray(new AppConfigurationEntry[0]);
    }

    /** Adds the container roles each Enclave role implies: {@code g=analyst} becomes {@code g=analyst,ssh}. */
    static String expand(String mapping) {
        List<String> out = new ArrayList<>();
        for (String pair : mapping.split(";")) {
            String[] kv = pair.trim().split("=", 2);
            if (kv.length != 2 || kv[0].isBlank()) {
                throw new IllegalArgumentException("roleMapping entry '" + pair + "' is not group=role[,role]");
            }
            Set<String> roles = new LinkedHashSet<>();
            for (String r : kv[1].split(",")) {
                String role = r.trim();
                if (!Permission.Roles.ALL.contains(role)) {
                    throw new IllegalArgumentException("roleMapping names unknown role '" + role + "' (roles: admin, analyst, auditor)");
                }
                roles.add(role);
                roles.addAll(EnclaveLoginModule.CONTAINER_ROLES.getOrDefault(role, Set.of()));
            }
            out.add(kv[0].trim() + "=" + String.join(",", roles));
        }
        return String.join(";", out);
    }

    @Override
    public String getName() {
        return EnclaveJaasRealm.NAME;
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
