package io.enclave.shell.model;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.enclave.api.ModelRegistry;

/** Completes the installed versions of every model (the command line is not parsed for the model). */
@Service
public class ModelVersionCompleter implements Completer {
    @Reference
    ModelRegistry registry;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        StringsCompleter versions = new StringsCompleter(
                registry.versions().stream().map(v -> v.descriptor().version().toString()).distinct().toList());
        return versions.complete(session, commandLine, candidates);
    }
}
