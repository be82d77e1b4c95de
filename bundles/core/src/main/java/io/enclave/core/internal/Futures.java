package io.enclave.core.internal;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

import io.enclave.api.InferenceException;
import io.enclave.api.ModelUnavailableException;

/** Waiting for, and unwrapping, the stages the asynchronous inference path returns. */
final class Futures {
    private Futures() {
    }

    /** The exception a stage failed with, without the wrappers chaining adds. */
    static Throwable cause(Throwable e) {
        Throwable c = e;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }

    /**
     * Waits for a stage and returns its value, or throws what it failed with as it was thrown.
     *
     * @param about what is waited for, for the message when the failure is not a runtime exception
     */
    static <T> T await(CompletionStage<T> stage, String about) {
        try {
            return stage.toCompletableFuture().get();
        } catch (ExecutionException e) {
            Throwable c = cause(e);
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new InferenceException(about + " failed: " + c, c);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ModelUnavailableException("interrupted while waiting for " + about);
        }
    }
}
