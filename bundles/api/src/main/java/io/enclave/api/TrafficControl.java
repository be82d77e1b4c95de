package io.enclave.api;

import java.util.Map;

import org.osgi.framework.Version;

/**
 * Reads and changes the traffic rules of every model. Every change is validated against the
 * installed versions, applies to the next request, is written through ConfigAdmin (factory PID
 * {@link #FACTORY_PID}, e.g. {@code etc/io.enclave.traffic-minilm.cfg}, so it survives restarts and
 * {@code config:edit} works) and is recorded in the audit log with the caller. A change that fails
 * changes nothing. Thread-safe; changes to one model are serialized.
 */
public interface TrafficControl {

    /** Factory PID of the configurations that hold the rules. */
    String FACTORY_PID = "io.enclave.traffic";

    /** @return the current rules; {@link TrafficRules#none(String)} for a model without any */
    TrafficRules rules(String model);

    /** @return the rules of every model that has some, by model name */
    Map<String, TrafficRules> all();

    /**
     * Gives {@code version} {@code percent} of the model's unversioned requests (0 keeps it
     * installed without traffic). Clears a previous rollback mark of that version.
     *
     * @throws ModelNotFoundException unknown model or version
     * @throws InvalidInputException  percent out of range, or the version is the stable one
     */
    TrafficRules canary(String model, Version version, double percent);

    /**
     * Sends a copy of every request to {@code version} (null: stop shadowing).
     *
     * @throws ModelNotFoundException unknown model or version
     */
    TrafficRules shadow(String model, Version version);

    /**
     * Makes the canary the stable version at 100 %; the old stable version is remembered for
     * {@link #rollback}.
     *
     * @throws ConflictException the model has no canary
     */
    TrafficRules promote(String model);

    /**
     * Sends the canary to 0 % and marks it rolled back; without a canary, makes the version that was
     * stable before the last promote stable again.
     *
     * @param reason why, for the audit log and {@code model:info}; null for none
     * @throws ConflictException nothing to roll back to
     */
    TrafficRules rollback(String model, String reason);

    /**
     * Pins every unversioned request to {@code version} (null: unpin).
     *
     * @throws ModelNotFoundException unknown model or version
     */
    TrafficRules pin(String model, Version version);

    /**
     * Replaces the rules wholesale (the management API's PUT). The revision is assigned here.
     *
     * @throws ModelNotFoundException a named version is not installed
     */
    TrafficRules set(TrafficRules rules);
}
