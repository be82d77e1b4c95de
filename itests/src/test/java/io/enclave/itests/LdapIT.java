package io.enclave.itests;

import static org.junit.Assert.assertEquals;

import java.time.Duration;
import java.util.Hashtable;

import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.karaf.options.KarafDistributionOption;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.service.cm.Configuration;

/** The realm is swappable: with a directory configured, its users log in with the roles its groups grant. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class LdapIT extends EnclaveTestSupport {
    private static final String TEXT = "{\"inputs\": [{\"name\": \"text\", \"datatype\": \"BYTES\", \"shape\": [1], \"data\": [\"hello\"]}]}";
    private static final Credentials LARA = new Credentials("lara", "lara-directory-pw");
    private static final Credentials OTTO = new Credentials("otto", "otto-directory-pw");

    @Override
    @org.ops4j.pax.exam.Configuration
    public Option[] config() {
        Option[] base = super.config();
        Option[] all = java.util.Arrays.copyOf(base, base.length + 1);
        // runs in the test driver: the directory lives there, Enclave reaches it over loopback
        all[base.length] = KarafDistributionOption.editConfigurationFilePut("etc/system.properties", "enclave.itest.ldap.port",
                Integer.toString(Directory.start()));
        return all;
    }

    @Before
    public void setUp() throws Exception {
        await("/v2/health/ready", Duration.ofSeconds(120), this::ready);
    }

    @Test
    public void directoryUsersGetTheRolesTheirGroupsMapTo() throws Exception {
        assertEquals("no directory yet", 401, get("/v2/models/minilm", new Credentials("lara", "x-wrong-password")).status());
        Configuration ldap = configurationAdmin.getConfiguration("io.enclave.security.ldap", null);
        Hashtable<String, Object> p = new Hashtable<>();
        p.put("url", "ldap://127.0.0.1:" + System.getProperty("enclave.itest.ldap.port"));
        p.put("userBaseDn", "ou=people,dc=example,dc=com");
        p.put("roleBaseDn", "ou=groups,dc=example,dc=com");
        p.put("roleMapping", "ai-analysts=analyst;ai-auditors=auditor");
        ldap.update(p);
        try {
            // wait for the realm itself: polling with lara's password would lock her out
            await("the directory realm", Duration.ofSeconds(30), () -> realms() == 3);
            // the realm SSH and JMX use: the directory user with the roles her group maps to (the JAAS
            // configuration picks a new realm up asynchronously, hence the wait)
            java.util.Set<String> roles = new java.util.TreeSet<>();
            await("lara in the karaf realm", Duration.ofSeconds(30), () -> {
                roles.clear();
                roles.addAll(realmRoles("lara", "lara-directory-pw"));
                return !roles.isEmpty();
            });
            assertEquals("[analyst, ssh]", roles.toString());
            Reply first = get("/v2/models/minilm", LARA);
            assertEquals(first.body(), 200, first.status());
            assertEquals(200, post("/v2/models/minilm/infer", TEXT, LARA).status());
            assertEquals(403, get("/enclave/v1/audit", LARA).status());
            assertEquals(403, post("/v2/models/minilm/infer", TEXT, OTTO).status());
            assertEquals(200, get("/enclave/v1/audit", OTTO).status());
            assertEquals(401, get("/v2/models/minilm", new Credentials("lara", "not-her-password")).status());
            assertEquals("the local admin still gets in", 200, get("/enclave/v1/audit", admin()).status());
        } finally {
            ldap.delete();
        }
        await("the directory realm to go", Duration.ofSeconds(30), () -> realms() == 2
                && realmRoles("lara", "lara-directory-pw").isEmpty());
        assertEquals(401, get("/v2/models/minilm", LARA).status());
    }

    private static java.util.Set<String> realmRoles(String user, String password) {
        try {
            javax.security.auth.login.LoginContext lc = new javax.security.auth.login.LoginContext("karaf",
                    new javax.security.auth.Subject(), callbacks -> {
                        for (var c : callbacks) {
                            if (c instanceof javax.security.auth.callback.NameCallback n) {
                                n.setName(user);
                            } else if (c instanceof javax.security.auth.callback.PasswordCallback pc) {
                                pc.setPassword(password.toCharArray());
                            }
                        }
                    });
            lc.login();
            java.util.Set<String> roles = new java.util.TreeSet<>();
            lc.getSubject().getPrincipals(org.apache.karaf.jaas.boot.principal.RolePrincipal.class).forEach(r -> roles.add(r.getName()));
            return roles;
        } catch (javax.security.auth.login.LoginException e) {
            return java.util.Set.of();
        }
    }

    /** JAAS realms registered: Karaf's own, Enclave's, and the directory's when configured. */
    private int realms() {
        try {
            var refs = bundleContext.getServiceReferences("org.apache.karaf.jaas.config.JaasRealm", null);
            return refs == null ? 0 : refs.length;
        } catch (Exception e) {
            return -1;
        }
    }
}
