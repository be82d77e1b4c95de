package io.enclave.shell.audit;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.AuditLog;

@Service
@Command(scope = "audit", name = "tail", description = "Shows the latest audit log entries")
public class TailCommand implements Action {
    @Reference
    AuditLog audit;

    @Option(name = "-n", description = "How many entries (at most 1000)")
    int count = 20;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("#");
        table.column("Time");
        table.column("Who");
        table.column("From");
        table.column("Action");
        table.column("Target");
        table.column("Outcome");
        table.column("Detail").maxSize(60);
        for (AuditLog.Entry e : audit.tail(count)) {
            AuditLog.Event v = e.event();
            table.addRow().addContent(e.seq(), e.time(), v.who(), v.from(), v.action(), v.target() == null ? "" : v.target(),
                    v.outcome(), v.detail() == null ? "" : v.detail());
        }
        table.print(System.out);
        return null;
    }
}
