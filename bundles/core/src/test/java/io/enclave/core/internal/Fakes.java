package io.enclave.core.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.osgi.framework.Version;

import io.enclave.api.ArtifactSource;
import io.enclave.api.DataType;
import io.enclave.api.InferenceEngine;
import io.enclave.api.LoadedModel;
import io.enclave.api.ModelDescriptor;
import io.enclave.api.ModelLoadException;
import io.enclave.api.NamedTensor;
import io.enclave.api.TensorSpec;

/** Test doubles for the engine side; the registry and router under test are the real ones. */
final class Fakes {
    private Fakes() {
    }

    static final ArtifactSource NOWHERE = new ArtifactSource() {
        @Override
        public boolean exists(String entry) {
            return false;
        }

        @Override
        public InputStream open(String entry) throws IOException {
            throw new IOException("no " + entry);
        }

        @Override
        public String describe() {
            return "test";
        }
    };

    static ModelDescriptor model(String name, String version) {
        return model(name, version, java.util.Map.of(), null);
    }

    /** @param properties model.json's serving hints (faults, sample, timeoutMs, ...) */
    static ModelDescriptor model(String name, String version, java.util.Map<String, Object> properties, String fallback) {
        return ModelDescriptor.builder().name(name).version(Version.parseVersion(version)).engine("fake")
                .artifact("model.bin").artifacts(NOWHERE).properties(properties).fallback(fallback)
                .input(new TensorSpec("x", DataType.FP32, new long[] {-1, 2}))
                .output(new TensorSpec("y", DataType.FP32, new long[] {-1, 2}))
                .output(new TensorSpec("z", DataType.FP32, new long[] {-1, 1}))
                .build();
    }

    /** Doubles x into y and sums x into z; tags nothing, counts closes. */
    static final class Engine implements InferenceEngine {
        final AtomicInteger closed = new AtomicInteger();
        final AtomicInteger loads = new AtomicInteger();
        /** Calls of loaded models' infer, all models together. */
        final AtomicInteger calls = new AtomicInteger();
        volatile String failWith;
        volatile CountDownLatch gate;
        /** The model whose calls fail once past the gate, or null. */
        volatile String failingModel;

        @Override
        public String name() {
            return "fake";
        }

        @Override
        public String device() {
            return "cpu";
        }

        @Override
        public String version() {
            return "1";
        }

        @Override
        public LoadedModel load(ModelDescriptor descriptor, ArtifactSource source) throws ModelLoadException {
            loads.incrementAndGet();
            if (failWith != null) {
                throw new ModelLoadException(failWith);
            }
            return new LoadedModel() {
                @Override
                public List<NamedTensor> infer(List<NamedTensor> inputs) {
                    calls.incrementAndGet();
                    CountDownLatch g = gate;
                    if (g != null) {
                        try {
                            g.await();
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }
                    if (descriptor.name().equals(failingModel)) {
                        throw new io.enclave.api.InferenceException(descriptor.name() + " failed in the engine");
                    }
                    float[] x = inputs.get(0).floats();
                    int rows = x.length / 2;
                    float[] y = new float[x.length];
                    float[] z = new float[rows];
                    for (int i = 0; i < x.length; i++) {
                        y[i] = 2 * x[i];
                        z[i / 2] += x[i];
                    }
                    return List.of(new NamedTensor("y", DataType.FP32, new long[] {rows, 2}, y),
                            new NamedTensor("z", DataType.FP32, new long[] {rows, 1}, z));
                }

                @Override
                public void close() {
                    closed.incrementAndGet();
                }
            };
        }
    }
}
