package io.enclave.security.internal;

import java.nio.file.Path;

import io.enclave.api.AuditLog;

/** Appends to an audit log as fast as it can until killed: the victim of the kill -9 test. */
public final class AuditWriterMain {
    private AuditWriterMain() {
    }

    public static void main(String[] args) throws Exception {
        FileAuditLog log = new FileAuditLog();
        log.open(Path.of(args[0]));
        System.out.println("writing");
        System.out.flush();
        for (long i = 0;; i++) {
            log.append(new AuditLog.Event("writer", "127.0.0.1", "load.test", "entry-" + i, "success", "x".repeat((int) (i % 300))));
        }
    }
}
