package io.enclave.rest.internal;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletionException;
import java.util.zip.ZipException;

import javax.servlet.AsyncContext;
import javax.servlet.Servlet;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.http.whiteboard.HttpWhiteboardConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.enclave.api.BatchingControl;
import io.enclave.api.Identity;
import io.enclave.api.InferenceRequest;
import io.enclave.api.InferenceResponse;
import io.enclave.api.InvalidInputException;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelNotFoundException;
import io.enclave.api.ModelRegistry;
import io.enclave.api.ModelState;
import io.enclave.api.ModelUnavailableException;
import io.enclave.api.ModelVersion;
import io.enclave.api.NamedTensor;
import io.enclave.api.Permission;
import io.enclave.api.Router;
import io.enclave.api.SecurityService;

/**
 * The Open Inference Protocol v2 at {@code /v2}, as a plain servlet on the HTTP whiteboard. Every request
 * pays this layer's cost on top of the engine's, so it is kept to: match the path, check the caller,
 * decode, hand to the {@link Router}, encode. (A JAX-RS dispatch per request — method matching,
 * message maps, interceptor chains — was the largest cost outside the engine at high request rates.)
 * The management API stays on CXF JAX-RS at {@code /enclave/v1}.
 *
 * <p>The path is matched on the raw request URI, segment by segment; names are never decoded or used to
 * build a path, so {@code %2F}, {@code ..} and {@code ;} are just characters of a name no model has.
 */
@Component(service = Servlet.class, configurationPid = "io.enclave.rest", property = {
        HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_PATTERN + "=/v2/*",
        HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_NAME + "=enclave-open-inference",
        HttpWhiteboardConstants.HTTP_WHITEBOARD_SERVLET_ASYNC_SUPPORTED + "=true"})
public class OpenInferenceServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Logger LOG = LoggerFactory.getLogger(OpenInferenceServlet.class);

    static final String SERVER_NAME = "enclave";
    /** The Open Inference Protocol's binary tensor extension: the JSON part's length. */
    static final String BINARY_HEADER = "Inference-Header-Content-Length";
    /**
     * What server metadata lists under {@code extensions}: Triton's clients look for the binary tensor
     * extension by this name before they send or ask for binary data. {@code schedule_policy} is a
     * request's {@code timeout} and {@code priority}.
     */
    static final List<String> EXTENSIONS = List.of("binary_tensor_data", "classification", "schedule_policy", "statistics");
    private static final String JSON = "application/json";
    private static final String OCTETS = "application/octet-stream";
    private static final int MAX_SEGMENT = 256;

    /** The endpoints, by shape of path; {@code *} is a model name or a version. */
    enum Endpoint {
        SERVER("GET", Permission.MODEL_READ),
        LIVE("GET", null),
        READY("GET", null),
        MODEL("GET", Permission.MODEL_READ),
        MODEL_READY("GET", Permission.MODEL_READ),
        MODEL_CONFIG("GET", Permission.MODEL_READ),
        /** Triton's statistics extension; the model, and then the version, may be left out. */
        STATS("GET", Permission.MODEL_READ),
        INFER("POST", Permission.MODEL_INFER);

        final String method;
        final Permission guard;

        Endpoint(String method, Permission guard) {
            this.method = method;
            this.guard = guard;
        }
    }

    /** A matched path: the endpoint, the model and version named in it (either may be null). */
    record Route(Endpoint endpoint, String model, String version) {
    }

    private final transient Router router;
    private final transient ModelRegistry registry;
    private final transient BatchingControl batching;
    private final transient SecurityService security;
    private final transient io.enclave.api.InferenceStats stats;
    private final transient InferenceCodec codec;
    private final int maxRequestBytes;
    private final String serverVersion;

    @Activate
    public OpenInferenceServlet(@Reference(name = "router") Router router,
            @Reference(name = "registry") ModelRegistry registry, @Reference(name = "security") SecurityService security,
            @Reference(name = "batching") BatchingControl batching, @Reference(name = "stats") io.enclave.api.InferenceStats stats,
            BundleContext context, RestServer.Config config) {
        this.stats = stats;
        this.router = router;
        this.batching = batching;
        this.registry = registry;
        this.security = security;
        this.codec = new InferenceCodec(config.maxStringBytes());
        this.maxRequestBytes = config.maxRequestBytes();
        this.serverVersion = context.getBundle().getVersion().toString();
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        // the request's deadline counts from here, not from when it reaches a model's queue
        long arrived = System.nanoTime();
        try {
            Route route = route(req);
            if (route == null) {
                // no endpoint: said without asking who calls
                send(resp, new Failure(404, "no such endpoint"));
                return;
            }
            String method = req.getMethod();
            boolean allowed = method.equals(route.endpoint.method) || ("HEAD".equals(method) && "GET".equals(route.endpoint.method));
            if (!allowed) {
                String allow = "GET".equals(route.endpoint.method) ? "GET, HEAD" : route.endpoint.method;
                send(resp, new Failure(405, "method not allowed on this endpoint", Map.of("Allow", allow)));
                return;
            }
            if (route.endpoint.guard != null) {
                Identity caller = security.authenticateHeader(req.getHeader("Authorization"), req.getRemoteAddr());
                security.check(caller, route.endpoint.guard);
            }
            switch (route.endpoint) {
                case SERVER -> server(resp);
                case LIVE -> send(resp, 200, JSON, codec.object(Map.of("live", true)));
                case READY -> {
                    boolean ready = router.ready();
                    send(resp, ready ? 200 : 400, JSON, codec.object(Map.of("ready", ready)));
                }
                case MODEL -> model(resp, route.model, route.version);
                case MODEL_CONFIG -> config(resp, route.model, route.version);
                case MODEL_READY -> readiness(resp, route.model, route.version);
                case STATS -> statistics(resp, route.model, route.version);
                case INFER -> infer(req, resp, route.model, route.version, arrived);
            }
        } catch (RuntimeException e) {
            send(resp, Failure.of(e));
        }
    }

    /** Matches the path after {@code /v2}; null when it names no endpoint. */
    static Route route(HttpServletRequest req) {
        String uri = req.getRequestURI();
        String prefix = req.getContextPath() + "/v2";
        if (uri == null || !uri.startsWith(prefix)) {
            return null;
        }
        String rest = uri.substring(prefix.length());
        if (rest.isEmpty() || "/".equals(rest)) {
            return new Route(Endpoint.SERVER, null, null);
        }
        if (rest.charAt(0) != '/') {
            return null;
        }
        if (rest.endsWith("/")) {
            rest = rest.substring(0, rest.length() - 1);
        }
        String[] s = rest.substring(1).split("/", 7);
        for (String segment : s) {
            if (segment.isEmpty() || segment.length() > MAX_SEGMENT) {
                return null;
            }
        }
        switch (s.length) {
            case 2:
                if ("health".equals(s[0])) {
                    return "live".equals(s[1]) ? new Route(Endpoint.LIVE, null, null)
                            : "ready".equals(s[1]) ? new Route(Endpoint.READY, null, null) : null;
                }
                if (!"models".equals(s[0])) {
                    return null;
                }
                // as in Triton, every model's statistics: a model called "stats" has its metadata at .../versions/{v}
                return "stats".equals(s[1]) ? new Route(Endpoint.STATS, null, null) : new Route(Endpoint.MODEL, s[1], null);
            case 3:
                if (!"models".equals(s[0])) {
                    return null;
                }
                return "ready".equals(s[2]) ? new Route(Endpoint.MODEL_READY, s[1], null)
                        : "infer".equals(s[2]) ? new Route(Endpoint.INFER, s[1], null)
                        : "config".equals(s[2]) ? new Route(Endpoint.MODEL_CONFIG, s[1], null)
                        : "stats".equals(s[2]) ? new Route(Endpoint.STATS, s[1], null) : null;
            case 4:
                return "models".equals(s[0]) && "versions".equals(s[2]) ? new Route(Endpoint.MODEL, s[1], s[3]) : null;
            case 5:
                if (!"models".equals(s[0]) || !"versions".equals(s[2])) {
                    return null;
                }
                return "ready".equals(s[4]) ? new Route(Endpoint.MODEL_READY, s[1], s[3])
                        : "infer".equals(s[4]) ? new Route(Endpoint.INFER, s[1], s[3])
                        : "config".equals(s[4]) ? new Route(Endpoint.MODEL_CONFIG, s[1], s[3])
                        : "stats".equals(s[4]) ? new Route(Endpoint.STATS, s[1], s[3]) : null;
            default:
                return null;
        }
    }

    private void server(HttpServletResponse resp) throws IOException {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", SERVER_NAME);
        m.put("version", serverVersion);
        m.put("extensions", EXTENSIONS);
        send(resp, 200, JSON, codec.object(m));
    }

    private void model(HttpServletResponse resp, String model, String version) throws IOException {
        send(resp, 200, JSON, codec.modelMetadata(model, registry.versions(model), described(model, version).descriptor()));
    }

    /** Triton's model configuration extension, for clients such as perf_analyzer that read it. */
    private void config(HttpServletResponse resp, String model, String version) throws IOException {
        ModelVersion v = described(model, version);
        ModelDescriptor d = v.descriptor();
        send(resp, 200, JSON, codec.modelConfig(model, d, batching.settings(model, d.version()), v.device()));
    }

    /**
     * Triton's statistics extension: every installed version of every model, of one model, or one version, loaded
     * or not, with the sums since each was first installed.
     */
    private void statistics(HttpServletResponse resp, String model, String version) throws IOException {
        List<ModelVersion> versions;
        if (model == null) {
            versions = registry.versions();
        } else {
            versions = registry.versions(model);
            if (versions.isEmpty()) {
                throw new ModelNotFoundException("unknown model '" + model + "'");
            }
            if (version != null) {
                // read as the router reads a version in an inference path, so "1.0" names 1.0.0 here too
                org.osgi.framework.Version wanted;
                try {
                    wanted = org.osgi.framework.Version.parseVersion(version);
                } catch (IllegalArgumentException e) {
                    wanted = null;
                }
                versions = (wanted == null ? java.util.Optional.<ModelVersion>empty() : registry.find(model, wanted))
                        .map(List::of).orElseThrow(() -> new ModelNotFoundException(
                                "model '" + model + "' has no version '" + version + "'"));
            }
        }
        List<InferenceCodec.VersionSums> sums = versions.stream().map(ModelVersion::descriptor)
                .sorted(java.util.Comparator.comparing(ModelDescriptor::name).thenComparing(ModelDescriptor::version))
                .map(d -> new InferenceCodec.VersionSums(d.name(), d.version().toString(), stats.cumulative(d.name(), d.version())))
                .toList();
        send(resp, 200, JSON, codec.statistics(sums));
    }

    /** The version asked for, or the one routing would choose, or, before any is ready, the newest. */
    private ModelVersion described(String model, String version) {
        ModelVersion v;
        if (version != null) {
            v = router.resolve(model, version);
        } else {
            try {
                v = router.resolve(model, null);
            } catch (ModelUnavailableException notReady) {
                // metadata is known before a version is ready: describe the newest
                List<ModelVersion> all = registry.versions(model);
                v = all.get(all.size() - 1);
            }
        }
        return v;
    }

    /** 200 when that version (or the one routing would choose) is READY, 400 otherwise, as the protocol says. */
    private void readiness(HttpServletResponse resp, String model, String version) throws IOException {
        boolean ready;
        try {
            ready = router.resolve(model, version).state() == ModelState.READY;
        } catch (ModelUnavailableException e) {
            ready = false;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", model);
        m.put("ready", ready);
        send(resp, ready ? 200 : 400, JSON, codec.object(m));
    }

    private void infer(HttpServletRequest req, HttpServletResponse resp, String model, String version, long arrived)
            throws IOException {
        // an unknown model is a 404 whatever the body says: check before reading it
        if (!router.serves(model)) {
            throw new ModelNotFoundException("unknown model '" + model + "'");
        }
        InferenceCodec.Request decoded = codec.decode(read(req), headerLength(req.getHeader(BINARY_HEADER)));
        // the policy's sticky header, when it has one, keeps this caller on one side of a canary split
        String routeKey = router.stickyHeader(model).map(req::getHeader).orElse(null);
        String coding = Compression.answerCoding(req.getHeader("Accept-Encoding"));
        CompletableFuture<InferenceResponse> answer = router.inferAsync(new InferenceRequest(model, version,
                decoded.inputs(), decoded.outputs(), routeKey, arrived,
                TimeUnit.MICROSECONDS.toNanos(decoded.timeoutMicros()), decoded.priority())).toCompletableFuture();
        if (answer.isDone()) {
            // computed on this thread (the version was idle) or refused at once: answered without going async
            try {
                respond(resp, decoded, coding, answer.getNow(null), null);
            } catch (CompletionException e) {
                respond(resp, decoded, coding, null, e);
            }
            return;
        }
        // the request waits for its batch without a thread: a server thread per waiting request would run
        // out under load, and then health checks and every other caller would wait behind the queue
        AsyncContext async = req.startAsync();
        async.setTimeout(0); // the version's deadline and timeout end every request
        answer.whenComplete((r, e) -> {
            if (NonBlockingAnswer.AVAILABLE && NonBlockingAnswer.applies(resp)) {
                answerNow(async, resp, decoded, coding, r, e);
            } else {
                respondLater(async, resp, decoded, coding, r, e);
            }
        });
    }

    /**
     * On the thread that completed the request (a model's worker, as a rule): the answer is encoded here and sent
     * without blocking ({@link NonBlockingAnswer}), so its caller has it as soon as its batch ends.
     */
    private void answerNow(AsyncContext async, HttpServletResponse resp, InferenceCodec.Request decoded, String coding,
            InferenceResponse r, Throwable e) {
        NonBlockingAnswer.Captured captured = new NonBlockingAnswer.Captured(resp);
        try {
            respond(captured, decoded, coding, r, e);
            NonBlockingAnswer.send(resp, captured.body(), async);
        } catch (IOException | RuntimeException gone) {
            LOG.debug("could not answer an inference request: {}", gone.toString());
            async.complete();
        }
    }

    /** Without Jetty's asynchronous send: the answer is written on a server thread. */
    private void respondLater(AsyncContext async, HttpServletResponse resp, InferenceCodec.Request decoded, String coding,
            InferenceResponse r, Throwable e) {
        // written on a server thread, not on the worker that completed the batch: a caller that does not
        // read its answer may block the write, and must not stop the model's worker with it
        async.start(() -> {
            try {
                respond(resp, decoded, coding, r, e);
            } catch (IOException | RuntimeException gone) {
                // the caller went away: nothing is left to tell it
                LOG.debug("could not answer an inference request: {}", gone.toString());
            } finally {
                async.complete();
            }
        });
    }

    /**
     * The answer, compressed when the caller takes {@code coding}, or the failure (as a stage reports it) as its
     * 4xx or 5xx.
     */
    private void respond(HttpServletResponse resp, InferenceCodec.Request decoded, String coding, InferenceResponse r,
            Throwable failed) throws IOException {
        if (failed == null) {
            try {
                answer(resp, decoded, coding, r);
            } catch (InvalidInputException e) {
                // an output that cannot be given as asked (classification of text, say): nothing written yet
                send(resp, Failure.of(e));
            }
        } else {
            send(resp, Failure.of(cause(failed)));
        }
    }

    /** The exception a stage failed with, without the wrapper chaining adds. */
    static Throwable cause(Throwable e) {
        return e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    }

    private void answer(HttpServletResponse resp, InferenceCodec.Request decoded, String coding, InferenceResponse r)
            throws IOException {
        List<NamedTensor> outputs = r.outputs();
        if (!decoded.classifications().isEmpty()) {
            // the labels of the version that answered, which is the fallback's when it stood in
            List<String> labels = registry.find(r.model(), r.version()).map(v -> v.descriptor().labels()).orElse(List.of());
            List<NamedTensor> classified = new ArrayList<>(outputs.size());
            for (NamedTensor t : outputs) {
                Integer k = decoded.classifications().get(t.name());
                classified.add(k == null ? t : Classification.top(t, k, labels));
            }
            outputs = classified;
        }
        InferenceCodec.Encoded answer = codec.response(r.model(), r.version().toString(), decoded, outputs,
                r.fallback());
        byte[] body = answer.body();
        if (coding != null) {
            // the binary extension's header length stays that of the JSON before compression, as Triton's
            // clients read it: they decompress first
            body = Compression.encode(coding, body);
            resp.setHeader("Content-Encoding", coding);
        }
        if (answer.headerLength() >= 0) {
            resp.setHeader(BINARY_HEADER, Integer.toString(answer.headerLength()));
        }
        send(resp, 200, answer.headerLength() < 0 ? JSON : OCTETS, body);
    }

    static int headerLength(String v) {
        if (v == null || v.isBlank()) {
            return -1;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new InvalidInputException(BINARY_HEADER + " must be a non-negative integer, not '" + v + "'");
        }
    }

    /**
     * The whole body, decompressed when it says it is, refused (413) as soon as it is known to pass the limit: a
     * declared length, or bytes read (after decompression, so a small compressed body cannot grow past it).
     */
    private byte[] read(HttpServletRequest req) throws IOException {
        if (req.getContentLengthLong() > maxRequestBytes) {
            throw new Failure.RequestTooLargeException(maxRequestBytes);
        }
        String coding = req.getHeader("Content-Encoding");
        byte[] bytes;
        try (InputStream in = Compression.decoding(coding, req.getInputStream())) {
            bytes = in.readNBytes(maxRequestBytes + 1);
        } catch (ZipException | EOFException e) {
            if (coding == null) {
                throw e;
            }
            // a body cut short, or not what its Content-Encoding says
            throw new InvalidInputException("request body is not valid " + coding.trim() + " data: " + e.getMessage());
        }
        if (bytes.length > maxRequestBytes) {
            throw new Failure.RequestTooLargeException(maxRequestBytes);
        }
        if (bytes.length == 0) {
            throw new InvalidInputException("request body is empty");
        }
        return bytes;
    }

    private void send(HttpServletResponse resp, Failure f) throws IOException {
        for (Map.Entry<String, String> h : f.headers().entrySet()) {
            resp.setHeader(h.getKey(), h.getValue());
        }
        send(resp, f.status(), JSON, codec.error(f.message()));
    }

    private static void send(HttpServletResponse resp, int status, String type, byte[] body) throws IOException {
        resp.setStatus(status);
        resp.setContentType(type);
        resp.setContentLength(body.length);
        OutputStream out = resp.getOutputStream();
        out.write(body);
    }
}
