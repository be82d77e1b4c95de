package io.enclave.shell.user;

import java.io.IOException;
import java.util.Arrays;

import org.apache.karaf.shell.api.console.Session;

/** Reads a new password twice without echo, unless one was given as an option. */
final class Passwords {
    private Passwords() {
    }

    static char[] read(Session session, String given) throws IOException {
        if (given != null) {
            return given.toCharArray();
        }
        String first = session.readLine("new password: ", '*');
        String second = session.readLine("again: ", '*');
        if (first == null || !first.equals(second)) {
            throw new IllegalArgumentException("the passwords differ");
        }
        return first.toCharArray();
    }

    static void clear(char[] password) {
        if (password != null) {
            Arrays.fill(password, '\0');
        }
    }
}
