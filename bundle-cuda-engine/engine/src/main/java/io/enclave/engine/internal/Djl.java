package io.enclave.engine.internal;

import java.util.concurrent.Callable;

import ai.djl.engine.Engine;

/**
 * Runs code with the DJL bundle's class loader as the thread context class loader. DJL finds
 * engines with ServiceLoader through that loader; without it DJL reports no engine and caches the
 * failure in a static initializer for the life of the JVM.
 */
final class Djl {
    static final String ONNX_RUNTIME = "OnnxRuntime";

    private Djl() {
    }

    static <T> T call(Callable<T> work) throws Exception {
        Thread t = Thread.currentThread();
        ClassLoader previous = t.getContextClassLoader();
        t.setContextClassLoader(Engine.class.getClassLoader());
        try {
            return work.call();
        } finally {
            t.setContextClassLoader(previous);
        }
    }
}
