package io.enclave.shell.alert;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.table.ShellTable;

import io.enclave.api.Alerts;

@Service
@Command(scope = "alert", name = "list", description = "Lists the alerts Enclave's own checker has raised and not yet cleared")
public class ListCommand implements Action {
    @Reference
    Alerts alerts;

    @Override
    public Object execute() {
        ShellTable table = new ShellTable();
        table.column("Alert");
        table.column("About");
        table.column("Since");
        table.column("Summary").maxSize(80);
        for (Alerts.Alert a : alerts.active()) {
            table.addRow().addContent(a.name(), a.subject(), a.since().toString(), a.summary());
        }
        table.print(System.out);
        return null;
    }
}
