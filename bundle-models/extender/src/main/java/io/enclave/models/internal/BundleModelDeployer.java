package io.enclave.models.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Collection;
import java.util.Comparator;
import java.util.UUID;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.Version;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.AuditLog;
import io.enclave.api.Callers;
import io.enclave.api.ConflictException;
import io.enclave.api.EnclaveException;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDeployer;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelVersion;

/**
 * Installs model versions as bundles: model bundles as they are, bare folders and zips as pointer
 * bundles. Everything is checked before the bundle starts (manifest, model.json, model file, a
 * name and version not already installed), so a bad model never touches the running ones; then the
 * call waits for the version to load and takes it out again when it does not.
 */
@Component(service = ModelDeployer.class, configurationPid = "io.enclave.deploy")
@Designate(ocd = BundleModelDeployer.Config.class)
public class BundleModelDeployer implements ModelDeployer {
    private static final Logger LOG = LoggerFactory.getLogger(BundleModelDeployer.class);
    private static final Pattern MVN = Pattern.compile("mvn:[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(/[a-z]+)?");

    @ObjectClassDefinition(name = "Enclave model deployment", description = "model:deploy, uploads and deploy/")
    public @interface Config {
        @AttributeDefinition(description = "Largest model upload accepted, in bytes")
        long maxUploadBytes() default 8L * 1024 * 1024 * 1024;

        @AttributeDefinition(description = "How long a deployment waits for the new version to load, in seconds")
        int loadWaitSeconds() default 120;
    }

    private final BundleContext context;
    private final ModelRegistry registry;
    private final AuditLog audit;
    private volatile Config config;

    @Activate
    public BundleModelDeployer(BundleContext context, @Reference(name = "Audit") AuditLog audit,
            @Reference(name = "Registry") ModelRegistry registry, Config config) {
        this.context = context;
        this.audit = audit;
        this.registry = registry;
        this.config = config;
    }

    @Modified
    void modified(Config c) {
        this.config = c;
    }

    @Override
    public Path deployFolder() {
        return ModelRoots.deployFolder();
    }

    @Override
    public Deployment deploy(String source) {
        try {
            Deployment d = install(location(source));
            record("model.deploy", d.model() + ":" + d.version(), "success", "from " + source);
            return d;
        } catch (EnclaveException e) {
            record("model.deploy", source, "failure", e.getMessage());
            throw e;
        }
    }

    /** Where the bundle comes from: a Maven URL as given, a file as a file URL, a bare model as a pointer. */
    private String location(String source) {
        if (source == null || source.isBlank()) {
            throw new InvalidInputException("say what to deploy: a jar, a zip, a folder or mvn:group/artifact/version");
        }
        if (source.startsWith("mvn:")) {
            if (!MVN.matcher(source).matches()) {
                throw new InvalidInputException("'" + source + "' is not mvn:group/artifact/version");
            }
            return source;
        }
        Path p = Path.of(source).toAbsolutePath().normalize();
        if (!Files.exists(p)) {
            throw new ModelNotFoundException("there is no file or folder " + p);
        }
        if (BareModel.isBareModel(p)) {
            return BareModel.PROTOCOL + ":" + inRoots(p);
        }
        if (Files.isRegularFile(p)) {
            return p.toUri().toString();
        }
        throw new InvalidInputException(p + " is neither a model bundle nor a folder or zip with model.json at its root");
    }

    /** A bare model outside the folders Enclave reads from is copied once into its store. */
    private Path inRoots(Path p) {
        try {
            return BareModel.location(p.toString(), ModelRoots.all());
        } catch (IllegalArgumentException outside) {
            ModelHeader h;
            try {
                h = BareModel.header(new ExternalArtifactSource(p));
            } catch (IllegalArgumentException | IOException e) {
                throw new InvalidInputException(p + " is not a model: " + e.getMessage());
            }
            refuseInstalled(h.name(), h.version());
            Path target = store().resolve(h.name() + "-" + h.version() + (Files.isDirectory(p) ? "" : ".zip"));
            try {
                delete(target);
                copy(p, target);
            } catch (IOException e) {
                throw new EnclaveException("cannot copy " + p + " into " + store() + ": " + e.getMessage(), e);
            }
            return target;
        }
    }

    private Deployment install(String location) {
        Bundle bundle;
        try {
            bundle = context.installBundle(location);
        } catch (BundleException e) {
            if (e.getType() == BundleException.DUPLICATE_BUNDLE_ERROR) {
                throw new ConflictException("that model bundle is already installed: " + e.getMessage());
            }
            if (location.startsWith("mvn:")) {
                throw new ModelNotFoundException("cannot fetch " + location + ": " + rootMessage(e));
            }
            throw new InvalidInputException(location + " is not a bundle: " + rootMessage(e));
        } catch (IllegalStateException | SecurityException e) {
            throw new EnclaveException("cannot install " + location + ": " + e.getMessage(), e);
        }
        if (bundle.getState() != Bundle.INSTALLED) {
            throw new ConflictException("bundle " + bundle.getBundleId() + " at " + location + " is already installed");
        }
        ModelDescriptor d;
        try {
            String header = bundle.getHeaders("").get(ModelHeader.NAME);
            if (header == null) {
                throw new InvalidInputException(location + " is not a model bundle: its manifest has no "
                        + ModelHeader.NAME + " header");
            }
            try {
                d = ModelExtender.describe(bundle, header);
            } catch (InvalidInputException e) {
                throw e;
            } catch (Exception e) {
                throw new InvalidInputException("not a valid model: " + e.getMessage());
            }
            refuseInstalled(d.name(), d.version());
            bundle.start();
        } catch (BundleException | RuntimeException e) {
            uninstallQuietly(bundle);
            if (e instanceof EnclaveException ee) {
                throw ee;
            }
            throw new InvalidInputException("the model bundle does not start: " + rootMessage(e));
        }
        return await(bundle, d);
    }

    private Deployment await(Bundle bundle, ModelDescriptor d) {
        long end = System.nanoTime() + config.loadWaitSeconds() * 1_000_000_000L;
        ModelState state = ModelState.LOADING;
        while (System.nanoTime() < end) {
            ModelVersion v = registry.find(d.name(), d.version()).orElse(null);
            if (v != null) {
                state = v.state();
                if (state == ModelState.READY) {
                    break;
                }
                if (state == ModelState.FAILED) {
                    String why = v.failure();
                    uninstallQuietly(bundle);
                    throw new InvalidInputException(d.name() + " " + d.version() + " does not load, so it was removed "
                            + "again: " + why);
                }
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        LOG.info("deployed {} {} as bundle {} ({})", d.name(), d.version(), bundle.getBundleId(), state);
        return new Deployment(d.name(), d.version(), bundle.getBundleId(), state);
    }

    private void refuseInstalled(String name, Version version) {
        registry.find(name, version).ifPresent(v -> {
            throw new ConflictException(name + " " + version + " is already installed (from "
                    + v.descriptor().artifacts().describe() + "); undeploy it first or give the new one another version");
        });
    }

    @Override
    public Deployment deploy(InputStream upload) {
        Path part = store().resolve("upload-" + UUID.randomUUID() + ".part");
        try {
            Files.createDirectories(store());
            long limit = config.maxUploadBytes();
            try (OutputStream out = Files.newOutputStream(part)) {
                byte[] buf = new byte[1 << 16];
                long total = 0;
                for (int n; (n = upload.read(buf)) > 0;) {
                    total += n;
                    if (total > limit) {
                        throw new InvalidInputException("the upload is larger than " + limit + " bytes");
                    }
                    out.write(buf, 0, n);
                }
                if (total == 0) {
                    throw new InvalidInputException("the upload is empty: send a model bundle jar or a zip with model.json");
                }
            }
            Path target;
            if (BareModel.isBareModel(part)) {
                ModelHeader h = BareModel.header(new ExternalArtifactSource(part));
                refuseInstalled(h.name(), h.version());
                target = store().resolve(h.name() + "-" + h.version() + ".zip");
            } else {
                ModelHeader h = bundleHeader(part);
                refuseInstalled(h.name(), h.version());
                target = store().resolve(h.name() + "-" + h.version() + ".jar");
            }
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            try {
                return deploy(target.toString());
            } catch (RuntimeException e) {
                Files.deleteIfExists(target);
                throw e;
            }
        } catch (IllegalArgumentException e) {
            record("model.deploy", "upload", "failure", e.getMessage());
            throw new InvalidInputException("the upload is not a model: " + e.getMessage());
        } catch (IOException e) {
            record("model.deploy", "upload", "failure", e.getMessage());
            throw new InvalidInputException("cannot read the upload: " + e.getMessage());
        } finally {
            try {
                Files.deleteIfExists(part);
            } catch (IOException ignored) {
                // a leftover .part file is harmless and cleaned by the next upload of that name
            }
        }
    }

    private static ModelHeader bundleHeader(Path jar) throws IOException {
        try (JarFile j = new JarFile(jar.toFile())) {
            Manifest m = j.getManifest();
            String header = m == null ? null : m.getMainAttributes().getValue(ModelHeader.NAME);
            if (header == null) {
                throw new IllegalArgumentException("it is neither a model bundle (no " + ModelHeader.NAME
                        + " header) nor a zip with model.json at its root");
            }
            String bv = m.getMainAttributes().getValue("Bundle-Version");
            return ModelHeader.parse(header, bv == null ? Version.emptyVersion : Version.parseVersion(bv));
        } catch (java.util.zip.ZipException e) {
            throw new IllegalArgumentException("it is neither a jar nor a zip");
        }
    }

    @Override
    public void undeploy(String model, Version version) {
        Bundle bundle = bundleOf(model, version);
        String location = bundle.getLocation();
        try {
            bundle.uninstall();
        } catch (BundleException e) {
            record("model.undeploy", model + ":" + version, "failure", e.getMessage());
            throw new EnclaveException("cannot uninstall bundle " + bundle.getBundleId() + ": " + e.getMessage(), e);
        }
        Path file = ownedFile(location);
        if (file != null) {
            try {
                delete(file);
            } catch (IOException e) {
                LOG.warn("{} {} is uninstalled but {} could not be deleted: {}", model, version, file, e.getMessage());
            }
        }
        record("model.undeploy", model + ":" + version, "success", "bundle " + bundle.getBundleId() + " from " + location);
    }

    private Bundle bundleOf(String model, Version version) {
        if (!ModelDescriptor.NAME.matcher(model).matches()) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        try {
            Collection<ServiceReference<ModelDescriptor>> refs = context.getServiceReferences(ModelDescriptor.class,
                    "(&(" + ModelDescriptor.PROP_NAME + "=" + model + ")(" + ModelDescriptor.PROP_VERSION + "=" + version + "))");
            for (ServiceReference<ModelDescriptor> r : refs) {
                Bundle b = r.getBundle();
                if (b != null) {
                    return b;
                }
            }
        } catch (InvalidSyntaxException e) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        throw new ModelNotFoundException("model '" + model + "' has no version '" + version + "' installed");
    }

    /** The file behind a bundle Enclave or deploy/ put in place, which goes when the version goes. */
    private static Path ownedFile(String location) {
        Path p = null;
        if (location.startsWith(BareModel.PROTOCOL + ":")) {
            p = Path.of(location.substring(BareModel.PROTOCOL.length() + 1));
        } else if (location.startsWith("file:")) {
            p = Path.of(URI.create(location));
        }
        if (p == null) {
            return null;
        }
        p = p.toAbsolutePath().normalize();
        for (Path root : ModelRoots.all()) {
            if (p.startsWith(root) && !p.equals(root)) {
                return p;
            }
        }
        return null;
    }

    private static Path store() {
        Path s = ModelRoots.store();
        if (s == null) {
            throw new EnclaveException("no model store outside Karaf (karaf.data is not set)");
        }
        return s;
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        if (!Files.isDirectory(from)) {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
            return;
        }
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : (Iterable<Path>) all::iterator) {
                if (Files.isSymbolicLink(p)) {
                    continue;
                }
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t, StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    private static void delete(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(p)) {
            for (Path x : (Iterable<Path>) all.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(x);
            }
        }
    }

    private static void uninstallQuietly(Bundle b) {
        try {
            b.uninstall();
        } catch (BundleException | IllegalStateException e) {
            LOG.warn("cannot uninstall bundle {}: {}", b.getBundleId(), e.getMessage());
        }
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private void record(String action, String target, String outcome, String detail) {
        try {
            audit.append(new AuditLog.Event(Callers.current(), Callers.from(), action, target, outcome, detail));
        } catch (RuntimeException e) {
            LOG.error("cannot write the audit log: {}", e.getMessage());
        }
    }
}
