package io.enclave.shell.apikey;

import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.api.console.CommandLine;
import org.apache.karaf.shell.api.console.Completer;
import org.apache.karaf.shell.api.console.Session;
import org.apache.karaf.shell.support.completers.StringsCompleter;

import io.enclave.api.ApiKeys;

@Service
@Command(scope = "apikey", name = "revoke", description = "Revokes an API key at once")
public class RevokeCommand implements Action {
    @Reference
    ApiKeys keys;

    @Argument(index = 0, name = "id", required = true, description = "Key id (see apikey:list)")
    @Completion(RevokeCommand.Ids.class)
    String id;

    @Override
    public Object execute() {
        keys.revoke(id);
        System.out.println("API key " + id + " revoked");
        return null;
    }

    /** Completes key ids. */
    @Service
    public static class Ids implements Completer {
        @Reference
        ApiKeys keys;

        @Override
        public int complete(Session session, CommandLine commandLine, List<String> candidates) {
            return new StringsCompleter(keys.list().stream().map(ApiKeys.Key::id).toList()).complete(session, commandLine, candidates);
        }
    }
}
