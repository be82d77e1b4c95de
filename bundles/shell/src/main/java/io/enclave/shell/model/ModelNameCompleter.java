package io.enclave.shell.model;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.enclave.api.Router;

/** Completes installed model names. */
@Service
public class ModelNameCompleter implements Completer {
    @Reference
    Router router;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter names = new StringsCompleter(router.models());
        return names.complete(session, commandLine, candidates);
    }
}
