package io.enclave.security.internal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Principal;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.security.auth.Subject;
import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.PasswordCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.LoginContext;
import javax.security.auth.login.LoginException;

import org.apache.karaf.jaas.boot.principal.RolePrincipal;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.AuditLog;
import io.enclave.api.AuthenticationException;
import io.enclave.api.Identity;
import io.enclave.api.SecurityService;

/**
 * Logs callers in through the JAAS realm {@code karaf} (whatever realm holds that name: Enclave's
 * user store by default, LDAP if an admin installs one), throttles repeated failures per user and
 * per address, and remembers a successful login for a short while so a client sending Basic
 * credentials on every request does not pay for an Argon2id hash each time. A remembered login still
 * in use is checked again in the background before it lapses, so its callers never wait for the hash;
 * each check vouches for the credentials for {@code cacheSeconds} from when it ran, as before.
 */
@Component(configurationPid = "io.enclave.security")
@Designate(ocd = JaasSecurityService.Config.class)
public class JaasSecurityService implements SecurityService {
    private static final Logger LOG = LoggerFactory.getLogger(JaasSecurityService.class);
    private static final int MAX_CACHED = 10_000;

    @ObjectClassDefinition(name = "Enclave security", description = "Login throttling and caching")
    public @interface Config {
        @AttributeDefinition(description = "Failed logins allowed per user before lock-outs start")
        int freeFailures() default 5;

        @AttributeDefinition(description = "Failed logins allowed per address before lock-outs start; higher than "
                + "per user, since many users may share one address (a proxy)")
        int freeFailuresPerAddress() default 20;

        @AttributeDefinition(description = "Window in which failures count, in seconds")
        int failureWindowSeconds() default 900;

        @AttributeDefinition(description = "Longest lock-out, in seconds")
        int maxLockSeconds() default 900;

        @AttributeDefinition(description = "How long a successful login is remembered, in seconds; 0 disables. "
                + "One used in its last quarter is checked again in the background, and remembered anew if it holds")
        int cacheSeconds() default 60;

        @AttributeDefinition(description = "Role permissions as Shiro wildcards, 'role = perm, perm'; a role listed "
                + "replaces its defaults (admin = *; analyst = model:read, model:infer; auditor = model:read, "
                + "audit:read, metrics:read)")
        String[] rolePermissions() default {};
    }

    private record Cached(Identity identity, long expires, long generation) {
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile FileUserDirectory directory;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile AuditLog audit;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC)
    private volatile FileApiKeys apiKeys;

    /** Bumped whenever a JAAS realm comes or goes: a remembered login is only as good as the realm that made it. */
    private final java.util.concurrent.atomic.AtomicLong realms = new java.util.concurrent.atomic.AtomicLong();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void bindRealm(org.apache.karaf.jaas.config.JaasRealm realm) {
        realms.incrementAndGet();
    }

    void unbindRealm(org.apache.karaf.jaas.config.JaasRealm realm) {
        realms.incrementAndGet();
    }

    /** Checks credentials against the realm; the JAAS login, or a stand-in in unit tests. */
    interface LoginCheck {
        Identity login(String user, char[] password) throws LoginException;
    }

    private final LoginCheck check;
    private final java.util.function.LongSupplier clock;
    /** Runs the checks ahead of expiry, one at a time: each is a deliberately costly hash. */
    private final java.util.concurrent.ThreadPoolExecutor refresher;

    public JaasSecurityService() {
        this.check = this::login;
        this.clock = System::currentTimeMillis;
        this.refresher = refresher();
    }

    /** For unit tests: another realm and clock. */
    JaasSecurityService(LoginCheck check, java.util.function.LongSupplier clock) {
        this.check = check;
        this.clock = clock;
        this.refresher = refresher();
    }

    private static java.util.concurrent.ThreadPoolExecutor refresher() {
        java.util.concurrent.ThreadPoolExecutor e = new java.util.concurrent.ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS,
                new java.util.concurrent.ArrayBlockingQueue<>(64), r -> {
                    Thread t = new Thread(r, "enclave-login-refresh");
                    t.setDaemon(true);
                    return t;
                });
        e.allowCoreThreadTimeOut(true);
        return e;
    }

    @org.osgi.service.component.annotations.Deactivate
    void deactivate() {
        refresher.shutdownNow();
    }

    @Override
    public Identity authenticateToken(String token, String remote) {
        LoginThrottle a = addressThrottle;
        long wait = a.waitMillis(remote);
        if (wait > 0) {
            audit("token", remote, "refused", "too many failed logins");
            throw new AuthenticationException("too many failed logins; try again later",
                    Math.max(1, TimeUnit.MILLISECONDS.toSeconds(wait + 999)));
        }
        FileApiKeys keys = apiKeys;
        Identity identity = keys == null ? null : keys.authenticate(token);
        if (identity == null) {
            a.failed(remote);
            audit("token", remote, "failure", "unknown or revoked API key");
            throw new AuthenticationException("invalid API key");
        }
        return identity;
    }

    private void audit(String user, String remote, String outcome, String detail) {
        AuditLog a = audit;
        if (a != null) {
            a.append(new AuditLog.Event(user, remote, "login", user, outcome, detail));
        }
    }

    private final byte[] cacheKey = new byte[32];
    /** Changes with {@link #cacheKey}, so a thread's keyed MAC is set up again. */
    private volatile int keyEpoch;
    /** One keyed MAC per thread: every request is fingerprinted, and looking up and keying a MAC costs more than using it. */
    private final ThreadLocal<KeyedMac> macs = new ThreadLocal<>();

    private record KeyedMac(Mac mac, int epoch) {
    }
    private volatile RolePermissionRealm authorizer = new RolePermissionRealm(RolePermissionRealm.defaults());
    private volatile LoginThrottle throttle;
    private volatile LoginThrottle addressThrottle;
    private volatile long cacheMillis;
    private final Map<String, Cached> cache = new LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
            return size() > MAX_CACHED;
        }
    };

    @Activate
    @Modified
    void configure(Config config) {
        new SecureRandom().nextBytes(cacheKey);
        keyEpoch++;
        authorizer = new RolePermissionRealm(RolePermissionRealm.parse(config.rolePermissions()));
        throttle = new LoginThrottle(config.freeFailures(), TimeUnit.SECONDS.toMillis(config.failureWindowSeconds()),
                TimeUnit.SECONDS.toMillis(config.maxLockSeconds()), System::currentTimeMillis);
        addressThrottle = new LoginThrottle(config.freeFailuresPerAddress(),
                TimeUnit.SECONDS.toMillis(config.failureWindowSeconds()),
                TimeUnit.SECONDS.toMillis(config.maxLockSeconds()), System::currentTimeMillis);
        cacheMillis = TimeUnit.SECONDS.toMillis(config.cacheSeconds());
        synchronized (cache) {
            cache.clear();
        }
    }

    /** Shiro decides, from the caller's roles and the configured role permissions. */
    @Override
    public void check(Identity caller, io.enclave.api.Permission permission) {
        if (!authorizer.permits(caller, permission)) {
            throw new io.enclave.api.AccessDeniedException("user '" + caller.name() + "' may not "
                    + SecurityService.describe(permission));
        }
    }

    @Override
    public Identity authenticate(String user, char[] password, String remote) {
        if (user == null || user.isEmpty() || user.length() > 256 || password == null || password.length > 1024) {
            throw new AuthenticationException("invalid user name or password");
        }
        LoginThrottle t = throttle;
        LoginThrottle a = addressThrottle;
        long wait = Math.max(t.waitMillis(user), a.waitMillis(remote));
        if (wait > 0) {
            audit(user, remote, "refused", "too many failed logins");
            throw new AuthenticationException("too many failed logins; try again later",
                    Math.max(1, TimeUnit.MILLISECONDS.toSeconds(wait + 999)));
        }
        String key = fingerprint(user, password);
        long now = clock.getAsLong();
        long generation = generation();
        Cached c;
        synchronized (cache) {
            c = cache.get(key);
        }
        // a password or role change invalidates every remembered login at once
        if (c != null && c.expires() > now && c.generation() == generation) {
            if (c.expires() - now <= cacheMillis / 4) {
                checkAhead(key, user, password, remote, generation);
            }
            return c.identity();
        }
        // the same credentials arriving at once (a client opening many connections) are checked once:
        // a password hash costs tens of milliseconds of CPU on purpose, and 32 at once stall a server
        java.util.concurrent.CompletableFuture<Identity> mine = new java.util.concurrent.CompletableFuture<>();
        java.util.concurrent.CompletableFuture<Identity> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            try {
                return running.join();
            } catch (java.util.concurrent.CancellationException notRun) {
                // a check ahead that never ran (its queue was full): gone from inFlight, so check here
                return authenticate(user, password, remote);
            } catch (java.util.concurrent.CompletionException e) {
                if (e.getCause() instanceof AuthenticationException refused) {
                    throw new AuthenticationException(refused.getMessage());
                }
                throw e;
            }
        }
        try {
            // a check ahead may have finished between the look above and taking inFlight: it stores
            // its answer before it leaves inFlight, so one more look spares a second hash
            Cached fresh;
            synchronized (cache) {
                fresh = cache.get(key);
            }
            if (fresh != null && fresh.expires() > now && fresh.generation() == generation) {
                mine.complete(fresh.identity());
                return fresh.identity();
            }
            Identity identity;
            try {
                identity = check.login(user, password);
            } catch (LoginException e) {
                t.failed(user);
                a.failed(remote);
                LOG.warn("failed login for user '{}' from {}", user, remote);
                audit(user, remote, "failure", "invalid user name or password");
                AuthenticationException refused = new AuthenticationException("invalid user name or password");
                mine.completeExceptionally(refused);
                throw refused;
            }
            t.succeeded(user);
            if (cacheMillis > 0) {
                synchronized (cache) {
                    cache.put(key, new Cached(identity, now + cacheMillis, generation));
                }
            }
            mine.complete(identity);
            return identity;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }

    private long generation() {
        FileUserDirectory users = directory;
        return (users == null ? 0 : users.generation()) * 1_000_003L + realms.get();
    }

    /**
     * Checks remembered credentials again on the refresher, while their callers go on with the login
     * remembered: if they still hold they are remembered for {@code cacheSeconds} from this check, if
     * not they are forgotten and the next request is refused. A caller arriving once they lapsed waits
     * for this check rather than start another.
     */
    private void checkAhead(String key, String user, char[] password, String remote, long generation) {
        java.util.concurrent.CompletableFuture<Identity> mine = new java.util.concurrent.CompletableFuture<>();
        if (inFlight.putIfAbsent(key, mine) != null) {
            return;
        }
        // the caller clears its copy as soon as it has its answer
        char[] copy = password.clone();
        try {
            refresher.execute(() -> {
                try {
                    // vouched for from when the check started, as on the request path
                    long at = clock.getAsLong();
                    Identity identity = check.login(user, copy);
                    synchronized (cache) {
                        if (generation() == generation) {
                            cache.put(key, new Cached(identity, at + cacheMillis, generation));
                        }
                    }
                    mine.complete(identity);
                } catch (LoginException e) {
                    synchronized (cache) {
                        cache.remove(key);
                    }
                    LOG.warn("remembered login for user '{}' no longer holds; forgotten", user);
                    audit(user, remote, "failure", "remembered login no longer holds");
                    mine.completeExceptionally(new AuthenticationException("invalid user name or password"));
                } catch (RuntimeException | Error e) {
                    mine.completeExceptionally(e);
                } finally {
                    Arrays.fill(copy, '\0');
                    inFlight.remove(key, mine);
                }
            });
        } catch (java.util.concurrent.RejectedExecutionException busy) {
            // a backlog of checks, or shutting down: the login lapses and is checked when next used
            Arrays.fill(copy, '\0');
            inFlight.remove(key, mine);
            mine.cancel(false);
        }
    }

    /** Logins being checked right now, by credential fingerprint. */
    private final java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.CompletableFuture<Identity>> inFlight =
            new java.util.concurrent.ConcurrentHashMap<>();

    private Identity login(String user, char[] password) throws LoginException {
        Subject subject = new Subject();
        Thread thread = Thread.currentThread();
        ClassLoader previous = thread.getContextClassLoader();
        // JAAS loads the realm's login module class through the context class loader
        thread.setContextClassLoader(getClass().getClassLoader());
        try {
            LoginContext context = new LoginContext(EnclaveJaasRealm.NAME, subject, callbacks -> {
                for (Callback c : callbacks) {
                    if (c instanceof NameCallback n) {
                        n.setName(user);
                    } else if (c instanceof PasswordCallback p) {
                        p.setPassword(password);
                    } else {
                        throw new UnsupportedCallbackException(c);
                    }
                }
            });
            context.login();
        } finally {
            thread.setContextClassLoader(previous);
        }
        Set<String> roles = new HashSet<>();
        for (Principal p : subject.getPrincipals()) {
            if (p instanceof RolePrincipal) {
                roles.add(p.getName());
            }
        }
        return new Identity(user, roles);
    }

    /** HMAC of the credentials under a per-process key: the cache never holds a password or a plain hash of it. */
    private String fingerprint(String user, char[] password) {
        try {
            int epoch = keyEpoch;
            KeyedMac keyed = macs.get();
            if (keyed == null || keyed.epoch() != epoch) {
                Mac m = Mac.getInstance("HmacSHA256");
                m.init(new SecretKeySpec(cacheKey, "HmacSHA256"));
                keyed = new KeyedMac(m, epoch);
                macs.set(keyed);
            }
            Mac mac = keyed.mac();
            mac.update(user.getBytes(StandardCharsets.UTF_8));
            mac.update((byte) 0);
            ByteBuffer b = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            byte[] out = mac.doFinal(bytes);
            Arrays.fill(bytes, (byte) 0);
            return Base64.getEncoder().encodeToString(out);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
