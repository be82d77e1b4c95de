package io.enclave.shell.model;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import org.apache.karaf.shell.api.action.Action;
import org.apache.karaf.shell.api.action.Argument;
import org.apache.karaf.shell.api.action.Command;
import org.apache.karaf.shell.api.action.Option;
import org.apache.karaf.shell.api.action.lifecycle.Reference;
import org.apache.karaf.shell.api.action.lifecycle.Service;
import org.apache.karaf.shell.support.completers.FileCompleter;

import io.enclave.api.AuditLog;
import io.enclave.api.Callers;
import io.enclave.api.CryptoService;

@Service
@Command(scope = "model", name = "encrypt", description = "Encrypts a model or dataset file (AES-256-GCM, envelope) to <file>.enc; "
        + "put it in a model bundle as model.onnx.enc")
public class EncryptCommand implements Action {
    @Reference
    CryptoService crypto;

    @Reference(optional = true)
    AuditLog audit;

    @Argument(index = 0, name = "file", required = true, description = "The plaintext file")
    @org.apache.karaf.shell.api.action.Completion(FileCompleter.class)
    String file;

    @Option(name = "--output", aliases = "-o", description = "Where to write (default: <file>.enc)")
    String output;

    @Override
    public Object execute() throws Exception {
        Path in = Path.of(file);
        if (!Files.isRegularFile(in)) {
            throw new IllegalArgumentException(file + " is not a file");
        }
        Path out = Path.of(output == null ? file + ".enc" : output);
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try (InputStream plain = Files.newInputStream(in); OutputStream cipher = Files.newOutputStream(tmp)) {
            crypto.encrypt(plain, cipher);
        }
        Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        if (audit != null) {
            audit.append(new AuditLog.Event(Callers.current(), Callers.from(), "model.encrypt", out.getFileName().toString(),
                    "success", Files.size(in) + " bytes"));
        }
        System.out.println("encrypted " + in + " (" + Files.size(in) + " bytes) to " + out + " (" + Files.size(out) + " bytes)");
        System.out.println("the plaintext is still at " + in + ": delete it when you no longer need it");
        return null;
    }
}
