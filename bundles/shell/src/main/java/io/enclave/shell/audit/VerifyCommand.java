package io.enclave.shell.audit;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;

import io.enclave.api.AuditLog;

@Service
@Command(scope = "audit", name = "verify", description = "Checks the audit log's hash chain from the first entry to the last")
public class VerifyCommand implements Action {
    @Reference
    AuditLog audit;

    @Override
    public Object execute() {
        AuditLog.Verification v = audit.verify();
        if (!v.ok()) {
            throw new IllegalStateException("audit log is NOT intact: " + v.problem() + " (first bad line " + v.firstBad() + ")");
        }
        System.out.println("audit log intact: " + v.entries() + " entries, hash chain verified");
        return null;
    }
}
