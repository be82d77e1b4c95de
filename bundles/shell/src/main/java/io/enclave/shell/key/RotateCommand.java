package io.enclave.shell.key;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Completion;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.enclave.api.AuditLog;
import io.enclave.api.Callers;
import io.enclave.api.CryptoService;
import io.enclave.api.KeyProvider;

@Service
@Command(scope = "key", name = "rotate", description = "Makes a new master key and re-wraps the data keys of the given "
        + "encrypted files with it; loaded models keep serving, and files not re-wrapped still open with the old key")
public class RotateCommand implements Action {
    @Reference
    KeyProvider keys;

    @Reference
    CryptoService crypto;

    @Reference(optional = true)
    AuditLog audit;

    @Argument(index = 0, name = "files", multiValued = true, description = "Encrypted files (.enc) to re-wrap")
    @Completion(FileCompleter.class)
    List<String> files;

    @Override
    public Object execute() throws Exception {
        String before = keys.currentKeyId();
        String after = keys.rotate();
        System.out.println("master key rotated: " + before + " -> " + after);
        int n = 0;
        if (files != null) {
            for (String f : files) {
                Path file = Path.of(f);
                Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
                try (InputStream in = Files.newInputStream(file); OutputStream out = Files.newOutputStream(tmp)) {
                    crypto.rewrap(in, out);
                }
                Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                n++;
                System.out.println("re-wrapped " + file);
            }
        }
        if (audit != null) {
            audit.append(new AuditLog.Event(Callers.current(), Callers.from(), "key.rotate", after, "success",
                    "from " + before + ", " + n + " file(s) re-wrapped"));
        }
        return null;
    }
}
