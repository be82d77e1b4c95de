/**
 * Enclave's contracts: models, engines, tensors, routing and the registry of live model versions.
 *
 * <p>This is the only package a bundle may depend on to talk to another Enclave bundle. It carries no
 * engine, transport or security library types, so an engine or a transport can be swapped without
 * touching its consumers.
 */
@Export
@Version("2.9.0")
package io.enclave.api;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
