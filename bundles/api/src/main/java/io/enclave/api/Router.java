package io.enclave.api;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Chooses the model version that answers a request, checks the request against its signature,
 * and runs it. Every transport calls this, so routing and validation are the same everywhere.
 * Thread-safe.
 */
public interface Router {

    /**
     * @param request the call
     * @return the outputs and which version produced them
     * @throws ModelNotFoundException     unknown model or version
     * @throws InvalidInputException      inputs or requested outputs do not fit the signature
     * @throws ModelUnavailableException  the model has no READY version to answer
     * @throws InferenceException         the engine failed
     */
    InferenceResponse infer(InferenceRequest request);

    /**
     * Like {@link #infer(InferenceRequest)}, without holding the caller's thread while the request waits
     * for its batch: a transport serving many callers at once needs no thread per waiting request.
     * The stage fails with the exceptions {@link #infer(InferenceRequest)} throws. It may already be
     * complete when returned (an idle version runs a lone request at once, on the calling thread);
     * otherwise it completes on the thread that computed the batch, so what a caller chains to it must
     * be quick and must never block.
     *
     * @param request the call
     * @return the outputs and which version produced them
     */
    default CompletionStage<InferenceResponse> inferAsync(InferenceRequest request) {
        try {
            return CompletableFuture.completedFuture(infer(request));
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Resolves the version that would answer a request naming {@code version} (null: routing's
     * choice).
     *
     * @return that version, READY or not when a version is named; READY when routing chooses
     * @throws ModelNotFoundException    unknown model or version
     * @throws ModelUnavailableException routing has no READY version to choose
     */
    ModelVersion resolve(String model, String version);

    /**
     * Like {@link #resolve(String, String)}, with the caller's route key for sticky routing.
     *
     * @param routeKey the sticky header's value, or null
     */
    default ModelVersion resolve(String model, String version, String routeKey) {
        return resolve(model, version);
    }

    /** @return the header a model's policy routes by, if it has one */
    default java.util.Optional<String> stickyHeader(String model) {
        return java.util.Optional.empty();
    }

    /**
     * @return each installed version's share of the model's unversioned requests right now, in
     *         percent (versions that get none are present with 0), in version order
     */
    default java.util.Map<org.osgi.framework.Version, Double> weights(String model) {
        return java.util.Map.of();
    }

    /**
     * @return whether requests for the model are answered: it is installed, or it is gone for now
     *         and its declared fallback answers for it
     */
    default boolean serves(String model) {
        return models().contains(model);
    }

    /**
     * @return whether Enclave should get traffic: at least one model is installed, every model has a
     *         READY version, and every version its rules send traffic to (stable, pinned, a canary
     *         with a share) is READY, which includes its warm-up
     */
    default boolean ready() {
        return !models().isEmpty();
    }

    /** @return the names of installed models, sorted */
    List<String> models();
}
