package io.enclave.itests;

import com.unboundid.ldap.listener.InMemoryDirectoryServer;
import com.unboundid.ldap.listener.InMemoryDirectoryServerConfig;
import com.unboundid.ldap.listener.InMemoryListenerConfig;

/**
 * A real LDAP server (UnboundID's in-memory directory) on a free loopback port, run in the test
 * driver: people lara (analyst group) and otto (auditor group). Only the driver touches this class.
 */
final class Directory {
    static final String BASE = "dc=example,dc=com";
    private static InMemoryDirectoryServer server;

    private Directory() {
    }

    static synchronized int start() {
        if (server != null) {
            return server.getListenPort();
        }
        try {
            InMemoryDirectoryServerConfig config = new InMemoryDirectoryServerConfig(BASE);
            config.setListenerConfigs(InMemoryListenerConfig.createLDAPConfig("default",
                    java.net.InetAddress.getLoopbackAddress(), 0, null));
            config.setSchema(null);
            server = new InMemoryDirectoryServer(config);
            server.add("dn: " + BASE, "objectClass: top", "objectClass: domain", "dc: example");
            server.add("dn: ou=people," + BASE, "objectClass: organizationalUnit", "ou: people");
            server.add("dn: ou=groups," + BASE, "objectClass: organizationalUnit", "ou: groups");
            server.add("dn: uid=lara,ou=people," + BASE, "objectClass: inetOrgPerson", "uid: lara", "cn: Lara", "sn: L",
                    "userPassword: lara-directory-pw");
            server.add("dn: uid=otto,ou=people," + BASE, "objectClass: inetOrgPerson", "uid: otto", "cn: Otto", "sn: O",
                    "userPassword: otto-directory-pw");
            server.add("dn: cn=ai-analysts,ou=groups," + BASE, "objectClass: groupOfNames", "cn: ai-analysts",
                    "member: uid=lara,ou=people," + BASE);
            server.add("dn: cn=ai-auditors,ou=groups," + BASE, "objectClass: groupOfNames", "cn: ai-auditors",
                    "member: uid=otto,ou=people," + BASE);
            server.startListening();
            InMemoryDirectoryServer s = server;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> s.shutDown(true)));
            return server.getListenPort();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test directory", e);
        }
    }
}
