package io.enclave.security.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.annotation.Annotation;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import javax.security.auth.login.LoginException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import io.enclave.api.AuthenticationException;
import io.enclave.api.Identity;

class JaasSecurityServiceTest {
    private final AtomicLong now = new AtomicLong(1_000_000);
    private final AtomicInteger checks = new AtomicInteger();
    private volatile String password = "right horse";
    /** When set, a check waits for it: an Argon2id hash that takes a while. */
    private volatile CountDownLatch slow;
    private final JaasSecurityService service = new JaasSecurityService((user, pw) -> {
        checks.incrementAndGet();
        CountDownLatch s = slow;
        if (s != null) {
            try {
                s.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (!new String(pw).equals(password)) {
            throw new LoginException("wrong password");
        }
        return new Identity(user, Set.of("analyst"));
    }, now::get);

    JaasSecurityServiceTest() {
        service.configure(new JaasSecurityService.Config() {
            @Override
            public Class<? extends Annotation> annotationType() {
                return JaasSecurityService.Config.class;
            }

            @Override
            public int freeFailures() {
                return 5;
            }

            @Override
            public int freeFailuresPerAddress() {
                return 20;
            }

            @Override
            public int failureWindowSeconds() {
                return 900;
            }

            @Override
            public int maxLockSeconds() {
                return 900;
            }

            @Override
            public int cacheSeconds() {
                return 60;
            }

            @Override
            public String[] rolePermissions() {
                return new String[0];
            }
        });
    }

    @AfterEach
    void stop() {
        service.deactivate();
    }

    private Identity login() {
        return service.authenticate("erp", "right horse".toCharArray(), "10.0.0.7");
    }

    private void advance(long seconds) {
        now.addAndGet(TimeUnit.SECONDS.toMillis(seconds));
    }

    @Test
    void aRememberedLoginInUseIsCheckedAgainAheadAndItsCallersNeverWaitForTheHash() throws Exception {
        assertEquals("erp", login().name());
        assertEquals(1, checks.get());
        advance(30);
        login();
        assertEquals(1, checks.get(), "halfway through its minute the login is simply remembered");
        advance(20);
        slow = new CountDownLatch(1);
        Identity meanwhile = assertTimeoutPreemptively(Duration.ofSeconds(2), this::login,
                "a caller in the last quarter must not wait for the check it starts");
        assertEquals("erp", meanwhile.name());
        for (int i = 0; i < 500 && checks.get() < 2; i++) {
            Thread.sleep(10);
        }
        assertEquals(2, checks.get(), "one check ahead, in the background");
        assertTimeoutPreemptively(Duration.ofSeconds(2), this::login, "nor do the callers while it runs");
        assertEquals(2, checks.get(), "callers while it runs start no second check");
        slow.countDown();
        // past the first login's minute (it ended at +60 s), inside the minute the check ahead vouches
        // for (+50 s to +110 s) and short of that minute's last quarter, which would start a check ahead
        // of its own in the background
        advance(20);
        assertEquals("erp", login().name());
        assertEquals(2, checks.get(), "remembered anew from the check ahead: no hash on the request path");
        Thread.sleep(100);
        assertEquals(2, checks.get(), "nor one in the background: the new minute is not in its last quarter");
    }

    @Test
    void aRememberedLoginThatNoLongerHoldsIsForgottenAtItsCheckAhead() throws Exception {
        login();
        password = "changed in the directory";
        advance(50);
        assertEquals("erp", login().name(), "still inside the minute the last check vouched for");
        AuthenticationException refused = null;
        for (int i = 0; i < 500 && refused == null; i++) {
            try {
                login();
                Thread.sleep(10);
            } catch (AuthenticationException e) {
                refused = e;
            }
        }
        assertTrue(refused != null, "refused once the check ahead found the password no longer holds");
        assertEquals("invalid user name or password", refused.getMessage());
        assertTrue(checks.get() <= 3, "the check ahead, and at most one more on the request path: " + checks.get());
        assertThrows(AuthenticationException.class, this::login);
    }
}
