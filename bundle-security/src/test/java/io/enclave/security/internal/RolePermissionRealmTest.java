package io.enclave.security.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Set;

import org.junit.jupiter.api.Test;

import io.enclave.api.Identity;
import io.enclave.api.Permission;

class RolePermissionRealmTest {

    private static String table(RolePermissionRealm realm) {
        StringBuilder b = new StringBuilder();
        for (String role : new String[] {"admin", "analyst", "auditor", "nobody"}) {
            b.append(role).append(':');
            for (Permission p : Permission.values()) {
                b.append(realm.permits(new Identity("u", Set.of(role)), p) ? '+' : '-');
            }
            b.append(' ');
        }
        return b.toString().trim();
    }

    @Test
    void theDefaultsAreTheRoleTable() {
        // MODEL_READ, MODEL_INFER, MODEL_MANAGE, AUDIT_READ, METRICS_READ, USER_MANAGE
        assertEquals("admin:++++++ analyst:++---- auditor:+--++- nobody:------",
                table(new RolePermissionRealm(RolePermissionRealm.defaults())));
        for (Permission p : Permission.values()) {
            for (String role : Permission.Roles.ALL) {
                assertEquals(p.roles().contains(role),
                        new RolePermissionRealm(RolePermissionRealm.defaults()).permits(new Identity("u", Set.of(role)), p));
            }
        }
    }

    @Test
    void operatorsCanReshapeRolesWithShiroWildcards() {
        RolePermissionRealm realm = new RolePermissionRealm(RolePermissionRealm.parse(new String[] {
            "analyst = model:*; auditor = audit:read", "ops = metrics:*"}));
        assertEquals("admin:++++++ analyst:+++--- auditor:---+-- nobody:------", table(realm));
        assertEquals(true, realm.permits(new Identity("u", Set.of("ops")), Permission.METRICS_READ));
        assertThrows(IllegalArgumentException.class, () -> RolePermissionRealm.parse(new String[] {"no equals sign"}));
    }

    @Test
    void aRememberedDecisionFollowsTheWholeRoleSet() {
        RolePermissionRealm realm = new RolePermissionRealm(RolePermissionRealm.defaults());
        Identity analyst = new Identity("u", Set.of("analyst"));
        Identity both = new Identity("u", Set.of("analyst", "auditor"));
        for (int round = 0; round < 2; round++) {
            assertEquals(false, realm.permits(analyst, Permission.AUDIT_READ));
            assertEquals(true, realm.permits(both, Permission.AUDIT_READ));
            assertEquals(true, realm.permits(both, Permission.MODEL_INFER));
            assertEquals(false, realm.permits(both, Permission.USER_MANAGE));
        }
        // more role sets than are remembered: every answer stays right while old ones are dropped
        for (int i = 0; i < 3000; i++) {
            Identity odd = new Identity("u", Set.of("team-" + i, i % 2 == 0 ? "analyst" : "auditor"));
            assertEquals(i % 2 == 0, realm.permits(odd, Permission.MODEL_INFER), "role set " + i);
            assertEquals(i % 2 != 0, realm.permits(odd, Permission.AUDIT_READ), "role set " + i);
        }
        assertEquals(true, realm.permits(new Identity("root", Set.of("admin")), Permission.USER_MANAGE));
    }
}
