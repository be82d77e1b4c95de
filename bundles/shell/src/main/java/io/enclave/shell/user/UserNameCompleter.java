package io.enclave.shell.user;

import java.util.List;

import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.enclave.api.UserDirectory;

/** Completes Enclave user names. */
@Service
public class UserNameCompleter implements Completer {
    @Reference
    UserDirectory users;

    @Override
    public int complete(Session session, CommandLine commandLine, List<String> candidates) {
        return new StringsCompleter(users.users().stream().map(UserDirectory.User::name).toList())
                .complete(session, commandLine, candidates);
    }
}
