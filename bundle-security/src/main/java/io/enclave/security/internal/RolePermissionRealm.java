package io.enclave.security.internal;

import java.util.Collections;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.shiro.authc.AuthenticationInfo;
import org.apache.shiro.authc.AuthenticationToken;
import org.apache.shiro.authz.AuthorizationInfo;
import org.apache.shiro.authz.SimpleAuthorizationInfo;
import org.apache.shiro.realm.AuthorizingRealm;
import org.apache.shiro.subject.PrincipalCollection;
import org.apache.shiro.subject.SimplePrincipalCollection;

import io.enclave.api.Identity;
import io.enclave.api.Permission;

/**
 * Shiro decides what a caller may do: roles (from the JAAS login) map to Shiro wildcard permissions
 * ({@code model:infer}, {@code audit:*}, {@code *}). Authentication stays with JAAS, so this realm
 * only authorizes.
 */
final class RolePermissionRealm extends AuthorizingRealm {
    static final String NAME = "enclave";
    /** How many distinct role sets are remembered; directories seldom have more than a handful. */
    private static final int MAX_ROLE_SETS = 1024;

    private final Map<String, Set<String>> permissionsByRole;
    /** What each role set may do, worked out on its first check. */
    private final ConcurrentHashMap<Set<String>, Set<Permission>> decisions = new ConcurrentHashMap<>();

    RolePermissionRealm(Map<String, Set<String>> permissionsByRole) {
        this.permissionsByRole = Map.copyOf(permissionsByRole);
        setName(NAME);
        setAuthorizationCachingEnabled(false);
        setAuthenticationCachingEnabled(false);
    }

    /** The default table: each role gets the permissions {@link Permission} grants it. */
    static Map<String, Set<String>> defaults() {
        Map<String, Set<String>> map = new HashMap<>();
        for (Permission p : Permission.values()) {
            for (String role : p.roles()) {
                map.computeIfAbsent(role, r -> new LinkedHashSet<>()).add(p.wildcard());
            }
        }
        map.put(Permission.Roles.ADMIN, Set.of("*"));
        return map;
    }

    /**
     * Parses {@code role = perm, perm} entries, one per array element or several separated by
     * {@code ;} (a .cfg file holds one string); a role listed here replaces its default permissions.
     */
    static Map<String, Set<String>> parse(String[] entries) {
        Map<String, Set<String>> map = new HashMap<>(defaults());
        java.util.List<String> lines = new java.util.ArrayList<>();
        for (String e : entries) {
            if (e != null) {
                lines.addAll(java.util.List.of(e.split(";")));
            }
        }
        for (String line : lines) {
            if (line == null || line.isBlank()) {
                continue;
            }
            String[] kv = line.split("=", 2);
            if (kv.length != 2 || kv[0].isBlank()) {
                throw new IllegalArgumentException("rolePermissions entry '" + line + "' is not 'role = permission, ...'");
            }
            Set<String> perms = new LinkedHashSet<>();
            for (String p : kv[1].split(",")) {
                if (!p.isBlank()) {
                    perms.add(p.trim());
                }
            }
            map.put(kv[0].trim(), perms);
        }
        return map;
    }

    boolean permits(Identity caller, Permission permission) {
        // Shiro resolves every wildcard string of the caller's roles on each check (tens of microseconds
        // per request); the answer depends only on the role set and this realm's fixed table, so it is
        // worked out once per role set. A new table comes with a new realm, so nothing here goes stale.
        Set<Permission> granted = decisions.get(caller.roles());
        if (granted == null) {
            if (decisions.size() >= MAX_ROLE_SETS) {
                decisions.clear();
            }
            granted = decisions.computeIfAbsent(caller.roles(), this::granted);
        }
        return granted.contains(permission);
    }

    private Set<Permission> granted(Set<String> roles) {
        SimplePrincipalCollection principals = new SimplePrincipalCollection(new Identity("roles", roles), NAME);
        Set<Permission> granted = EnumSet.noneOf(Permission.class);
        for (Permission p : Permission.values()) {
            if (isPermitted(principals, p.wildcard())) {
                granted.add(p);
            }
        }
        return Collections.unmodifiableSet(granted);
    }

    @Override
    protected AuthorizationInfo doGetAuthorizationInfo(PrincipalCollection principals) {
        Identity caller = principals.oneByType(Identity.class);
        SimpleAuthorizationInfo info = new SimpleAuthorizationInfo();
        if (caller != null) {
            info.setRoles(new LinkedHashSet<>(caller.roles()));
            for (String role : caller.roles()) {
                info.addStringPermissions(permissionsByRole.getOrDefault(role, Set.of()));
            }
        }
        return info;
    }

    @Override
    public boolean supports(AuthenticationToken token) {
        return false;
    }

    @Override
    protected AuthenticationInfo doGetAuthenticationInfo(AuthenticationToken token) {
        return null;
    }
}
